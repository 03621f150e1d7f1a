// Runs fleetProgram.ts (index.ts under mocks with server.count = N) in a child process and
// reads its result: what the program registered for that many servers.
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Registration } from "./mocks";

/** The result line's prefix: the program's warnings go to stdout too. */
export const FLEET_RESULT = "fleet-result: ";

export interface FleetRun {
  registrations: Registration[];
  resources: { type: string; name: string; inputs: any }[];
  outputs: {
    appUrls: string[];
    containers: string[];
    servers: { name: string; address: string; containers: string[]; commands: { ps: string } }[] | null;
    fleetPs: string | null;
    loadBalancerAddress: string | null;
  };
}

export interface FleetOverrides {
  server?: Record<string, unknown>;
  app?: Record<string, unknown>;
  /** Whole stack config keys ("pydeploy:…"); pydeploy:loadBalancerCertificateKey is given as a secret. */
  config?: Record<string, unknown>;
}

export async function runFleetProgram(count: number, rollingBatch = 1, overrides: FleetOverrides = {}): Promise<FleetRun> {
  const script = path.join(__dirname, "fleetProgram.ts");
  const args = ["--import", "tsx", script, String(count), String(rollingBatch), JSON.stringify(overrides)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  const line = stdout.split("\n").find((l) => l.startsWith(FLEET_RESULT));
  if (!line) throw new Error(`fleetProgram.ts ${count} printed no result line:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(FLEET_RESULT.length)) as FleetRun;
}
