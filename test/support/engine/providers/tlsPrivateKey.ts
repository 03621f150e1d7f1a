// tls:index/privateKey:PrivateKey, as terraform-provider-tls generates it
// (internal/provider/resource_private_key.go, common_key.go), with real keys from node:crypto:
// - inputs algorithm (RSA | ECDSA | ED25519), rsaBits (default 2048), ecdsaCurve (default
//   P224); every input RequiresReplace, so any change replaces;
// - privateKeyPem: PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY" for
//   ED25519; privateKeyPemPkcs8; privateKeyOpenssh ("" for P224, which x/crypto/ssh lacks);
// - publicKeyPem (PKIX), publicKeyOpenssh = ssh.MarshalAuthorizedKey, so it ENDS WITH "\n"
//   ("" for P224); both fingerprints; id = sha1 hex of the PKIX DER (hashForState);
// - the SDK marks the private outputs secret (additionalSecretOutputs in privateKey.js).
import { createHash, generateKeyPairSync, KeyObject } from "node:crypto";
import { detailedDiff, PropertyMap, revealMap } from "../properties";
import { authorizedKey, fingerprints, opensshPrivateKey } from "./opensshKeys";
import type { CheckFailure, ProviderModel } from "./types";

const ALGORITHMS = ["RSA", "ECDSA", "ED25519"];
const CURVES: Record<string, string> = { P224: "P-224", P256: "P-256", P384: "P-384", P521: "P-521" };

function generate(algorithm: string, rsaBits: number, curve: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (algorithm === "RSA") return generateKeyPairSync("rsa", { modulusLength: rsaBits });
  if (algorithm === "ECDSA") return generateKeyPairSync("ec", { namedCurve: CURVES[curve] });
  return generateKeyPairSync("ed25519");
}

export const tlsPrivateKey: ProviderModel = {
  async check(_ctx, news) {
    const inputs: PropertyMap = { rsaBits: 2048, ecdsaCurve: "P224", ...news };
    const plain = revealMap(inputs);
    const failures: CheckFailure[] = [];
    if (typeof plain.algorithm === "string" && !ALGORITHMS.includes(plain.algorithm)) {
      failures.push({ property: "algorithm", reason: `Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: ${JSON.stringify(plain.algorithm)}` });
    }
    if (typeof plain.ecdsaCurve === "string" && !(plain.ecdsaCurve in CURVES)) {
      failures.push({ property: "ecdsaCurve", reason: `Attribute ecdsa_curve value must be one of: ["P224" "P256" "P384" "P521"], got: ${JSON.stringify(plain.ecdsaCurve)}` });
    }
    return { inputs, failures };
  },

  async diff(_ctx, old, news) {
    const detailed = detailedDiff(old.inputs, news);
    return { detailed, replacePaths: [...detailed.keys()] };
  },

  async create(ctx, inputs) {
    if (ctx.preview) return { id: "", outputs: inputs, ran: false };
    const plain = revealMap(inputs);
    const { privateKey, publicKey } = generate(plain.algorithm, plain.rsaBits, plain.ecdsaCurve);
    const der = publicKey.export({ type: "spki", format: "der" });
    const privateKeyPem =
      plain.algorithm === "RSA"
        ? privateKey.export({ type: "pkcs1", format: "pem" })
        : plain.algorithm === "ECDSA"
          ? privateKey.export({ type: "sec1", format: "pem" })
          : privateKey.export({ type: "pkcs8", format: "pem" });
    const fp = fingerprints(publicKey);
    const id = createHash("sha1").update(trimSpace(der)).digest("hex");
    return {
      id,
      ran: true,
      outputs: {
        ...inputs,
        privateKeyPem: String(privateKeyPem),
        privateKeyPemPkcs8: String(privateKey.export({ type: "pkcs8", format: "pem" })),
        privateKeyOpenssh: opensshPrivateKey(privateKey, publicKey),
        publicKeyPem: String(publicKey.export({ type: "spki", format: "pem" })),
        publicKeyOpenssh: authorizedKey(publicKey),
        publicKeyFingerprintMd5: fp.md5,
        publicKeyFingerprintSha256: fp.sha256,
      },
    };
  },

  async update(ctx) {
    throw new Error(`${ctx.urn}: tls.PrivateKey has no update (every input change replaces)`);
  },

  async delete() {
    return { ran: false };
  },
};

/** strings.TrimSpace on the DER bytes, as hashForState does. */
function trimSpace(b: Buffer): Buffer {
  const ws = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
  let s = 0;
  let e = b.length;
  while (s < e && ws.has(b[s])) s++;
  while (e > s && ws.has(b[e - 1])) e--;
  return b.subarray(s, e);
}
