// The image's HEALTHCHECK: the one probe (probe.ts) run by the image's own python against the
// web role on loopback. No Pulumi import.
import { probeArgv } from "./probe";

export interface HealthProbeOptions {
  port: number;
  path: string;
  timeoutSeconds: number;
}

/** Exec-form argv run inside the container: exits 0 iff GET http://127.0.0.1:<port><path> answers 2xx/3xx within timeoutSeconds. */
export function pythonHealthProbe(o: HealthProbeOptions): string[] {
  return probeArgv("python", { host: "127.0.0.1", port: o.port, path: o.path, timeoutSeconds: o.timeoutSeconds });
}
