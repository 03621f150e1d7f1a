// The one HTTP/TCP probe (probe.py beside this file) as an exec-form argv: its source is
// passed with `-c` and its target as arguments, never pasted into the code. No Pulumi import.
import * as fs from "node:fs";
import * as path from "node:path";

export const PROBE_SCRIPT = path.join(__dirname, "probe.py");

export function probeSource(): string {
  return fs.readFileSync(PROBE_SCRIPT, "utf8");
}

export interface ProbeTarget {
  host: string;
  port: number;
  /** GET this path (2xx/3xx passes); undefined: only connect (TCP). */
  path?: string;
  /** The deadline of the whole check. */
  timeoutSeconds: number;
}

/** Runs the probe with `python` (an app image's venv) or `python3` (the proxy image). */
export function probeArgv(python: "python" | "python3", t: ProbeTarget): string[] {
  return [python, "-c", probeSource(), t.host, String(t.port), t.path ?? "", String(t.timeoutSeconds)];
}
