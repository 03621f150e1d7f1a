// Helpers for tests that drive the real Docker engine. No mocks here: a missing engine fails the test.
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const EXAMPLE_DIR = path.join(REPO_ROOT, "example");
/** The local stand-in for python:*-slim, built by scripts/ensure-base-image.sh. */
export const BASE_IMAGE = process.env.PYDEPLOY_BASE_IMAGE ?? "pydeploy/python-base:bookworm";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the docker CLI; throws with its output on a non-zero exit unless `allowFailure`. */
export async function docker(
  args: string[],
  opts: { allowFailure?: boolean; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run("docker", args, opts);
}

export async function run(
  cmd: string,
  args: string[],
  opts: {
    allowFailure?: boolean;
    input?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    cwd?: string;
    /** Kills the child when it has not exited graceMs after its stderr matched pattern (a known-failed command that hangs). */
    killAfterStderr?: { pattern: RegExp; graceMs: number };
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd });
    let stdout = "";
    let stderr = "";
    let graceTimer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      const watch = opts.killAfterStderr;
      if (watch && !graceTimer && watch.pattern.test(stderr)) graceTimer = setTimeout(() => child.kill("SIGKILL"), watch.graceMs);
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      const result = { code: code ?? -1, stdout, stderr };
      if (result.code !== 0 && !opts.allowFailure) {
        reject(new Error(`${cmd} ${args.join(" ")} exited ${result.code}\n${stdout}\n${stderr}`));
      } else {
        resolve(result);
      }
    });
    // A child that exits without reading its stdin closes the pipe: its exit status tells the story.
    child.stdin.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") reject(err);
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** Builds the base image when it is missing (needs root and debootstrap the first time). */
export function ensureBaseImage(): void {
  execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-base-image.sh")], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PYDEPLOY_BASE_IMAGE: BASE_IMAGE },
  });
}

/** A name no other test run uses, for containers, images and temp dirs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 250 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
}

export function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

/** Waits until `url` answers 200 and returns the body. */
export function waitForHttp200(url: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`HTTP 200 from ${url}`, async () => {
    const res = await httpGet(url);
    return res.status === 200 ? res.body : undefined;
  }, { timeoutMs });
}

/** The IP of a container on the default bridge, reachable from this host. */
export async function containerIp(name: string): Promise<string> {
  const { stdout } = await docker(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name]);
  const ip = stdout.trim();
  if (!ip) throw new Error(`container ${name} has no IP address`);
  return ip;
}

export { execFileAsync };
