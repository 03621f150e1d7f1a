// What one release runs on the server, as data: the `docker run` argv of each role and the
// env file. Pure: no I/O, no Pulumi. The remote steps (commands.ts) quote these values.
import { quote } from "shell-quote";

export type HealthGate =
  | { kind: "http"; port: number; path: string } // host port on the server, polled from the server: 2xx/3xx = healthy
  | { kind: "tcp"; port: number } // host port; the connection is made to the container behind it
  | { kind: "running" }; // no port: healthy if still running, never restarted, after a few seconds

/** Docker-level healthcheck. `test` is an exec argv (or Docker's ["CMD", ...], ["CMD-SHELL", cmd], ["NONE"]). */
export interface ContainerHealthcheck {
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface RoleSpec {
  role: string;
  /** Empty: the image's CMD. */
  command: string[];
  ports: { host: number; container: number }[];
  gate: HealthGate;
  /** Absent: `--no-healthcheck` (e.g. a worker using an image whose HEALTHCHECK targets the web port). */
  healthcheck?: ContainerHealthcheck;
}

export interface ReleaseSpec {
  app: string;
  image: string;
  imageId: string;
  version: string;
  roles: RoleSpec[];
  envFile: string;
  logMaxSize: string;
  logMaxFiles: number;
  healthTimeoutSeconds: number;
  keepImages: number;
}

export const LABEL_APP = "pydeploy.app";
export const LABEL_ROLE = "pydeploy.role";
export const LABEL_VERSION = "pydeploy.version";
export const LABEL_IMAGE = "pydeploy.image";

export const SLUG = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
// Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; the version is lowercase so names stay uniform.
const VERSION = /^[a-z0-9][a-z0-9_.-]*$/;
export const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
// A local image reference: [registry[:port]/]path[:tag][@sha256:digest], no whitespace or shell syntax.
export const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
const LOG_SIZE = /^[1-9][0-9]*[kmg]?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
// The file is UTF-8; a lone surrogate has no UTF-8 form.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function containerName(app: string, role: string, version: string): string {
  check(SLUG.test(app), `app name ${JSON.stringify(app)} must be lowercase letters, digits and inner dashes`);
  check(SLUG.test(role), `role name ${JSON.stringify(role)} must be lowercase letters, digits and inner dashes`);
  check(VERSION.test(version), `release version ${JSON.stringify(version)} must be lowercase letters, digits, '.', '_' or '-'`);
  return `${app}-${role}-${version}`;
}

/** Throws a clear Error for a spec the release script could not run safely. */
export function validateReleaseSpec(spec: ReleaseSpec): void {
  containerName(spec.app, "x", spec.version);
  check(IMAGE_REF.test(spec.image), `image ${JSON.stringify(spec.image)} is not a valid image reference`);
  check(IMAGE_ID.test(spec.imageId), `imageId ${JSON.stringify(spec.imageId)} must be sha256:<64 hex digits>`);
  check(spec.roles.length > 0, `app ${spec.app}: a release needs at least one role`);
  check(spec.envFile.length > 0 && !/[\0\n\r]/.test(spec.envFile), `envFile ${JSON.stringify(spec.envFile)} is not a usable path`);
  check(LOG_SIZE.test(spec.logMaxSize), `logMaxSize ${JSON.stringify(spec.logMaxSize)} must look like 10m`);
  check(isInt(spec.logMaxFiles, 1), `logMaxFiles must be an integer >= 1, got ${spec.logMaxFiles}`);
  check(isInt(spec.healthTimeoutSeconds, 1), `healthTimeoutSeconds must be an integer >= 1, got ${spec.healthTimeoutSeconds}`);
  check(isInt(spec.keepImages, 1), `keepImages must be an integer >= 1 (the running image counts), got ${spec.keepImages}`);
  const roles = new Set<string>();
  const hostPorts = new Map<number, string>();
  for (const role of spec.roles) {
    containerName(spec.app, role.role, spec.version);
    check(!roles.has(role.role), `role ${role.role} appears twice`);
    roles.add(role.role);
    for (const p of role.ports) {
      check(isPort(p.host) && isPort(p.container), `role ${role.role}: ports must be integers 1-65535, got ${p.host}:${p.container}`);
      const other = hostPorts.get(p.host);
      check(other === undefined, `host port ${p.host} is published by both role ${other} and role ${role.role}`);
      hostPorts.set(p.host, role.role);
    }
    const gate = role.gate;
    if (gate.kind !== "running") {
      // Polling a port this role does not publish would gate on some other process.
      check(
        role.ports.some((p) => p.host === gate.port),
        `role ${role.role}: its ${gate.kind} gate port ${gate.port} is not one of its published host ports (${role.ports.map((p) => p.host).join(", ") || "none"})`,
      );
    }
    if (gate.kind === "http") {
      check(/^\/[^\s\0]*$/.test(gate.path), `role ${role.role}: gate path ${JSON.stringify(gate.path)} must start with / and have no whitespace`);
    }
    const h = role.healthcheck;
    if (h) {
      check(h.test.length > 0, `role ${role.role}: healthcheck test is empty`);
      for (const [k, v] of Object.entries({ intervalSeconds: h.intervalSeconds, timeoutSeconds: h.timeoutSeconds, retries: h.retries })) {
        check(isInt(v, 1), `role ${role.role}: healthcheck ${k} must be an integer >= 1, got ${v}`);
      }
      check(isInt(h.startPeriodSeconds, 0), `role ${role.role}: healthcheck startPeriodSeconds must be an integer >= 0`);
    }
  }
}

