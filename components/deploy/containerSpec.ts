// What one release runs, as data: the roles' containers, their `docker run` argv and the env
// file. Pure: no I/O, no Pulumi. The deployer (runner/) runs these argv on the server.
import { quote } from "shell-quote";
import { z } from "zod";
import {
  containerPath, healthcheckTimeoutSeconds, healthIntervalSeconds, healthRetries, healthStartPeriodSeconds, httpPath, IMAGE_REF, ipAddress, logMaxFiles, logSize, port, SLUG, stopGraceSeconds,
} from "../config/fields";
import { LABEL_APP } from "../image/labels";
import { check } from "./check";
import { issueList } from "./contractIssues";

// The digest at the end of a local image ID (sha256:<hex>) or of a repository@sha256:<hex>.
const IMAGE_DIGEST = /(sha256:[0-9a-f]{64})$/;
const slugName = (what: string) => z.string({ error: `expected ${what}` }).regex(SLUG, { error: `expected ${what}: lowercase letters, digits and inner dashes` });

export const healthGateSchema = z.discriminatedUnion("kind", [
  // Container port, probed inside the container: 2xx/3xx = healthy.
  z.strictObject({ kind: z.literal("http"), port, path: httpPath }),
  // Container port accepts a connection, probed inside the container.
  z.strictObject({ kind: z.literal("tcp"), port }),
  // No port: healthy if still running, never restarted, after a few seconds.
  z.strictObject({ kind: z.literal("running") }),
]);
export type HealthGate = z.infer<typeof healthGateSchema>;

/** Docker-level healthcheck. `test` is an exec argv (or Docker's ["CMD", ...], ["CMD-SHELL", cmd], ["NONE"]). */
export const containerHealthcheckSchema = z.strictObject({
  test: z.array(z.string()).min(1, { error: "expected a healthcheck test" }),
  intervalSeconds: healthIntervalSeconds,
  timeoutSeconds: healthcheckTimeoutSeconds,
  retries: healthRetries,
  startPeriodSeconds: healthStartPeriodSeconds,
});
export type ContainerHealthcheck = z.infer<typeof containerHealthcheckSchema>;

/** A port behind the proxy, and how the proxy checks it reaches it: GET path, or a TCP connect. */
export const upstreamSchema = z.strictObject({
  port,
  reach: z.discriminatedUnion("kind", [z.strictObject({ kind: z.literal("http"), path: httpPath }), z.strictObject({ kind: z.literal("tcp") })]),
});
export type Upstream = z.infer<typeof upstreamSchema>;

export const volumeMountSchema = z.strictObject({ volume: slugName("a Docker volume name"), path: containerPath });
export type VolumeMount = z.infer<typeof volumeMountSchema>;

export const roleSettingsSchema = z.strictObject({
  role: slugName("a role name"),
  /** Empty: the image's CMD. */
  command: z.array(z.string()),
  ports: z.array(z.strictObject({ host: port, container: port })),
  gate: healthGateSchema,
  /** Absent: `--no-healthcheck` (e.g. a worker using an image whose HEALTHCHECK targets the web port). */
  healthcheck: containerHealthcheckSchema.optional(),
  /** Named volumes (volumeName()) mounted into the container. */
  mounts: z.array(volumeMountSchema),
  /** Ports the reverse proxy sends traffic to (by the role's network alias); none: no proxy. */
  upstreams: z.array(upstreamSchema),
});
export type RoleSettings = z.infer<typeof roleSettingsSchema>;

/** Everything that shapes the containers of a release: a change here gives new container names. */
export const containerSettingsSchema = z.strictObject(
  {
    app: slugName("an app name"),
    /** The image as tagged on the server: <repository>:<12 hex of its identity>. */
    image: z.string().regex(IMAGE_REF, { error: "expected an image reference" }),
    /** What the image is, independent of the image store: the local image ID or the registry digest. */
    imageIdentity: z.string().regex(IMAGE_DIGEST, { error: "expected sha256:<hex> or repository@sha256:<hex>" }),
    roles: z.array(roleSettingsSchema).min(1, { error: "expected at least one role" }),
    envFile: z.string().regex(/^[^\0\n\r]+$/, { error: "expected a path on the host" }),
    logMaxSize: logSize,
    logMaxFiles,
    /** `docker stop` waits this long for a graceful exit before SIGKILL (also used by dockerd restarts). */
    stopGraceSeconds,
    /** The app's private network, where its services answer by name; unset: Docker's default bridge. */
    network: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "expected a network name" }).optional(),
    /** Several servers: the services on the first server, by name at its private address (--add-host). */
    serviceHosts: z.array(z.strictObject({ name: z.string().regex(SLUG), address: ipAddress() })).optional(),
  },
  { error: (issue) => (issue.code === "invalid_type" ? "expected the container settings" : undefined) },
);
export type ContainerSettings = z.infer<typeof containerSettingsSchema>;

export type ReleaseContainerSettings = ContainerSettings & {
  /** Names this release's containers: <app>-<role>-<version>. */
  version: string;
  /**
   * Per role, a hash of what its container holds: the image, env and shared settings, and its
   * own. A running container with the same one is kept, not restarted (roleVersions()).
   */
  roleVersions?: Record<string, string>;
  /** Per role, the container to run, whatever its name (a roll back to containers kept before). */
  containers?: Record<string, string>;
};

