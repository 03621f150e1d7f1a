// The Docker daemon the docker provider builds on, found the way it finds it (pulumi-docker
// provider/image.go configureDockerClient): the `docker:host` config, else DOCKER_HOST, else
// the default socket and, when that does not answer, Docker Desktop's sockets in the home
// directory. It ignores `docker context`, which the docker CLI follows: so the deployer runs
// its docker commands with DOCKER_HOST set to this address, and the program checks it answers.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";
/** The provider's Configure pings the daemon; this one is as quick. */
export const PING_TIMEOUT_MS = 3000;

export interface DockerHostCandidates {
  /** Configured (docker:host or DOCKER_HOST): the provider tries nothing else. */
  explicit: boolean;
  /** In the order the provider tries them. */
  addresses: string[];
}

export function dockerHostCandidates(env: NodeJS.ProcessEnv, home: string, configuredHost?: string): DockerHostCandidates {
  const explicit = configuredHost || env.DOCKER_HOST;
  if (explicit) return { explicit: true, addresses: [explicit] };
  return { explicit: false, addresses: [DEFAULT_DOCKER_HOST, `unix://${home}/.docker/run/docker.sock`, `unix://${home}/.docker/desktop/docker.sock`] };
}

/** "answered", or why not; "unchecked" for what only the docker CLI can dial (ssh://). */
export type PingResult = { status: "answered" } | { status: "failed"; error: string } | { status: "unchecked" };

/** GET /_ping over the unix socket or TCP (TLS when DOCKER_CERT_PATH is set, as the Docker client does). */
export function pingDocker(address: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = PING_TIMEOUT_MS): Promise<PingResult> {
  const target = requestTarget(address, env);
  if (!target) return Promise.resolve({ status: "unchecked" });
  return new Promise((resolve) => {
    const done = (r: PingResult) => {
      req.destroy();
      resolve(r);
    };
    // No keep-alive agent: the socket closes with the answer, and the process can exit.
    const req = target.get({ ...target.options, path: "/_ping", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      done(code >= 200 && code < 300 ? { status: "answered" } : { status: "failed", error: `GET /_ping answered HTTP ${code}` });
    });
    req.on("timeout", () => done({ status: "failed", error: `no answer within ${timeoutMs / 1000}s` }));
    req.on("error", (err) => done({ status: "failed", error: err.message }));
  });
}

type Target = { get: typeof http.get; options: http.RequestOptions | https.RequestOptions };

function requestTarget(address: string, env: NodeJS.ProcessEnv): Target | undefined {
  const url = URL.canParse(address) ? new URL(address) : undefined;
  if (url?.protocol === "unix:") return { get: http.get, options: { socketPath: url.pathname } };
  if (url?.protocol !== "tcp:" && url?.protocol !== "http:" && url?.protocol !== "https:") return undefined;
  const host = { hostname: url.hostname.replace(/^\[|\]$/g, ""), port: url.port || (env.DOCKER_CERT_PATH ? 2376 : 2375) };
  const certs = env.DOCKER_CERT_PATH;
  if (!certs && url.protocol !== "https:") return { get: http.get, options: host };
  const read = (file: string) => (certs && fs.existsSync(path.join(certs, file)) ? fs.readFileSync(path.join(certs, file)) : undefined);
  return { get: https.get, options: { ...host, ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem"), rejectUnauthorized: Boolean(env.DOCKER_TLS_VERIFY) } };
}

export interface ResolvedDockerHost {
  /** What the provider uses: the first address that answered, else the first it tried. */
  address: string;
  /** It answered, or it is one only the docker CLI can dial (ssh://). */
  usable: boolean;
  /** Every address tried, with why it did not answer. */
  tried: { address: string; result: PingResult }[];
}

/** The provider's daemon: the configured one, or the first of the defaults that answers. */
export async function resolveDockerHost(
  o: { env?: NodeJS.ProcessEnv; home?: string; configuredHost?: string; ping?: (address: string) => Promise<PingResult> } = {},
): Promise<ResolvedDockerHost> {
  const env = o.env ?? process.env;
  const ping = o.ping ?? ((a: string) => pingDocker(a, env));
  const { addresses } = dockerHostCandidates(env, o.home ?? env.HOME ?? "", o.configuredHost);
  const tried: ResolvedDockerHost["tried"] = [];
  for (const address of addresses) {
    const result = await ping(address);
    tried.push({ address, result });
    if (result.status !== "failed") return { address, usable: true, tried };
  }
  return { address: addresses[0], usable: false, tried };
}

/** The message when the daemon does not answer: where, why it matters, how to fix it. */
export function daemonDownMessage(resolved: ResolvedDockerHost): string {
  const where = resolved.tried.map((t) => `${t.address} (${t.result.status === "failed" ? t.result.error : t.result.status})`).join(", nor at ");
  return (
    `the Docker daemon does not answer at ${where}. ` +
    `Every pulumi preview, up and destroy needs it: the docker provider pings it before anything else, even when nothing is built. ` +
    `Start Docker, or point DOCKER_HOST (or the docker:host config) at a daemon that runs; the docker provider ignores \`docker context\`.`
  );
}

export class DockerDaemonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerDaemonError";
  }
}

const CHECK_SCRIPT = path.join(__dirname, "dockerDaemonCheck.ts");

/**
 * Throws DockerDaemonError unless the provider's daemon answers. Synchronous, so the program
 * can call it before it registers any resource: the ping runs in a child Node process.
 */
export function checkDockerDaemon(o: { env?: NodeJS.ProcessEnv; configuredHost?: string } = {}): ResolvedDockerHost {
  const env = o.env ?? process.env;
  const child = spawnSync(process.execPath, ["--import", "tsx", CHECK_SCRIPT, o.configuredHost ?? ""], {
    env,
    // The project root, where `tsx` resolves (as for the deploy steps).
    cwd: path.join(__dirname, "..", ".."),
    encoding: "utf8",
    timeout: 4 * PING_TIMEOUT_MS + 10_000,
  });
  let resolved: ResolvedDockerHost;
  try {
    resolved = JSON.parse(child.stdout) as ResolvedDockerHost;
  } catch {
    throw new Error(`could not check the Docker daemon (${child.error?.message ?? `exit ${child.status}`}): ${child.stderr.trim()}`);
  }
  if (!resolved.usable) throw new DockerDaemonError(daemonDownMessage(resolved));
  return resolved;
}
