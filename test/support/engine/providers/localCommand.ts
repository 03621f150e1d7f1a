// command:local:Command, as pulumi-command v1.2.1 runs it
// (provider/pkg/provider/local/commandController.go, commandOutputs.go). The engine that drives
// it in CI is the CLI's (pulumi v3.259.0), not the SDK's (3.248).
// - argv: `interpreter` + command, else /bin/sh -c command; cwd: `dir`, else the provider's cwd
//   (commandOutputs.go:41-51,73-80);
// - env: the provider's environment + `environment` + PULUMI_COMMAND_STDOUT/STDERR (previous
//   outputs, when non-empty) unless addPreviousOutputInEnv is false (commandOutputs.go:81-95);
// - stdin: `stdin` when non-empty, whole, then EOF (commandOutputs.go:97-99);
// - stdout/stderr: the outputs, with one trailing newline trimmed (commandOutputs.go:142-143);
// - a failure is "%w: running %q:\n<stdout and stderr interleaved>" (commandOutputs.go:112-113);
// - `logging` (unset: both streams) feeds each line to a bufio.Scanner: a logged line of 64 KiB
//   or more hangs the real provider forever; this model fails instead (ScannerWatch);
// - update runs `update ?? create`; delete runs the stored `delete` with the stored state
//   (commandController.go:67-99);
// - customTimeouts: the go-provider cancel middleware (middleware/cancel/cancel.go) puts the
//   operation under context.WithTimeout, and exec.CommandContext kills the process (SIGKILL).
import { spawn } from "node:child_process";
import { PropertyMap, revealMap } from "../properties";
import { inferredDiff, loggedStreams, optionalString, runError, ScannerWatch, scannerHangError, trimOneNewline, CommandOutput, createCommand, deleteCommand, updateCommand } from "./commandCommon";
import type { OperationContext, ProviderModel } from "./types";

/** How long a line past the scanner's limit may take to end, so the error can give its length. */
const OVERLONG_LINE_GRACE_MS = 1000;


async function runLocal(ctx: OperationContext, command: string, state: PropertyMap, previous: CommandOutput): Promise<CommandOutput> {
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
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const combined: Buffer[] = [];
    const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString("utf8");
    let killed = false;
    let settled = false;
    const logged = loggedStreams(inputs.logging);
    const watch = new ScannerWatch();
    let hangTimer: NodeJS.Timeout | undefined;
    const failHung = () => {
      if (settled) return;
      settled = true;
      clearTimers();
      child.kill("SIGKILL");
      reject(scannerHangError(command, inputs.logging, watch.stuck!));
    };
    const onLogged = (d: Buffer) => {
      watch.push(d);
      if (watch.stuck?.complete) failHung();
      else if (watch.stuck && !hangTimer) hangTimer = setTimeout(failHung, OVERLONG_LINE_GRACE_MS);
    };
    child.stdout!.on("data", (d: Buffer) => {
      stdout.push(d);
      combined.push(d);
      if (logged.stdout) onLogged(d);
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr.push(d);
      combined.push(d);
      if (logged.stderr) onLogged(d);
    });
    const timer =
      ctx.timeoutMs !== undefined
        ? setTimeout(() => {
            killed = true;
            child.kill("SIGKILL");
          }, ctx.timeoutMs)
        : undefined;
    const clearTimers = () => {
      if (timer) clearTimeout(timer);
      if (hangTimer) clearTimeout(hangTimer);
    };
    child.on("error", (err) => {
      if (settled) return;
      settled = true;
      clearTimers();
      reject(runError(err.message, command, text(combined)));
    });
    child.on("close", (code, signal) => {
      watch.end();
      if (watch.stuck) return failHung();
      if (settled) return;
      settled = true;
      clearTimers();
      if (killed || signal) reject(runError(`signal: ${signal === "SIGKILL" || killed ? "killed" : signal}`, command, text(combined)));
      else if (code !== 0) reject(runError(`exit status ${code}`, command, text(combined)));
      else resolve({ stdout: trimOneNewline(text(stdout)), stderr: trimOneNewline(text(stderr)) });
    });
    if (stdin && child.stdin) {
      child.stdin.on("error", () => undefined); // a command that does not read stdin: its exit status tells
      child.stdin.end(stdin);
    }
  });
}


export const localCommand: ProviderModel = {
  async check(_ctx, news) {
    return { inputs: news, failures: [] };
  },

  async diff(_ctx, old, news) {
    return inferredDiff(old, news, ["triggers"]);
  },

  create: (ctx, inputs) => createCommand(ctx, inputs, runLocal),

  update: (ctx, old, news) => updateCommand(ctx, old, news, runLocal, (news) => news),

  delete: (ctx, old) => deleteCommand(ctx, old, runLocal),
};