export const LABEL_ROLE = "pydeploy.role";
export const LABEL_VERSION = "pydeploy.version";
export const LABEL_ROLE_VERSION = "pydeploy.role-version";
export const LABEL_IMAGE = "pydeploy.image";

// Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; the version is lowercase so names stay uniform.
const VERSION = /^[a-z0-9][a-z0-9_.-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
// The file is UTF-8; a lone surrogate has no UTF-8 form.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The Docker volume of an app's volume: <app>-<name>. */
export function volumeName(app: string, volume: string): string {
  check(SLUG.test(app) && SLUG.test(volume), `volume ${JSON.stringify(volume)} of app ${JSON.stringify(app)}: lowercase letters, digits and inner dashes`);
  return `${app}-${volume}`;
}

/** `--mount` for a named volume; nocopy keeps the image's files (and their root owner) out of it. */
export function mountArgs(mounts: VolumeMount[]): string[] {
  return mounts.flatMap((m) => ["--mount", `type=volume,source=${m.volume},target=${m.path},volume-nocopy`]);
}

export function containerName(app: string, role: string, version: string): string {
  check(SLUG.test(app), `app name ${JSON.stringify(app)} must be lowercase letters, digits and inner dashes`);
  check(SLUG.test(role), `role name ${JSON.stringify(role)} must be lowercase letters, digits and inner dashes`);
  check(VERSION.test(version), `release version ${JSON.stringify(version)} must be lowercase letters, digits, '.', '_' or '-'`);
  return `${app}-${role}-${version}`;
}

/** "sha256:<hex>" of a local image ID or of a repository@sha256 digest. */
export function digestOf(identity: string): string {
  const match = IMAGE_DIGEST.exec(identity);
  if (!match) throw new Error(`image identity ${JSON.stringify(identity)} is neither sha256:<hex> nor repository@sha256:<hex>`);
  return match[1];
}

/** "registry:5000/ns/demo:tag@sha256:..." -> "registry:5000/ns/demo". */
export function repositoryOf(image: string): string {
  return image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
}

/**
 * The tag an image gets on the server: its repository and 12 hex digits of its identity. The
 * image ID itself is no name to rely on across hosts: the containerd image store gives the same
 * image another ID than the classic store.
 */
export function serverTag(imageName: string, identity: string): string {
  return `${repositoryOf(imageName)}:${digestOf(identity).slice("sha256:".length, "sha256:".length + 12)}`;
}

/** Throws a clear Error for settings the deployer could not run safely. */
export function validateSettings(s: ContainerSettings): void {
  // dockerRunArgs passes a ReleaseContainerSettings: its version is no setting.
  const parsed = containerSettingsSchema.loose().safeParse(s);
  if (!parsed.success) throw new Error(`invalid container settings: ${issueList(parsed.error.issues)}`);
  // What the schema cannot say: rules across roles, and a gate on a port the role listens on.
  const roles = new Set<string>();
  const hostPorts = new Map<number, string>();
  for (const role of s.roles) {
    check(!roles.has(role.role), `role ${role.role} appears twice`);
    roles.add(role.role);
    for (const p of role.ports) {
      const other = hostPorts.get(p.host);
      check(other === undefined, `host port ${p.host} is published by both role ${other} and role ${role.role}`);
      hostPorts.set(p.host, role.role);
    }
    const gate = role.gate;
    if (gate.kind !== "running") {
      // Probing a port the role does not listen on would gate on nothing.
      const listened = [...role.ports.map((p) => p.container), ...role.upstreams.map((u) => u.port)];
      check(
        listened.includes(gate.port),
        `role ${role.role}: its ${gate.kind} gate port ${gate.port} is not one of its container ports (${listened.join(", ") || "none"})`,
      );
    }
  }
}

export function dockerRunArgs(spec: ReleaseContainerSettings, role: RoleSettings): string[] {
  validateSettings(spec);
  return [
    "docker", "run",
    "--detach",
    "--restart", "unless-stopped",
    "--init",
    "--name", containerName(spec.app, role.role, spec.version),
    "--env-file", spec.envFile,
    ...(spec.network ? ["--network", spec.network] : []),
    ...(spec.serviceHosts ?? []).flatMap((h) => ["--add-host", `${h.name}:${h.address}`]),
    "--stop-timeout", String(spec.stopGraceSeconds),
    "--log-opt", `max-size=${spec.logMaxSize}`,
    "--log-opt", `max-file=${spec.logMaxFiles}`,
    "--label", `${LABEL_APP}=${spec.app}`,
    "--label", `${LABEL_ROLE}=${role.role}`,
    "--label", `${LABEL_VERSION}=${spec.version}`,
    ...(spec.roleVersions?.[role.role] ? ["--label", `${LABEL_ROLE_VERSION}=${spec.roleVersions[role.role]}`] : []),
    "--label", `${LABEL_IMAGE}=${spec.imageIdentity}`,
    ...role.ports.flatMap((p) => ["-p", `${p.host}:${p.container}`]),
    ...mountArgs(role.mounts),
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
