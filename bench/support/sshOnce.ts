// One command over a fresh SSH connection, like a person typing `ssh host command < input`:
// the product's SSH client (runner/sshHost.ts, host key pinned), connected for that command only.
import type { Readable } from "node:stream";
import { connectSsh } from "../../components/deploy/runner/sshHost";
import type { CommandResult } from "../../components/deploy/runner/transport";
import type { SshConnection } from "./testFixtures";

/** Runs argv (no shell text: every word reaches the server verbatim); returns a non-zero exit instead of throwing. */
export async function sshOnce(conn: SshConnection, argv: string[], o: { stdin?: Readable } = {}): Promise<CommandResult> {
  if (!conn.hostKey) throw new Error(`ssh ${conn.username}@${conn.host}: no host key to pin; expected "ssh-ed25519 AAAA…"`);
  const host = await connectSsh(
    { host: conn.host, port: conn.port, user: conn.username, privateKey: conn.privateKey, hostKey: conn.hostKey },
    { timeoutSeconds: 20, log: (line) => console.error(line) },
  );
  try {
    return await host.run(argv, { stdin: o.stdin, allowFailure: true });
  } finally {
    await host.close();
  }
}
