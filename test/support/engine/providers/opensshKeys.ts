// OpenSSH encodings of a node:crypto key, byte for byte as golang.org/x/crypto/ssh writes them
// (the TLS provider uses it): the public key blob (MarshalAuthorizedKey: "<type> <base64>\n"),
// the openssh-key-v1 private key (MarshalPrivateKey with comment "", cipher "none", padding
// 1,2,3... to 8 bytes), and both fingerprints. Pure: no Pulumi, no I/O.
import { createHash, KeyObject, randomBytes } from "node:crypto";

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const str = (data: Buffer | string) => {
  const b = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([u32(b.length), b]);
};
/** An SSH mpint from unsigned big-endian bytes: no leading zeros, a 0 byte if the top bit is set. */
const mpint = (unsigned: Buffer) => {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  let b = unsigned.subarray(i);
  if (b.length > 0 && b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return str(b);
};
const b64url = (s: string) => Buffer.from(s, "base64url");

const CURVES: Record<string, { ssh: string; size: number }> = {
  "P-256": { ssh: "nistp256", size: 32 },
  "P-384": { ssh: "nistp384", size: 48 },
  "P-521": { ssh: "nistp521", size: 66 },
};

function pad(b: Buffer, size: number): Buffer {
  return b.length >= size ? b : Buffer.concat([Buffer.alloc(size - b.length), b]);
}

/** The key type name and public blob, or undefined when x/crypto/ssh cannot represent it (P-224). */
export function sshPublicBlob(publicKey: KeyObject): { type: string; blob: Buffer } | undefined {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.kty === "RSA") return { type: "ssh-rsa", blob: Buffer.concat([str("ssh-rsa"), mpint(b64url(jwk.e!)), mpint(b64url(jwk.n!))]) };
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return { type: "ssh-ed25519", blob: Buffer.concat([str("ssh-ed25519"), str(b64url(jwk.x!))]) };
  if (jwk.kty === "EC" && CURVES[jwk.crv!]) {
    const c = CURVES[jwk.crv!];
    const type = `ecdsa-sha2-${c.ssh}`;
    const point = Buffer.concat([Buffer.from([4]), pad(b64url(jwk.x!), c.size), pad(b64url(jwk.y!), c.size)]);
    return { type, blob: Buffer.concat([str(type), str(c.ssh), str(point)]) };
  }
  return undefined;
}

export function authorizedKey(publicKey: KeyObject): string {
  const k = sshPublicBlob(publicKey);
  return k ? `${k.type} ${k.blob.toString("base64")}\n` : "";
}

export function fingerprints(publicKey: KeyObject): { md5: string; sha256: string } {
  const k = sshPublicBlob(publicKey);
  if (!k) return { md5: "", sha256: "" };
  const md5 = createHash("md5").update(k.blob).digest("hex").match(/../g)!.join(":");
  const sha256 = "SHA256:" + createHash("sha256").update(k.blob).digest("base64").replace(/=+$/, "");
  return { md5, sha256 };
}

function pemEncode(type: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}

/** ssh.MarshalPrivateKey(key, "") PEM-encoded, or "" when unsupported (P-224). */
export function opensshPrivateKey(privateKey: KeyObject, publicKey: KeyObject): string {
  const pub = sshPublicBlob(publicKey);
  if (!pub) return "";
  const jwk = privateKey.export({ format: "jwk" });
  let keyFields: Buffer;
  if (jwk.kty === "RSA") {
    keyFields = Buffer.concat([mpint(b64url(jwk.n!)), mpint(b64url(jwk.e!)), mpint(b64url(jwk.d!)), mpint(b64url(jwk.qi!)), mpint(b64url(jwk.p!)), mpint(b64url(jwk.q!))]);
  } else if (jwk.kty === "OKP") {
    const x = b64url(jwk.x!);
    keyFields = Buffer.concat([str(x), str(Buffer.concat([b64url(jwk.d!), x]))]);
  } else {
    const c = CURVES[jwk.crv!];
    const point = Buffer.concat([Buffer.from([4]), pad(b64url(jwk.x!), c.size), pad(b64url(jwk.y!), c.size)]);
    keyFields = Buffer.concat([str(c.ssh), str(point), mpint(b64url(jwk.d!))]);
  }
  const check = randomBytes(4);
  let block = Buffer.concat([check, check, str(pub.type), keyFields, str("")]);
  const padding: number[] = [];
  for (let i = 0; (block.length + i) % 8 !== 0; i++) padding.push(i + 1);
  block = Buffer.concat([block, Buffer.from(padding)]);
  const body = Buffer.concat([Buffer.from("openssh-key-v1\0"), str("none"), str("none"), str(""), u32(1), str(pub.blob), str(block)]);
  return pemEncode("OPENSSH PRIVATE KEY", body);
}
