// What local.Command, remote.Command and CopyToRemote share: pulumi-go-provider v1.3.0's
// inferred Diff and preview outputs (infer/resource.go), and pulumi-command v1.2.1's ids,
// output trimming and run errors (provider/pkg/provider/{local,remote}/*).
import { randomBytes } from "node:crypto";
import { detailedDiff, PropertyMap, UNKNOWN } from "../properties";
import type { ResourceState } from "../state";
import type { DiffResult } from "./types";

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
