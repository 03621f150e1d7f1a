// One command over a fresh SSH connection (ssh2, the server's host key pinned), like a person
// typing `ssh host 'command' < input`: the login shell parses `command`, and stdin may be a
// stream (a tar of the source). Never throws for a non-zero exit.
import type { Readable } from "node:stream";
import { Client } from "ssh2";
import { hostKeyVerifier, SshConnection } from "../../test/support/ssh/sshServer";

export interface SshRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function sshRun(conn: SshConnection, command: string, o: { stdin?: Readable; timeoutMs?: number } = {}): Promise<SshRunResult> {
  if (!conn.hostKey) throw new Error(`sshRun ${conn.username}@${conn.host}: no host key to pin; expected "ssh-ed25519 AAAA…"`);
  const timeoutMs = o.timeoutMs ?? 10 * 60_000;
  return new Promise((resolve, reject) => {
    const client = new Client();
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`ssh ${conn.username}@${conn.host}: timed out after ${timeoutMs} ms: ${command.slice(0, 200)}`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.end();
      reject(err);
    };
    client.once("error", fail);
    client.once("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) return fail(err);
        let stdout = "";
        let stderr = "";
        let code = -1;
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("exit", (c: number | null) => (code = c ?? -1));
        stream.on("close", () => {
          clearTimeout(timer);
          client.end();
          resolve({ code, stdout, stderr });
        });
        if (o.stdin) {
          o.stdin.once("error", fail);
          o.stdin.pipe(stream);
        } else {
          stream.end();
        }
      });
    });
    client.connect({
      host: conn.host,
      port: conn.port,
      username: conn.username,
      privateKey: conn.privateKey,
      readyTimeout: 20_000,
      hostVerifier: hostKeyVerifier(conn.hostKey!),
    });
  });
}
