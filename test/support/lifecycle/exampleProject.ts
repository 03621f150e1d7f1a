// The program (index.ts) through the engine harness (test/support/engine): a copy of the example
// project to change between runs, stack configs, and readers of what each run did.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineStack, RunResult } from "../engine";
import { BASE_IMAGE, docker, EXAMPLE_DIR, REPO_ROOT } from "../docker/localEngine";

export { isSecret, reveal, UNKNOWN } from "../engine";

/** A throwaway copy of example/ whose code the tests change between `up`s. */
export class ExampleProject {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-lifecycle-app-"));

  constructor() {
    fs.cpSync(EXAMPLE_DIR, this.dir, { recursive: true, filter: (src) => !/[/\\](\.pydeploy|\.dockerignore)$/.test(src) });
  }

  /** demo.__version__, what GET / answers. */
  setVersion(version: string): void {
    this.replace("demo/__init__.py", /^__version__ = .*$/m, `__version__ = ${JSON.stringify(version)}`);
  }

  /** What GET /health answers: 200 (healthy) or e.g. 503 (a broken release). */
  setHealthStatus(status: number): void {
    this.replace("demo/web.py", /self\._reply\(\d+, "(ok|health \d+)\\n"\)/, status === 200 ? 'self._reply(200, "ok\\n")' : `self._reply(${status}, "health ${status}\\n")`);
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private replace(file: string, pattern: RegExp, replacement: string): void {
    const p = path.join(this.dir, file);
    const text = fs.readFileSync(p, "utf8");
    const changed = text.replace(pattern, replacement);
    if (!pattern.test(text)) throw new Error(`could not find ${pattern} in ${p}`);
    fs.writeFileSync(p, changed);
  }
}

/** A unique app name, so parallel runs on the one local engine never share images or containers. */
export function uniqueApp(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

export const WEB_ROLE = { command: ["python", "-m", "demo.web"], port: 8000, healthcheck: { path: "/health", intervalSeconds: 5, startPeriodSeconds: 2 } };
export const WORKER_ROLE = { command: ["python", "-m", "demo.worker"] };

/** The `pydeploy:app` value: the example project, built FROM the local base image. */
export function appValue(o: { name: string; dir: string; publish: number; extra?: Record<string, unknown> }): Record<string, unknown> {
  return {
    name: o.name,
    path: o.dir,
    baseImage: BASE_IMAGE,
    env: { APP_NAME: o.name, WORKER_INTERVAL: "1" },
    roles: { web: { ...WEB_ROLE, publish: o.publish }, worker: WORKER_ROLE },
    ...o.extra,
  };
}

/** index.ts as `pulumi up` runs it, with its state in `stateDir`. */
export function programStack(o: { stateDir: string; stack: string; config: Record<string, unknown>; secretKeys?: string[]; cloud?: string; env?: Record<string, string> }): EngineStack {
  return new EngineStack({
    stateFile: path.join(o.stateDir, `${o.stack}.json`),
    project: "pydeploy",
    stack: o.stack,
    program: path.join(REPO_ROOT, "index.ts"),
    cwd: REPO_ROOT,
    config: o.config,
    secretKeys: o.secretKeys,
    cloud: o.cloud,
    env: o.env,
    timeoutMs: 15 * 60_000,
  });
}

/** "name:op" of the custom resources' steps, in execution order. */
export function ops(r: RunResult): string[] {
  return r.steps.filter((s) => s.custom).map((s) => `${s.name}:${s.op}`);
}

/** The steps that executed something (a build, a command), by name. */
export function ran(r: RunResult): string[] {
  return r.steps.filter((s) => s.ran).map((s) => s.name);
}

/** Fails with the run's error and the end of its log when it did not succeed. */
export function mustSucceed(r: RunResult, what: string): RunResult {
  if (!r.ok) throw new Error(`${what} failed: ${r.error}\n--- log ---\n${r.log.slice(-5000)}`);
  return r;
}

/** What a step printed (stdout then stderr). */
export function stepOutput(r: RunResult, name: string): string {
  const s = r.steps.find((x) => x.name === name && x.ran);
  return s ? `${s.stdout ?? ""}${s.stderr ?? ""}` : "";
}

/**
 * Removes every local image tag of the app (its image and its proxy's, under any repository:
 * pydeploy/<app>, a test registry's <server>/ns/<app>, the local target's server tags): the
 * docker provider deletes no image, so a test run would otherwise leave them behind.
 */
export async function removeAppImages(app: string): Promise<void> {
  const refs = (await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])).stdout.split("\n");
  const mine = refs.filter((r) => new RegExp(`(^|/)${app}(-proxy)?:`).test(r));
  if (mine.length) await docker(["image", "rm", "--force", ...mine], { allowFailure: true });
}

/** Removes every tag and the image itself from the local engine (as `docker image prune` would). */
export async function removeLocalImage(ref: string): Promise<void> {
  const id = (await docker(["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
  await docker(["image", "rm", "--force", id]);
}

/**
 * The gzip'd size of an image's last layer, read with the system's tar from a `docker save`
 * (not with the product's archive code): what a code-only change has to ship at least.
 */
export async function lastLayerGzipSize(ref: string): Promise<number> {
  const [last] = await layerGzipSizes(ref, -1);
  return last;
}

/**
 * The gzip'd size of the layers an image has above the test base image (BASE_IMAGE): what a
 * server that pulled the base from a mirror still needs.
 */
export async function gzipSizeAboveBase(ref: string): Promise<number> {
  const baseLayers = (JSON.parse((await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", BASE_IMAGE])).stdout) as string[]).length;
  return (await layerGzipSizes(ref, baseLayers)).reduce((a, b) => a + b, 0);
}

/** The gzip'd size of an image's layers from index `from` on (negative: from the top), bottom first, read the same way. */
export async function layerGzipSizes(ref: string, from = 0): Promise<number[]> {
  const { execFileSync } = await import("node:child_process");
  const { gzipSync } = await import("node:zlib");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-layer-"));
  try {
    execFileSync("sh", ["-c", 'docker save "$1" | tar -x -C "$2"', "sh", ref, dir]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { Layers: string[] }[];
    // Only the layers asked for are compressed: the base alone is over 200 MB.
    return manifest[0].Layers.slice(from).map((layer) => gzipSync(fs.readFileSync(path.join(dir, layer))).length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The ship step's result for the app's image: what it did and how many bytes it sent to the host. */
export function shipResult(r: RunResult, app: string, which: "app" | "proxy" = "app"): { action: string; bytesSent: number } {
  const out = stepOutput(r, `${app}-ship`);
  const line = out.split("\n").reverse().find((l) => l.startsWith("pydeploy-result: "));
  if (!line) throw new Error(`the ship step printed no result:\n${out}`);
  return JSON.parse(line.slice("pydeploy-result: ".length))[which];
}

/** Asserts the custom steps' ops as a set, and that each `[a, b]` pair ran a before b (dependencies). */
export function assertSteps(r: RunResult, expected: string[], order: [string, string][], what: string): void {
  const actual = ops(r);
  if (JSON.stringify([...actual].sort()) !== JSON.stringify([...expected].sort())) {
    throw new Error(`${what}: steps ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)} (in any order)`);
  }
  for (const [a, b] of order) {
    const ia = actual.findIndex((o) => o.startsWith(`${a}:`));
    const ib = actual.findIndex((o) => o.startsWith(`${b}:`));
    if (ia < 0 || ib < 0 || ia > ib) throw new Error(`${what}: ${a} must come before ${b}: ${JSON.stringify(actual)}`);
  }
}
