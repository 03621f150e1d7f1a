// SSH as pulumi-command v1.2.1's remote resources use it (provider/pkg/provider/remote/
// connection.go, commandOutputs.go), over the ssh2 package:
// - dial: up to dialErrorLimit failed dials (default 10, -1 unlimited; the limit is hit when
//   dials > limit, and the error says "after <limit> failed attempts: ..."), each bounded by
//   perDialTimeout seconds (default 15, 0 = none), retried with retry.Until's backoff (100 ms,
//   x1.5, at most 5 s); the operation's customTimeouts deadline ends the loop;
// - hostKey set: only that key (and its algorithm) is accepted; unset: any host key;
// - auth: privateKey (with privateKeyPassword), password (also keyboard-interactive), and the
//   agent at agentSocketPath or $SSH_AUTH_SOCK;
// - a command's session: one Setenv per variable, each answered by the server BEFORE the
//   command starts (Go's session.Setenv waits for the reply), then stdin whole, then Run.
import * as fs from "node:fs";
import { Client, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import { optionalString } from "./commandCommon";
import type { OperationContext } from "./types";

export interface Connection {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  dialErrorLimit: number;
  perDialTimeout: number;
  hostKey?: string;
}

/** The connection input (revealed) with the provider's defaults (connection.go Annotate). */
export function connectionOf(raw: any, urn: string): Connection {
  if (!raw || typeof raw !== "object") throw new Error(`${urn}: connection is required`);
  if (raw.proxy !== undefined && raw.proxy !== null) throw new Error(`${urn}: connection.proxy is not modelled by this harness`);
  if (typeof raw.host !== "string" || raw.host === "") throw new Error(`${urn}: connection.host must be a non-empty string`);
  return {
    host: raw.host,
    port: typeof raw.port === "number" ? raw.port : 22,
    user: optionalString(raw.user) ?? "root",
    password: optionalString(raw.password),
    privateKey: optionalString(raw.privateKey),
    privateKeyPassword: optionalString(raw.privateKeyPassword),
    agentSocketPath: optionalString(raw.agentSocketPath),
    dialErrorLimit: typeof raw.dialErrorLimit === "number" ? raw.dialErrorLimit : 10,
    perDialTimeout: typeof raw.perDialTimeout === "number" ? raw.perDialTimeout : 15,
    hostKey: optionalString(raw.hostKey),
  };
}

function parseAuthorizedKey(line: string): { type: string; blob: Buffer } {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error(`failed to parse host key: expected "<type> <base64>", got ${JSON.stringify(line.slice(0, 40))}`);
  return { type, blob: Buffer.from(b64, "base64") };
}

function dialOnce(c: Connection, ctx: OperationContext): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const expected = c.hostKey ? parseAuthorizedKey(c.hostKey) : undefined;
    const agent = c.agentSocketPath ?? optionalString(ctx.env.SSH_AUTH_SOCK);
    const config: ConnectConfig = {
      host: c.host,
      port: c.port,
      username: c.user,
      privateKey: c.privateKey,
      passphrase: c.privateKeyPassword,
      password: c.password,
      tryKeyboard: c.password !== undefined,
      agent: agent && fs.existsSync(agent) ? agent : undefined,
      readyTimeout: c.perDialTimeout > 0 ? c.perDialTimeout * 1000 : 2 ** 31 - 1,
      hostVerifier: expected ? (key: Buffer) => key.equals(expected.blob) : () => true,
      algorithms: expected ? { serverHostKey: [expected.type as any] } : undefined,
    };
    if (c.password !== undefined) {
      client.on("keyboard-interactive", (_n, _i, _l, prompts, finish) => finish(prompts.map(() => c.password!)));
    }
    client.once("ready", () => resolve(client));
    client.once("error", (err: Error) => {
      client.end();
      reject(/verification failed/i.test(err.message) ? new Error("ssh: handshake failed: ssh: host key mismatch") : err);
    });
    client.connect(config);
  });
}

