// The SSH host key line format: `host.hostKey` in the stack config, the key pydeploy generates
// for a new server, and the one the deployer pins. Pure (no Pulumi import).

/** Host key types a `hostKey` line may carry. */
export const HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"] as const;
export type HostKeyType = (typeof HOST_KEY_TYPES)[number];

export class HostKeyError extends Error {}

/**
 * Parses a host key line as `ssh-keyscan` prints it ("203.0.113.7 ssh-ed25519 AAAA…"), as a
 * `.pub` file holds it ("ssh-ed25519 AAAA… comment"), or bare, and returns "type base64".
 * Throws HostKeyError saying what is wrong. The key blob must be a whole key of the named type,
 * which catches a truncated or mixed-up copy.
 */
export function parseHostKeyLine(line: string): { type: HostKeyType; key: string; line: string } {
  const fields = line.trim().split(/\s+/).filter((f) => f !== "");
  const at = fields.findIndex((f) => (HOST_KEY_TYPES as readonly string[]).includes(f));
  if (at < 0) {
    const other = fields.find((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
    throw new HostKeyError(
      other
        ? `key type ${other} is not supported (use ${HOST_KEY_TYPES.join(", ")})`
        : `no key type (${HOST_KEY_TYPES.join(", ")}) in the line`,
    );
  }
  // Before the type, ssh-keyscan and known_hosts put the host name(s): "203.0.113.7", "[host]:2222", "|1|salt|hash".
  if (at > 1 || (at === 1 && !/^(\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+|[A-Za-z0-9.:_\-[\],]+)$/.test(fields[0]))) {
    throw new HostKeyError(`unexpected ${JSON.stringify(fields.slice(0, at).join(" "))} before the key type (expected at most a host name)`);
  }
  const type = fields[at] as HostKeyType;
  const key = fields[at + 1];
  if (key === undefined) throw new HostKeyError(`no key data after ${type}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) throw new HostKeyError(`the key data after ${type} is not base64`);
  const parts = sshStrings(Buffer.from(key, "base64"));
  const embedded = parts?.[0]?.toString("latin1");
  if (embedded !== undefined && embedded !== type && /^[a-z0-9@.-]+$/.test(embedded)) {
    throw new HostKeyError(`the key data is a ${embedded} key, not ${type}`);
  }
  if (!parts || embedded !== type || !WELL_FORMED[type](parts.slice(1))) {
    throw new HostKeyError(`the key data after ${type} is not a whole ${type} public key (truncated?)`);
  }
  return { type, key, line: `${type} ${key}` };
}

/** The wire format (RFC 4253 6.6) is a sequence of length-prefixed strings; undefined when it is not exactly that. */
function sshStrings(blob: Buffer): Buffer[] | undefined {
  const parts: Buffer[] = [];
  for (let at = 0; at < blob.length; ) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    parts.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return parts;
}

// The fields after the type name: RFC 8709 (ed25519), RFC 5656 (ecdsa), RFC 4253 (rsa: e, n).
const WELL_FORMED: Record<HostKeyType, (fields: Buffer[]) => boolean> = {
  "ssh-ed25519": (f) => f.length === 1 && f[0].length === 32,
  "ecdsa-sha2-nistp256": (f) => f.length === 2 && f[0].toString("latin1") === "nistp256" && f[1].length === 65,
  "ssh-rsa": (f) => f.length === 2 && f[1].length >= 128,
};
