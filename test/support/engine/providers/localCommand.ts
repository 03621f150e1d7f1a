// command:local:Command, as pulumi-command v1.2.1 runs it
// (provider/pkg/provider/local/commandController.go, commandOutputs.go):
// - argv: `interpreter` + command, else /bin/sh -c command; cwd: `dir`, else the provider's cwd;
// - env: the provider's environment + `environment` + PULUMI_COMMAND_STDOUT/STDERR (previous
//   outputs, when non-empty) unless addPreviousOutputInEnv is false;
// - stdin: `stdin` when non-empty, whole, then EOF;
// - stdout/stderr: the outputs, with one trailing newline trimmed;
// - update runs `update ?? create`; delete runs the stored `delete` with the stored state;
// - customTimeouts: the go-provider cancel middleware (middleware/cancel/cancel.go) puts the
//   operation under context.WithTimeout, and exec.CommandContext kills the process (SIGKILL).
import { spawn } from "node:child_process";
import { PropertyMap, revealMap } from "../properties";
import type { ResourceState } from "../state";
import { inferredDiff, optionalString, previewOutputs, runError, trimOneNewline, uniqueHexId } from "./commandCommon";
import type { OperationContext, ProviderModel } from "./types";

const COMPUTED_OUTPUTS = ["stdout", "stderr"];

interface Previous {
  stdout: string;
  stderr: string;
}

async function runLocal(ctx: OperationContext, command: string, state: PropertyMap, previous: Previous): Promise<Previous> {
  const inputs = revealMap(state);
  if (inputs.assetPaths !== undefined || inputs.archivePaths !== undefined) {
    throw new Error(`${ctx.urn}: local.Command assetPaths/archivePaths are not modelled by this harness`);
  }
  const interpreter: string[] = Array.isArray(inputs.interpreter) && inputs.interpreter.length > 0 ? inputs.interpreter : ["/bin/sh", "-c"];
  const env: NodeJS.ProcessEnv = { ...ctx.env, ...(inputs.environment ?? {}) };
  if (inputs.addPreviousOutputInEnv !== false) {
    if (previous.stdout !== "") env.PULUMI_COMMAND_STDOUT = previous.stdout;
    if (previous.stderr !== "") env.PULUMI_COMMAND_STDERR = previous.stderr;
  }
  const stdin = optionalString(inputs.stdin);
  return new Promise((resolve, reject) => {
    const child = spawn(interpreter[0], [...interpreter.slice(1), command], {
      cwd: optionalString(inputs.dir) ?? ctx.projectDir,
      env,
      stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let combined = "";
    let killed = false;
    child.stdout!.on("data", (d: Buffer) => ((stdout += d), (combined += d)));
    child.stderr!.on("data", (d: Buffer) => ((stderr += d), (combined += d)));
    const timer =
      ctx.timeoutMs !== undefined
        ? setTimeout(() => {
            killed = true;
            child.kill("SIGKILL");
          }, ctx.timeoutMs)
        : undefined;
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(runError(err.message, command, combined));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (killed || signal) reject(runError(`signal: ${signal === "SIGKILL" || killed ? "killed" : signal}`, command, combined));
      else if (code !== 0) reject(runError(`exit status ${code}`, command, combined));
      else resolve({ stdout: trimOneNewline(stdout), stderr: trimOneNewline(stderr) });
    });
    if (stdin && child.stdin) {
      child.stdin.on("error", () => undefined); // a command that does not read stdin: its exit status tells
      child.stdin.end(stdin);
    }
  });
}

function previousOf(state: PropertyMap): Previous {
  return { stdout: optionalString(state.stdout) ?? "", stderr: optionalString(state.stderr) ?? "" };
}

export const localCommand: ProviderModel = {
  async check(_ctx, news) {
    return { inputs: news, failures: [] };
  },

  async diff(_ctx, old, news) {
    return inferredDiff(old, news, ["triggers"]);
  },

  async create(ctx, inputs) {
    const id = uniqueHexId(ctx.name);
    if (ctx.preview) return { id, outputs: previewOutputs(inputs, COMPUTED_OUTPUTS), ran: false };
    const create = optionalString(revealMap(inputs).create);
    if (create === undefined) return { id, outputs: { ...inputs, stdout: "", stderr: "" }, ran: false };
    const out = await runLocal(ctx, create, inputs, { stdout: "", stderr: "" });
    return { id, outputs: { ...inputs, ...out }, ran: true, ...out };
  },

  async update(ctx, old: ResourceState, news) {
    if (ctx.preview) return { outputs: previewOutputs(news, COMPUTED_OUTPUTS), ran: false };
    const previous = previousOf(old.outputs);
    const plain = revealMap(news);
    const command = optionalString(plain.update) ?? optionalString(plain.create);
    if (command === undefined) return { outputs: { ...news, ...previous }, ran: false };
    const out = await runLocal(ctx, command, news, previous);
    return { outputs: { ...news, ...out }, ran: true, ...out };
  },

  async delete(ctx, old) {
    const command = optionalString(revealMap(old.outputs).delete);
    if (command === undefined) return { ran: false };
    const out = await runLocal(ctx, command, old.outputs, previousOf(old.outputs));
    return { ran: true, ...out };
  },
};
