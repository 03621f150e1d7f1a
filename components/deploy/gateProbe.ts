// The release gate's check, run inside the new container with the image's own python: the one
// probe (image/probe.py), which prints what it saw, so a failed gate can say "last answer:
// HTTP 503 Service Unavailable". Pure.
import { probeArgv } from "../image/probe";
import type { HealthGate } from "./containerSpec";
import { Argv, execInContainer } from "./dockerCommands";

/** `docker exec` of the gate's probe on 127.0.0.1 in container `name`; undefined for a `running` gate (nothing to probe). */
export function gateProbe(name: string, gate: HealthGate, timeoutSeconds: number): Argv | undefined {
  if (gate.kind === "running") return undefined;
  const path = gate.kind === "http" ? gate.path : undefined;
  return execInContainer(name, probeArgv("python", { host: "127.0.0.1", port: gate.port, path, timeoutSeconds }));
}
