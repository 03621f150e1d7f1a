// What local.Command, remote.Command and CopyToRemote share: pulumi-go-provider v1.3.0's
// inferred Diff and preview outputs (infer/resource.go), and pulumi-command v1.2.1's ids,
// output trimming, run errors and output logging (provider/pkg/provider/{local,remote,util}/*).
// The engine that drives these models in CI is the CLI's (pulumi v3.259.0), not the SDK's (3.248).
import { randomBytes } from "node:crypto";
import { detailedDiff, PropertyMap, revealMap, UNKNOWN } from "../properties";
import type { ResourceState } from "../state";
import type { CreateResult, DiffResult, OperationContext, OperationReport, UpdateResult } from "./types";

/**
 * infer.diff: old inputs (the engine sends them) against the new ones, "__"-prefixed and
 * "version" keys dropped; a top-level path whose schema field is tagged replaceOnChanges
 * (only `triggers`, common/inputs.go) replaces. Nested paths such as "triggers[0]" are NOT
 * matched here: the SDK's replaceOnChanges ["triggers[*]"] option covers those in the engine.
 */
export function inferredDiff(old: ResourceState, news: PropertyMap, replaceOnChangesFields: string[]): DiffResult {
  const clean = (m: PropertyMap) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== "version" && !k.startsWith("__")));
  const detailed = detailedDiff(clean(old.inputs), clean(news));
  return { detailed, replacePaths: [...detailed.keys()].filter((p) => replaceOnChangesFields.includes(p)) };
}

/** resource.NewUniqueHex(name, 8, 0): the name plus 8 random hex digits. */
export function uniqueHexId(name: string): string {
  return name + randomBytes(4).toString("hex");
}

/**
 * infer's preview outputs (markComputed): the state mirrors the inputs, and every output that
 * does not mirror an input is unknown, since on a create nothing is known and on an update some
 * input changed (every output depends on every input by default).
 */
export function previewOutputs(inputs: PropertyMap, computedOutputs: string[]): PropertyMap {
  return { ...inputs, ...Object.fromEntries(computedOutputs.map((k) => [k, UNKNOWN])) };
}

/** strings.TrimSuffix(out, "\n"): one trailing newline only. */
export function trimOneNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/** fmt.Errorf("%w: running %q:\n%s", err, command, stdout+stderr) of both run() functions. */
export function runError(cause: string, command: string, combinedOutput: string): Error {
  return new Error(`${cause}: running ${JSON.stringify(command)}:\n${combinedOutput}`);
}

/** The value of an optional string input (undefined when unset or null). */
export function optionalString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** bufio.MaxScanTokenSize: the longest line util.LogOutput's bufio.Scanner reads. */
export const SCANNER_MAX_LINE = 64 * 1024;

/** The `logging` input's streams: unset logs both (local/logging.go:27-32, remote/logging.go:27-32). */
export function loggedStreams(logging: unknown): { stdout: boolean; stderr: boolean } {
  return {
    stdout: logging === undefined || logging === null || logging === "stdout" || logging === "stdoutAndStderr",
    stderr: logging === undefined || logging === null || logging === "stderr" || logging === "stdoutAndStderr",
  };
}

/**
 * Follows the logged output (stdout and stderr as they reach the one io.Pipe) the way
 * util.LogOutput's default bufio.Scanner reads it (pulumi-command v1.2.1
 * provider/pkg/provider/util/util.go:32-35; local/commandOutputs.go:56-71,101-110). Once a line
 * holds 64 KiB without its newline the scanner stops (bufio.ErrTooLong, ignored), nobody reads
 * the pipe again, and the next byte written blocks the command's output copy: cmd.Wait never
 * returns, not even once customTimeouts (go-provider v1.3.0 middleware/cancel/cancel.go:44-49)
 * kill the process, as exec.Cmd has no WaitDelay. The real provider hangs there forever;
 * `stuck` says when it would. remote.Command logs the same way (remote/commandOutputs.go:78,93).
 */
