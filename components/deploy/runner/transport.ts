// Where the deployer's commands run: a Docker host reached over SSH (sshHost.ts) or this
// machine's own engine (LocalHost). Both take argv; neither ever sees shell text from callers.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import * as os from "node:os";
import { Transform, type Readable, type Writable } from "node:stream";
import { resolveDockerHost } from "../../image/dockerDaemon";
import type { Argv } from "../dockerCommands";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Sent whole, then EOF. A stream is piped with backpressure and counted in bytesSent. */
  stdin?: string | Buffer | Readable;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
}

export interface DockerHost {
  /** "deploy@203.0.113.7:22", or "the local Docker engine": for messages. */
  readonly description: string;
  /** Bytes sent to the host's commands on stdin (what shipping an image cost). */
  readonly bytesSent: number;
  run(argv: Argv, opts?: RunOptions): Promise<CommandResult>;
  close(): Promise<void>;
}

/** A command that exited non-zero; the argv holds no secret (secrets only travel on stdin). */
export class HostCommandError extends Error {
  constructor(
    readonly where: string,
    readonly argv: Argv,
    readonly result: CommandResult,
  ) {
    const output = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-20).join("\n");
    super(`on ${where}: \`${argv.join(" ").slice(0, 300)}\` exited ${result.code}${output ? `:\n${output}` : ""}`);
    this.name = "HostCommandError";
  }
}

/**
 * The environment of the local host's commands: DOCKER_HOST names the docker provider's daemon,
 * which makes the docker CLI ignore any `docker context` (DOCKER_CONTEXT, or the current one in
 * ~/.docker/config.json), as the provider does. Otherwise the two could use different engines.
 */
export function localDockerEnv(base: NodeJS.ProcessEnv, dockerHost: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, DOCKER_HOST: dockerHost };
  delete env.DOCKER_CONTEXT;
  return env;
}

/** This machine's engine, the one the docker provider builds on. */
export async function localHost(env: NodeJS.ProcessEnv = process.env): Promise<LocalHost> {
  return new LocalHost((await resolveDockerHost({ env })).address, env);
}

/** This machine's engine. Commands run in the home directory, so relative app folders mean what they mean over SSH. */
export class LocalHost implements DockerHost {
  readonly description = "the local Docker engine";
  bytesSent = 0;
  /** Every command's environment (localDockerEnv). */
  readonly env: NodeJS.ProcessEnv;

  constructor(
    /** unix:///var/run/docker.sock, tcp://…: the docker provider's daemon (resolveDockerHost). */
    readonly dockerHost: string,
    base: NodeJS.ProcessEnv = process.env,
  ) {
    this.env = localDockerEnv(base, dockerHost);
  }

  /** A command whose stdout is read as a stream (`docker save`), against the same daemon. */
  spawn(argv: Argv): ChildProcessByStdio<Writable, Readable, Readable> {
    return spawn(argv[0], argv.slice(1), { cwd: os.homedir(), env: this.env, stdio: ["pipe", "pipe", "pipe"] });
  }

  run(argv: Argv, opts: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(argv);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.on("error", (e) => reject(new Error(`on ${this.description}: cannot run ${argv[0]}: ${e.message}`)));
      child.on("close", (code, signal) => {
        const result = { code: code ?? 128 + (signal ? os.constants.signals[signal] : 0), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
        if (result.code !== 0 && !opts.allowFailure) reject(new HostCommandError(this.description, argv, result));
        else resolve(result);
      });
      // A command that exits without reading its stdin closes the pipe: its exit status tells.
      child.stdin.on("error", () => undefined);
      sendStdin(child.stdin, opts.stdin, (n) => (this.bytesSent += n));
    });
  }

  async close(): Promise<void> {}
}

/** Writes `stdin` to a command's input and ends it; counts what a stream sends. */
export function sendStdin(target: NodeJS.WritableStream, stdin: RunOptions["stdin"], count: (bytes: number) => void): void {
  if (stdin === undefined) {
    target.end();
  } else if (typeof stdin === "string" || Buffer.isBuffer(stdin)) {
    count(Buffer.byteLength(stdin));
    target.end(stdin);
  } else {
    // Counted in a transform: a 'data' listener of its own could take chunks before the pipe does.
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        count(chunk.length);
        done(null, chunk);
      },
    });
    stdin.pipe(counter).pipe(target);
  }
}

/** Runs `work` on a connected host and closes the connection, whatever happens. */
export async function onHost<T>(host: DockerHost, work: (host: DockerHost) => Promise<T>): Promise<T> {
  try {
    return await work(host);
  } finally {
    await host.close();
  }
}