export function dockerRunArgs(spec: ReleaseSpec, role: RoleSpec): string[] {
  validateReleaseSpec(spec);
  return [
    "docker", "run",
    "--detach",
    "--restart", "unless-stopped",
    "--init",
    "--name", containerName(spec.app, role.role, spec.version),
    "--env-file", spec.envFile,
    "--log-opt", `max-size=${spec.logMaxSize}`,
    "--log-opt", `max-file=${spec.logMaxFiles}`,
    "--label", `${LABEL_APP}=${spec.app}`,
    "--label", `${LABEL_ROLE}=${role.role}`,
    "--label", `${LABEL_VERSION}=${spec.version}`,
    "--label", `${LABEL_IMAGE}=${spec.imageId}`,
    ...role.ports.flatMap((p) => ["-p", `${p.host}:${p.container}`]),
    ...healthArgs(role.healthcheck),
    spec.image,
    ...role.command,
  ];
}

/** The CLI has no exec-form --health-cmd: an exec argv becomes a quoted command for the container's /bin/sh. */
function healthArgs(h: ContainerHealthcheck | undefined): string[] {
  if (!h || h.test[0] === "NONE") return ["--no-healthcheck"];
  const cmd =
    h.test[0] === "CMD-SHELL" ? h.test.slice(1).join(" ") : quote(h.test[0] === "CMD" ? h.test.slice(1) : h.test);
  return [
    "--health-cmd", cmd,
    "--health-interval", `${h.intervalSeconds}s`,
    "--health-timeout", `${h.timeoutSeconds}s`,
    "--health-retries", String(h.retries),
    "--health-start-period", `${h.startPeriodSeconds}s`,
  ];
}

/**
 * docker --env-file format: one KEY=value line per variable, sorted by key so the same env
 * gives the same bytes. The format has no quoting or escapes: a value is taken verbatim up to
 * the end of its line, so line breaks (and NUL, which no environment can hold) are refused.
 */
export function renderEnvFile(env: Record<string, string>): string {
  const keys = Object.keys(env).sort();
  for (const key of keys) {
    check(ENV_KEY.test(key), `env var name ${JSON.stringify(key)} is invalid: expected [A-Za-z_][A-Za-z0-9_]*`);
    const value = env[key];
    check(typeof value === "string", `env var ${key}: value must be a string`);
    check(!/[\n\r]/.test(value), `env var ${key}: value contains a line break, which docker --env-file cannot carry`);
    check(!value.includes("\0"), `env var ${key}: value contains a NUL character`);
    check(!LONE_SURROGATE.test(value), `env var ${key}: value is not valid Unicode (lone surrogate)`);
  }
  return keys.map((k) => `${k}=${env[k]}\n`).join("");
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

function isInt(n: number, min: number): boolean {
  return Number.isInteger(n) && n >= min;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
