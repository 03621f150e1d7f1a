// A lifecycle harness that stands in for the Pulumi engine (no CLI or provider plugin runs here).
// It runs a real program under the SDK's mock runtime, decides per resource what the engine and
// the provider would (create / update / replace / delete / same), and PERFORMS it for real.
//
//   const stack = new EngineStack({
//     stateFile: "/tmp/x/state.json", project: "pydeploy", stack: "s1",
//     program: "/work/main/index.ts",        // or a fixture; run as the language host runs it
//     cwd: "/work/main",                     // the project dir: program and providers run here
//     config: { "pydeploy:target": "existing", "pydeploy:app": {...} },   // objects JSON-encoded
//     secretKeys: ["pydeploy:sshPrivateKey"],
//     env: { ... },                          // extra env for the program and the providers
//     cloud: "/abs/path/mock-cloud.ts",      // default export: CloudModel for alicloud:* (mocked)
//   });
//   const r = await stack.preview();         // or up(), destroy()
//   r.ok, r.error                            // a failed step or program fails the run
//   r.steps    // [{urn, type, name, custom, op, ran, stdout, stderr, ms, error?}] in execution order;
//              // op: same | create | update | create-replacement | delete-replaced | delete |
//              //     remove-pending-replace; ran: the provider executed something
//   r.outputs  // stack outputs in wire form (secrets wrapped: isSecret/reveal; unknown = UNKNOWN)
//   stack.resources()    // stored state: inputs, outputs, options, dependencies, parent, flags
//   stack.plainValues()  // every stored value that is not secret (to prove no secret leaked)
//
// Each run is a fresh child process (runner.ts); the rules it applies are listed, with their
// sources, in deployment.ts and in each providers/*.ts.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { StepRecord } from "./deployment";
import { PropertyMap, reveal as revealWire, Wire } from "./properties";
import type { RunRequest, RunResultFile } from "./runner";
import { loadState, plainValuesOf, ResourceState } from "./state";

export { isSecret, UNKNOWN } from "./properties";

/** A stored or output value with its secrets unwrapped, for assertions. */
export function reveal(v: Wire | undefined): any {
  return v === undefined ? undefined : revealWire(v);
}
export type { StepOp, StepRecord } from "./deployment";
export type { ResourceState } from "./state";
export type { CloudModel } from "./providers/types";

const RUNNER = path.join(__dirname, "runner.ts");
// tsx's main entry registers both its CommonJS and ESM hooks (what `node --import tsx` loads).
const TSX_LOADER = pathToFileURL(require.resolve("tsx")).href;

export interface EngineStackOptions {
  stateFile: string;
  project: string;
  stack: string;
  program: string;
  cwd: string;
  /** "<namespace>:<key>" -> value; non-strings are JSON-encoded as `pulumi config set --path` stores them. */
  config?: Record<string, unknown>;
  secretKeys?: string[];
  env?: Record<string, string>;
  cloud?: string;
  /** Per run; default 10 minutes. */
  timeoutMs?: number;
}

export interface RunResult {
  ok: boolean;
  error?: string;
  steps: StepRecord[];
  outputs: PropertyMap;
  diagnostics: string[];
  /** The child's stdout and stderr (the program's console output, build logs of the runner). */
  log: string;
  ms: number;
}

export class EngineStack {
  constructor(private readonly o: EngineStackOptions) {
    for (const [what, p] of [["program", o.program], ["cwd", o.cwd], ["stateFile", o.stateFile]] as const) {
      if (!path.isAbsolute(p)) throw new Error(`EngineStack: ${what} must be an absolute path, got ${JSON.stringify(p)}`);
    }
    if (o.cloud !== undefined && !path.isAbsolute(o.cloud)) throw new Error(`EngineStack: cloud must be an absolute path, got ${JSON.stringify(o.cloud)}`);
    for (const key of Object.keys(o.config ?? {})) {
      if (!/^[^:]+:.+$/.test(key)) throw new Error(`EngineStack: config key ${JSON.stringify(key)} must look like "<namespace>:<key>"`);
    }
  }

  preview(): Promise<RunResult> {
    return this.run("preview");
  }

  up(): Promise<RunResult> {
    return this.run("up");
  }

  destroy(): Promise<RunResult> {
    return this.run("destroy");
  }

  resources(): ResourceState[] {
    return loadState(this.o.stateFile, this.o.project, this.o.stack).resources;
  }

  plainValues(): string[] {
    return plainValuesOf(loadState(this.o.stateFile, this.o.project, this.o.stack));
  }

  private async run(mode: RunRequest["mode"]): Promise<RunResult> {
    const config = Object.fromEntries(Object.entries(this.o.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const request: RunRequest = {
      mode,
      project: this.o.project,
      stack: this.o.stack,
      stateFile: this.o.stateFile,
      program: this.o.program,
      cwd: this.o.cwd,
      config,
      secretKeys: this.o.secretKeys ?? [],
      cloud: this.o.cloud,
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-engine-run-"));
    const resultFile = path.join(dir, "result.json");
    const started = Date.now();
    try {
      const { code, log } = await new Promise<{ code: number | null; log: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", TSX_LOADER, RUNNER, resultFile], {
          cwd: this.o.cwd,
          env: { ...process.env, ...this.o.env },
          stdio: ["pipe", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), this.o.timeoutMs ?? 10 * 60_000);
        child.on("error", reject);
        child.on("close", (c) => {
          clearTimeout(timer);
          resolve({ code: c, log: output });
        });
        child.stdin.end(JSON.stringify(request));
      });
      if (!fs.existsSync(resultFile)) {
        throw new Error(`engine runner (${mode}) exited ${code} without a result:\n${log.slice(-4000)}`);
      }
      const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as RunResultFile;
      return { ...result, log, ms: Date.now() - started };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