/** Connection.Dial with dialWithRetry. */
export async function dial(c: Connection, ctx: OperationContext): Promise<Client> {
  const deadline = ctx.timeoutMs !== undefined ? Date.now() + ctx.timeoutMs : Infinity;
  let delay = 100;
  for (let attempt = 0; ; attempt++) {
    try {
      return await dialOnce(c, ctx);
    } catch (err) {
      const dials = attempt + 1;
      if (c.dialErrorLimit > -1 && dials > c.dialErrorLimit) {
        throw new Error(`after ${attempt} failed attempts: ${(err as Error).message}`);
      }
      if (Date.now() + delay > deadline) throw new Error("context deadline exceeded");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 1.5, 5000);
    }
  }
}

export interface SessionResult {
  stdout: string;
  stderr: string;
  combined: string;
  /** Go's ExitError text, or undefined on exit status 0. */
  failure?: string;
}

/** A variable to Setenv: a rejected `hard` one fails before the command runs, others only warn. */
export interface SetenvRequest {
  name: string;
  value: string;
  hard: boolean;
}

/**
 * One session: Setenv (each with a reply, as Go's session.Setenv), stdin, Run. ssh2's exec
 * sends env requests without asking for a reply, so the server's refusal (no AcceptEnv) would
 * go unseen; this sends them itself on the channel ssh2 opened, waits for each answer, and
 * only then sends the exec request. It relies on ssh2 1.x internals (Channel._callbacks,
 * client._protocol, client._chanMgr), checked at 1.17.0.
 */
export function runSession(client: Client, command: string, setenv: SetenvRequest[], stdin: string | undefined, warn: (m: string) => void): Promise<SessionResult> {
  return new Promise((resolve, reject) => {
    const protocol = (client as any)._protocol;
    const originalExec = protocol.exec;
    protocol.exec = (remoteId: number, cmd: string, wantReply: boolean) => {
      protocol.exec = originalExec;
      const channel = findChannel(client, remoteId);
      const execCallback = channel._callbacks.pop();
      const answers: Promise<boolean>[] = setenv.map(
        (v) =>
          new Promise<boolean>((answer) => {
            channel._callbacks.push((hadError: unknown) => answer(!hadError));
            protocol.env(remoteId, v.name, v.value, true);
          }),
      );
      void Promise.all(answers).then((accepted) => {
        for (let i = 0; i < setenv.length; i++) {
          if (accepted[i]) continue;
          const message = `Unable to set '${setenv[i].name}'. This only works if your SSH server is configured to accept these variables via AcceptEnv.`;
          if (setenv[i].hard) {
            channel.close();
            reject(new Error(`could not set environment variable ${JSON.stringify(setenv[i].name)}: ssh: setenv failed`));
            return;
          }
          warn(message);
        }
        channel._callbacks.push(execCallback);
        originalExec.call(protocol, remoteId, cmd, wantReply);
      });
    };
    client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
      protocol.exec = originalExec;
      if (err) return reject(err);
      let stdout = "";
      let stderr = "";
      let combined = "";
      let code: number | null = null;
      let signal: string | undefined;
      stream.on("data", (d: Buffer) => ((stdout += d), (combined += d)));
      stream.stderr.on("data", (d: Buffer) => ((stderr += d), (combined += d)));
      stream.on("exit", (c: number | null, s?: string) => ((code = c), (signal = s ?? undefined)));
      stream.on("close", () => {
        let failure: string | undefined;
        if (signal) failure = `Process exited with signal ${signal}`;
        else if (code === null) failure = "wait: remote command exited without exit status or exit signal";
        else if (code !== 0) failure = `Process exited with status ${code}`;
        resolve({ stdout, stderr, combined, failure });
      });
      if (stdin) stream.end(stdin);
      else stream.end();
    });
  });
}

function findChannel(client: Client, remoteId: number): any {
  const channels = (client as any)._chanMgr._channels as Record<string, any>;
  for (const ch of Object.values(channels)) {
    if (ch && typeof ch === "object" && ch.outgoing && ch.outgoing.id === remoteId) return ch;
  }
  throw new Error(`ssh2 internals changed: no open channel with remote id ${remoteId}`);
}

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}
