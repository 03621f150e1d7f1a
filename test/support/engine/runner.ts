// The child process of one `pulumi preview` / `pulumi up` / `pulumi destroy` under the engine
// model. Usage: node --import tsx runner.ts <result-file>, with the RunRequest as JSON on stdin
// (never on the command line: the config holds secrets). It runs in the project directory,
// like the language host and the providers; the program runs as run.js runs it (require, a
// function export is called, the exports become the stack outputs, inside runInPulumiStack).
import * as fs from "node:fs";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { Deployment, STOPPED, StepRecord } from "./deployment";
import { attachEngine } from "./monitor";
import type { PropertyMap } from "./properties";
import type { CloudModel } from "./providers/types";
import { loadState, saveState } from "./state";

export interface RunRequest {
  mode: "preview" | "up" | "destroy";
  project: string;
  stack: string;
  stateFile: string;
  /** Absolute path of the program (index.ts or a fixture). */
  program?: string;
  cwd: string;
  config: Record<string, string>;
  secretKeys: string[];
  /** Absolute path of a module whose default export is a CloudModel. */
  cloud?: string;
}

export interface RunResultFile {
  ok: boolean;
  error?: string;
  steps: StepRecord[];
  outputs: PropertyMap;
  diagnostics: string[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function main(): Promise<void> {
  const resultFile = process.argv[2];
  if (!resultFile) throw new Error("usage: node --import tsx runner.ts <result-file>  (RunRequest JSON on stdin)");
  const req = JSON.parse(fs.readFileSync(0, "utf8")) as RunRequest;
  process.chdir(req.cwd);
  const prev = loadState(req.stateFile, req.project, req.stack);
  const cloud: CloudModel | undefined = req.cloud ? (await import(pathToFileURL(req.cloud).href)).default : undefined;
  const deployment = new Deployment({
    project: req.project,
    stack: req.stack,
    prev,
    preview: req.mode === "preview",
    projectDir: req.cwd,
    env: process.env,
    config: req.config,
    cloud,
    persist: (state) => saveState(req.stateFile, state),
  });
  const errors: string[] = [];
  let written = false;
  const writeResult = () => {
    if (written) return;
    written = true;
    const failure = deployment.failure ? [deployment.failure.message] : [];
    const allErrors = [...new Set([...failure, ...errors])];
    const snapshot = deployment.snapshot();
    if (req.mode !== "preview") saveState(req.stateFile, snapshot);
    const stack = snapshot.resources.find((r) => r.type === "pulumi:pulumi:Stack");
    const result: RunResultFile = {
      ok: allErrors.length === 0,
      error: allErrors.length ? allErrors.join("\n") : undefined,
      steps: deployment.steps,
      outputs: req.mode === "destroy" ? {} : (stack?.outputs ?? {}),
      diagnostics: deployment.diagnostics,
    };
    fs.writeFileSync(resultFile, JSON.stringify(result), { mode: 0o600 });
  };

  if (req.mode === "destroy") {
    await deployment.finish(true).catch((err) => errors.push(message(err)));
    writeResult();
    return;
  }
  if (!req.program) throw new Error("a preview or up needs the program's path");
  pulumi.runtime.setAllConfig(req.config, req.secretKeys);
  const failRegistration = () => {
    throw new Error("the engine model answers registrations itself");
  };
  await pulumi.runtime.setMocks({ newResource: failRegistration, call: failRegistration }, req.project, req.stack, req.mode === "preview");
  attachEngine(pulumi.runtime.getMonitor(), deployment);
  // What the language host does with errors outside the program's main promise (run.js uncaughtHandler).
  // Registrations refused after the first failure only echo it: keep the first failure alone.
  const collect = (err: unknown) => {
    if (!message(err).includes(STOPPED)) errors.push(message(err));
  };
  process.on("unhandledRejection", collect);
  process.on("uncaughtException", collect);
  // After a failed registration its dependents' outputs never settle, so the program never
  // returns and the event loop empties; the real CLI ends the language host then. So does this.
  process.once("beforeExit", () => {
    if (errors.length === 0 && !deployment.failure) errors.push("the program did not finish: some outputs never resolved");
    writeResult();
    process.exit(0);
  });
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = require(req.program!);
      const main = exported.default !== undefined && Object.keys(exported).length === 1 ? exported.default : exported;
      return await (main instanceof Function ? main() : main);
    });
  } catch (err) {
    errors.push(`Running program '${req.program}' failed with an unhandled exception:\n${message(err)}`);
  }
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (pulumi.log.hasErrors()) errors.push("the program logged errors (pulumi.log.error)");
  if (errors.length === 0 && !deployment.failure) await deployment.finish().catch((err) => errors.push(message(err)));
  writeResult();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`engine runner: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
