// The single-container entrypoint (the seed's `nohup a & nohup b & c`, done right) is
// entrypoint.sh beside this file, copied into the project; the processes reach it as arguments
// of the image's CMD, built here. No Pulumi import.
import * as fs from "node:fs";
import * as path from "node:path";

export const ENTRYPOINT_SCRIPT = path.join(__dirname, "entrypoint.sh");

export function entrypointScript(): string {
  return fs.readFileSync(ENTRYPOINT_SCRIPT, "utf8");
}

export interface EntrypointProcess {
  name: string;
  command: string[];
}

/** entrypoint.sh's arguments: per process its name, its number of words, then the words. */
export function entrypointArgs(processes: EntrypointProcess[]): string[] {
  if (processes.length === 0) throw new Error("the entrypoint needs at least one process");
  return processes.flatMap((p) => {
    if (p.command.length === 0) throw new Error(`process ${p.name}: the entrypoint needs a command`);
    return [p.name, String(p.command.length), ...p.command];
  });
}
