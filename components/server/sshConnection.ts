// How the deploy reaches a server over SSH. Pure (no Pulumi import); the host key line it pins
// is parsed by config/hostKey.ts.

export interface SshConnection {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The server's public host key, "ssh-ed25519 AAAA…" (type and base64 only): the only key to accept. Absent: any. */
  hostKey?: string;
}
