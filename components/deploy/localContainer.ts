// The docker.Container settings for one role on the local engine: the same ports, restart
// policy, labels, log rotation and health gate as the remote `docker run`. Pure.
import { pythonTcpProbe } from "../image/healthProbe";
import { ContainerHealthcheck, LABEL_APP, LABEL_ROLE, RoleSpec } from "./containerSpec";

export interface LocalContainerSettings {
  name: string;
  command?: string[];
  ports: { internal: number; external: number }[];
  restart: "unless-stopped";
  init: true;
  labels: { label: string; value: string }[];
  logDriver: "json-file";
  logOpts: Record<string, string>;
  /** tests ["NONE"] switches off an image HEALTHCHECK meant for another role. */
  healthcheck: { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string };
  /** The provider waits for "healthy" (the gate) only where there is a healthcheck. */
  wait: boolean;
  waitTimeout: number;
  mustRun: true;
}

export interface LocalContainerOptions {
  app: string;
  logMaxSize: string;
  logMaxFiles: number;
  healthTimeoutSeconds: number;
}

// The remote release gates a role with a port but no HTTP check by TCP from the host; locally
// the provider can only wait for Docker's health status, so the same check runs in the container.
const TCP_GATE = { intervalSeconds: 5, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 5 };

function gateHealthcheck(role: RoleSpec): ContainerHealthcheck | undefined {
  if (role.healthcheck || role.gate.kind !== "tcp") return role.healthcheck;
  const gatePort = role.gate.port;
  const port = role.ports.find((p) => p.host === gatePort)?.container ?? gatePort;
  return { test: pythonTcpProbe({ port, timeoutSeconds: TCP_GATE.timeoutSeconds }), ...TCP_GATE };
}

export function localContainerSettings(o: LocalContainerOptions, role: RoleSpec): LocalContainerSettings {
  const h = gateHealthcheck(role);
  return {
    name: `${o.app}-${role.role}`,
    command: role.command.length ? role.command : undefined,
    ports: role.ports.map((p) => ({ internal: p.container, external: p.host })),
    restart: "unless-stopped",
    init: true,
    labels: [
      { label: LABEL_APP, value: o.app },
      { label: LABEL_ROLE, value: role.role },
    ],
    logDriver: "json-file",
    logOpts: { "max-size": o.logMaxSize, "max-file": String(o.logMaxFiles) },
    healthcheck: h
      ? {
          tests: ["CMD", ...h.test],
          interval: `${h.intervalSeconds}s`,
          timeout: `${h.timeoutSeconds}s`,
          retries: h.retries,
          startPeriod: `${h.startPeriodSeconds}s`,
        }
      : { tests: ["NONE"] },
    wait: h !== undefined,
    waitTimeout: o.healthTimeoutSeconds,
    mustRun: true,
  };
}