export class ScannerWatch {
  private lineBytes = 0;
  /** The over-long line's length in bytes; `complete` once its newline (or the end) was seen. */
  stuck?: { lineBytes: number; complete: boolean };

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.stuck?.complete) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl;
      this.lineBytes += end - i;
      const byteAfterScannerLimit = nl >= 0 || this.lineBytes > SCANNER_MAX_LINE;
      if (this.stuck || (this.lineBytes >= SCANNER_MAX_LINE && byteAfterScannerLimit)) this.stuck = { lineBytes: this.lineBytes, complete: nl >= 0 };
      if (nl < 0) return;
      this.lineBytes = 0;
      i = nl + 1;
    }
  }

  /** The output ended: the over-long line, if any, is complete. */
  end(): void {
    if (this.stuck) this.stuck = { ...this.stuck, complete: true };
  }
}

export function scannerHangError(command: string, logging: unknown, stuck: { lineBytes: number; complete: boolean }): Error {
  const size = `${stuck.complete ? "" : "at least "}${stuck.lineBytes} bytes`;
  const streams = loggedStreams(logging);
  const which = streams.stdout && streams.stderr ? "stdout and stderr" : streams.stdout ? "stdout" : "stderr";
  return new Error(
    `running ${JSON.stringify(command)}: its logged output (${which}) has a line of ${size}: the real provider ` +
      `(pulumi-command v1.2.1) would hang here forever. It logs each output line through a bufio.Scanner ` +
      `limited to ${SCANNER_MAX_LINE} bytes per line (provider/pkg/provider/util/util.go:34-35); past that the ` +
      `scanner stops, the io.Pipe writer blocks (local/commandOutputs.go:56-71) and the command never finishes, ` +
      `customTimeouts included. Keep output lines under 64 KiB, or set \`logging\` to leave that stream out.`,
  );
}

/** What a command run captures, and what the state keeps of the last run. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}
/** Unknown in a preview until the command runs. */
export const COMMAND_COMPUTED_OUTPUTS = ["stdout", "stderr"];
export type CommandRun = (ctx: OperationContext, command: string, state: PropertyMap, previous: CommandOutput) => Promise<CommandOutput>;

/** The stored output of the last run ("" when none). */
export function previousOutput(state: PropertyMap): CommandOutput {
  return { stdout: optionalString(state.stdout) ?? "", stderr: optionalString(state.stderr) ?? "" };
}

/**
 * Create, the same in local.Command and remote.Command (pulumi-command v1.2.1
 * provider/pkg/provider/{local,remote}/command.go Create): a preview leaves the outputs unknown;
 * without `create` nothing runs and the outputs are empty; otherwise the run's output is stored.
 */
export async function createCommand(ctx: OperationContext, inputs: PropertyMap, run: CommandRun): Promise<CreateResult> {
  const id = uniqueHexId(ctx.name);
  if (ctx.preview) return { id, outputs: previewOutputs(inputs, COMMAND_COMPUTED_OUTPUTS), ran: false };
  const create = optionalString(revealMap(inputs).create);
  if (create === undefined) return { id, outputs: { ...inputs, stdout: "", stderr: "" }, ran: false };
  const out = await run(ctx, create, inputs, { stdout: "", stderr: "" });
  return { id, outputs: { ...inputs, ...out }, ran: true, ...out };
}

/**
 * Update: `update`, else `create`, runs again; without either the last output is kept (same
 * files, Update). `runState` is what the run sees as the resource's state.
 */
export async function updateCommand(
  ctx: OperationContext,
  old: ResourceState,
  news: PropertyMap,
  run: CommandRun,
  runState: (news: PropertyMap, previous: CommandOutput) => PropertyMap,
): Promise<UpdateResult> {
  if (ctx.preview) return { outputs: previewOutputs(news, COMMAND_COMPUTED_OUTPUTS), ran: false };
  const previous = previousOutput(old.outputs);
  const plain = revealMap(news);
  const command = optionalString(plain.update) ?? optionalString(plain.create);
  if (command === undefined) return { outputs: { ...news, ...previous }, ran: false };
  const out = await run(ctx, command, runState(news, previous), previous);
  return { outputs: { ...news, ...out }, ran: true, ...out };
}

/** Delete: `delete` runs with the stored state; without it nothing runs (same files, Delete). */
export async function deleteCommand(ctx: OperationContext, old: ResourceState, run: CommandRun): Promise<OperationReport> {
  const command = optionalString(revealMap(old.outputs).delete);
  if (command === undefined) return { ran: false };
  const out = await run(ctx, command, old.outputs, previousOutput(old.outputs));
  return { ran: true, ...out };
}
