// The real `pulumi` CLI (built from its Go module by scripts/ensure-pulumi.sh) running the real
// index.ts, as a user runs it: a project folder with Pulumi.yaml, a file backend, a passphrase,
// one stack config file. The docker, command and random plugins it loads are the ones installed in
// ~/.pulumi/plugins (in CI the stand-ins of test/support/engine/plugin).
//
//   const stack = await CliStack.create({ stack: "box", config: {...}, secrets: { "pydeploy:sshPrivateKey": key } });
//   const r = await stack.up();        // preview(), refresh(), destroy()
//   r.ok, r.ops                        // ["demo-image:create", ...] in the order the engine reported them
//   await stack.outputs()              // `pulumi stack output --json`
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT, run, RunResult } from "../docker/localEngine";

export const PULUMI_VERSION: string = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "pulumi", "package.json"), "utf8")).version;
const PULUMI_HOME = process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
export const PULUMI_BIN_DIR = path.join(PULUMI_HOME, "versions", PULUMI_VERSION, "bin");
const PASSPHRASE = "pydeploy-real-engine-tests";
/** What the program needs from the checkout, linked into each test project. */
const PROJECT_LINKS = ["index.ts", "components", "node_modules", "package.json", "tsconfig.json"];

export interface CliRun {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
  /** "<resource name>:<op>" for every custom resource step, in the order the engine reported it. */
  ops: string[];
  /** Diagnostics (info, warning, error) the run printed, with the resource name they belong to. */
  diagnostics: { severity: string; name?: string; message: string }[];
  /** "start:<name>" and "end:<name>" of every custom resource step, in the engine's event order (up only). */
  timeline: string[];
}

export function pulumiBinary(): string {
  const bin = path.join(PULUMI_BIN_DIR, "pulumi");
  if (!fs.existsSync(bin)) throw new Error(`no pulumi CLI at ${bin}: run scripts/ensure-pulumi.sh first (npm test does)`);
  return bin;
}

export class CliStack {
  readonly projectDir: string;
  readonly stateDir: string;

  private constructor(
    readonly stack: string,
    private readonly root: string,
    private readonly env: Record<string, string>,
  ) {
    this.projectDir = path.join(root, "project");
    this.stateDir = path.join(root, "state");
  }

