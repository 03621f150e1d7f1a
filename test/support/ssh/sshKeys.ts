// SSH key pairs for tests. ssh2 1.17's generateKeyPairSync strips every leading zero byte of an
// ed25519 public key (lib/keygen.js, "Remove leading zero bytes"), so about one key in 340 comes
// out 31 bytes long and ssh2 itself then refuses it: "Malformed OpenSSH private key".
import { utils } from "ssh2";

export interface SshKeyPair {
  /** OpenSSH private key ("-----BEGIN OPENSSH PRIVATE KEY-----…"). */
  private: string;
  /** authorized_keys line ("ssh-ed25519 AAAA… comment"). */
  public: string;
}

const MAX_ATTEMPTS = 20;

/** A key pair that ssh2 parses back, private and public half alike. */
export function generateSshKeyPair(type: "ed25519" | "rsa" = "ed25519", comment?: string): SshKeyPair {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const pair = type === "rsa"
      ? utils.generateKeyPairSync("rsa", { bits: 2048, ...(comment ? { comment } : {}) })
      : utils.generateKeyPairSync("ed25519", comment ? { comment } : {});
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error(`ssh2 generated ${MAX_ATTEMPTS} unparsable ${type} key pairs in a row`);
}
