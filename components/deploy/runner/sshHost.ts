// A Docker host over SSH (ssh2, the library @pulumi/command's Go provider mirrors): one
// connection per step, one channel per command. The server's host key is checked against the
// pinned one before authenticating, so nothing (key, env, password) reaches an impostor.
import { createHash } from "node:crypto";
import { Client, ConnectConfig } from "ssh2";
import { HostKeyError, parseHostKeyLine } from "../../config/hostKey";
import { singleQuote } from "../../shell";
import type { Argv } from "../dockerCommands";
import { CommandResult, DockerHost, HostCommandError, RunOptions, sendStdin } from "./transport";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** "ssh-ed25519 AAAA… [comment]": the only key accepted. Absent: any key (with a warning). */
  hostKey?: string;
}

export interface ConnectOptions {
  /** Keep dialling a host that refuses or does not answer for this long (a new server boots). */
  timeoutSeconds: number;
  log: (line: string) => void;
}

/** The type and raw blob of a pinned host key line (the format check is the config's). */
export function parseHostKey(line: string): { type: string; blob: Buffer } {
  try {
    const { type, key } = parseHostKeyLine(line);
    return { type, blob: Buffer.from(key, "base64") };
  } catch (err) {
    if (err instanceof HostKeyError) throw new Error(`the pinned host key is not usable: ${err.message}`);
    throw err;
  }
}

/** OpenSSH's SHA256 fingerprint, as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

// The signature algorithms that use each key type: the server must present the pinned key.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
};

const RETRYABLE = /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EAI_AGAIN|ENOTFOUND|Timed out while waiting for handshake|Connection lost before handshake|socket hang up/;

/** The host did not answer (refused, timed out, no route) for the whole connect timeout. */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreachableError";
  }
}

export async function connectSsh(target: SshTarget, options: ConnectOptions): Promise<SshHost> {
  const where = `${target.user}@${target.host}:${target.port}`;
  const pinned = target.hostKey ? parseHostKey(target.hostKey) : undefined;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let lastReport = 0;
  for (let attempt = 1; ; attempt++) {
    let presented: Buffer | undefined;
    const client = new Client();
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: Math.max(1000, Math.min(15_000, deadline - Date.now())),
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return pinned === undefined || key.equals(pinned.blob);
      },
      ...(pinned ? { algorithms: { serverHostKey: (HOST_KEY_ALGORITHMS[pinned.type] ?? [pinned.type]) as never } } : {}),
    };
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("ready", resolve);
        client.once("error", reject);
        client.connect(config);
      });
      if (!pinned && presented) {
        options.log(`warning: the host key of ${where} is not pinned, so any server answering there is trusted; it presented ${fingerprint(presented)}. Pin it (host.hostKey, the line \`ssh-keyscan ${target.host}\` prints).`);
      }
      return new SshHost(client, where);
    } catch (err) {
      // The abandoned client may still emit (a socket error as it closes): without a listener
      // that would be an uncaught 'error' and end the deployer.
      client.on("error", () => undefined);
      client.end();
      const message = (err as Error).message ?? String(err);
      if (pinned && presented && !presented.equals(pinned.blob)) {
        throw new Error(`SSH host key mismatch for ${where}: expected ${pinned.type} ${fingerprint(pinned.blob)}, the server presented ${fingerprint(presented)}. Nothing was sent. If the server was rebuilt, update the pinned host key; otherwise something else answers at that address.`);
      }
      if ((err as { level?: string }).level === "client-authentication") {
        throw new Error(`SSH authentication failed for ${where}: the server refused the private key (check the key and the user)`);
      }
      if (!RETRYABLE.test(message)) throw new Error(`SSH to ${where} failed: ${message}`);
      if (Date.now() >= deadline) {
        throw new UnreachableError(`cannot reach ${where} over SSH after ${attempt} attempt(s) in ${options.timeoutSeconds}s: ${message}`);
      }
      if (Date.now() - lastReport > 30_000) {
        options.log(`waiting for SSH on ${where} (${message})`);
        lastReport = Date.now();
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export class SshHost implements DockerHost {
  bytesSent = 0;

  constructor(
    private readonly client: Client,
    readonly description: string,
  ) {
    // After the connect, a dropped connection shows as a failed command (its channel closes);
    // the client's own 'error' must not go uncaught.
    client.on("error", () => undefined);
  }

  run(argv: Argv, opts: RunOptions = {}): Promise<CommandResult> {
    // The login shell parses the line: every word single-quoted, so it is taken verbatim.
    const line = argv.map(singleQuote).join(" ");
    return new Promise((resolve, reject) => {
      this.client.exec(line, (err, stream) => {
        if (err) {
          reject(new Error(`on ${this.description}: cannot start \`${argv[0]}\`: ${err.message}`));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | undefined;
        let signal: string | undefined;
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => errOut.push(d));
        stream.on("exit", (c: number | null, s?: string) => {
          code = c ?? undefined;
          signal = s;
        });
        stream.on("close", () => {
          const result = {
            code: code ?? (signal ? 128 : 255),
            stdout: Buffer.concat(out).toString(),
            // ssh2 names the signal with its SIG prefix already (lib/client.js: `SIG${data.signal}`).
            stderr: Buffer.concat(errOut).toString() + (signal ? `\n(killed by ${signal.startsWith("SIG") ? signal : `SIG${signal}`})` : ""),
          };
          if (result.code !== 0 && !opts.allowFailure) reject(new HostCommandError(this.description, argv, result));
          else resolve(result);
        });
        sendStdin(stream, opts.stdin, (n) => (this.bytesSent += n));
      });
    });
  }

  async close(): Promise<void> {
    this.client.end();
  }
}