  /** A fresh project folder and file backend, the stack created and its config set. */
  static async create(o: { stack: string; config: Record<string, unknown>; secrets?: Record<string, unknown>; env?: Record<string, string> }): Promise<CliStack> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-real-engine-"));
    const s = new CliStack(o.stack, root, o.env ?? {});
    fs.mkdirSync(s.projectDir);
    fs.mkdirSync(s.stateDir);
    const project = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8").replace(/^(\s*url:\s*).*$/m, `$1file://${s.stateDir}`);
    if (!project.includes(`file://${s.stateDir}`)) throw new Error("Pulumi.yaml has no backend url line to point at the test's state");
    fs.writeFileSync(path.join(s.projectDir, "Pulumi.yaml"), project);
    for (const name of PROJECT_LINKS) fs.symlinkSync(path.join(REPO_ROOT, name), path.join(s.projectDir, name));
    await s.mustRun(["stack", "init", o.stack, "--secrets-provider", "passphrase"]);
    await s.setConfig(o.config, o.secrets ?? {});
    return s;
  }

  /** Sets plain values (objects as JSON, as `pulumi config set --path` stores them) and secrets (on stdin). */
  async setConfig(config: Record<string, unknown>, secrets: Record<string, unknown> = {}): Promise<void> {
    for (const [key, value] of Object.entries(config)) {
      await this.mustRun(["config", "set", key, typeof value === "string" ? value : JSON.stringify(value), "--stack", this.stack]);
    }
    for (const [key, value] of Object.entries(secrets)) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      await this.mustRun(["config", "set", "--secret", key, "--stack", this.stack], text);
    }
  }

  async removeConfig(key: string): Promise<void> {
    await this.mustRun(["config", "rm", key, "--stack", this.stack]);
  }

  preview(): Promise<CliRun> {
    return this.operation(["preview", "--json", "--show-sames"]);
  }

  up(): Promise<CliRun> {
    return this.operation(["up", "--yes", "--skip-preview", "--json"]);
  }

  refresh(): Promise<CliRun> {
    return this.operation(["refresh", "--yes", "--skip-preview", "--json"]);
  }

  destroy(): Promise<CliRun> {
    return this.operation(["destroy", "--yes", "--skip-preview", "--json"]);
  }

  /** The stack outputs; secrets stay "[secret]" unless asked for. */
  async outputs(o: { showSecrets?: boolean } = {}): Promise<Record<string, any>> {
    const r = await this.mustRun(["stack", "output", "--json", ...(o.showSecrets ? ["--show-secrets"] : []), "--stack", this.stack]);
    return JSON.parse(r.stdout);
  }

  /** The stored state as `pulumi stack export` prints it (secrets stay ciphertext). */
  async exportState(): Promise<string> {
    return (await this.mustRun(["stack", "export", "--stack", this.stack])).stdout;
  }

  /** Removes the project folder and the state (after destroy). */
  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Runs the CLI in the project folder; never throws for a non-zero exit. */
  run(args: string[], input?: string): Promise<RunResult> {
    const env = {
      ...process.env,
      PATH: `${PULUMI_BIN_DIR}${path.delimiter}${process.env.PATH ?? ""}`,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      ...this.env,
    };
    return run(pulumiBinary(), [...args, "--non-interactive", "--color", "never"], { cwd: this.projectDir, env, input, allowFailure: true });
  }

  private async mustRun(args: string[], input?: string): Promise<RunResult> {
    const r = await this.run(args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`.slice(0, 8000));
    return r;
  }

  private async operation(args: string[]): Promise<CliRun> {
    const r = await this.run([...args, "--stack", this.stack]);
    return { ok: r.code === 0, ...r, ...parseJsonRun(r.stdout) };
  }
}

/**
 * `--json` prints one document (preview: {steps, diagnostics}) or, for up/refresh/destroy, one
 * engine event a line (resourcePreEvent, resOutputsEvent, diagnosticEvent, ...).
 */
export function parseJsonRun(stdout: string): Pick<CliRun, "ops" | "diagnostics" | "timeline"> {
  const nameOf = (urn?: string) => urn?.split("::").pop();
  const isCustom = (type?: string) => type !== undefined && !type.startsWith("pulumi:") && !type.startsWith("pydeploy:");
  const trimmed = stdout.trim();
  if (trimmed.startsWith("{") && !trimmed.includes("\n{")) {
    const doc = JSON.parse(trimmed) as { steps?: { op: string; urn: string; newState?: { type: string }; oldState?: { type: string } }[]; diagnostics?: { urn?: string; message: string; severity: string }[] };
    return {
      ops: (doc.steps ?? []).filter((s) => isCustom((s.newState ?? s.oldState)?.type)).map((s) => `${nameOf(s.urn)}:${s.op}`),
      diagnostics: (doc.diagnostics ?? []).map((d) => ({ severity: d.severity, name: nameOf(d.urn), message: d.message })),
      timeline: [],
    };
  }
  const ops: string[] = [];
  const timeline: string[] = [];
  const diagnostics: CliRun["diagnostics"] = [];
  for (const line of trimmed.split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line);
    const started = event.resourcePreEvent?.metadata;
    if (started && isCustom(started.type)) timeline.push(`start:${nameOf(started.urn)}`);
    const done = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (done && isCustom(done.type)) {
      ops.push(`${nameOf(done.urn)}:${done.op}`);
      timeline.push(`end:${nameOf(done.urn)}`);
    }
    if (event.diagnosticEvent) {
      const d = event.diagnosticEvent;
      if (!d.ephemeral) diagnostics.push({ severity: d.severity, name: nameOf(d.urn), message: d.message });
    }
  }
  return { ops, diagnostics, timeline };
}

/**
 * The Node SDK logs every RegisterResource/ReadResource response at debug level, outputs and
 * secret values included (@pulumi/pulumi 3.248 runtime/resource.js: "RegisterResource RPC
 * finished: …, resp: …"); `--json` prints those debug events. Where else a run's output holds
 * `secret` (as written, or JSON-escaped as the event stream writes it), and how many SDK debug
 * events hold it.
 */
export function secretInOutput(r: { stdout: string; stderr: string }, secret: string): { elsewhere: string[]; sdkDebugEvents: number } {
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  const holds = (text: string) => forms.some((f) => text.includes(f));
  const elsewhere: string[] = [];
  let sdkDebugEvents = 0;
  for (const line of `${r.stdout}\n${r.stderr}`.split("\n")) {
    if (!holds(line)) continue;
    let event: { diagnosticEvent?: { severity?: string; message?: string } } | undefined;
    try {
      event = line.startsWith("{") ? JSON.parse(line) : undefined;
    } catch {
      event = undefined;
    }
    const d = event?.diagnosticEvent;
    if (d?.severity === "debug" && /^(RegisterResource|ReadResource) RPC (finished|prepared)/.test(d.message ?? "")) sdkDebugEvents++;
    else elsewhere.push(line.slice(0, 200).split(secret).join("<SECRET>"));
  }
  return { elsewhere, sdkDebugEvents };
}
