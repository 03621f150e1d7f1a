// The services beside the app, as the deployer runs them: one long-lived container each on the
// app's private network (<app>-services), reached by the service's name, data on named volumes,
// no port on a public interface. Pure: the component builds these, the runner and tests read them.
import { z } from "zod";
import { containerPath, envName, IMAGE_REF, ipAddress, port, SLUG } from "../../config/fields";
import type { ServiceConfig } from "../../config/services";
import { SERVICE_PORTS, sharedServicePort } from "../../config/services";
import { postgresUrl, redisUrl } from "../../server/managedServiceDefaults";
import { volumeMountSchema } from "../containerSpec";

/** On service containers and the services network: the app's name (not pydeploy.app, which the release tidies). */
export const LABEL_SERVICE_OF = "pydeploy.service-of";
/** The service's name. */
export const LABEL_SERVICE = "pydeploy.service";
/** A hash of what the container runs (settings and a keyed print of its env): unchanged means left alone. */
export const LABEL_SERVICE_CONFIG = "pydeploy.service-config";

/** Where the deployer writes Redis's config (requirepass): in its data volume, so no bind mount or argv carries it. */
export const REDIS_CONFIG_FILE = "pydeploy-redis.conf";
/** The official postgres image's data directory (PGDATA), which holds PG_VERSION. */
export const POSTGRES_DATA = "/var/lib/postgresql/data";

export const servicesNetworkOf = (app: string): string => `${app}-services`;
export const serviceContainerOf = (app: string, service: string): string => `${app}-${service}`;
export const serviceVolumeOf = (app: string, service: string, volume: string): string => `${app}-${service}-${volume}`;
export const serviceEnvFileOf = (appDir: string, service: string): string => `${appDir}/services/${service}.env`;
export const snapshotDirOf = (appDir: string): string => `${appDir}/snapshots`;

export const serviceSettingsSchema = z.strictObject({
  name: z.string().regex(SLUG),
  kind: z.enum(["postgres", "redis", "accessory"]),
  container: z.string().regex(SLUG),
  image: z.string().regex(IMAGE_REF, { error: "expected an image reference" }),
  /** Replaces the image's CMD. */
  command: z.array(z.string()).optional(),
  mounts: z.array(volumeMountSchema),
  /** The --env-file the deployer writes (mode 600): plain env and the secrets from stdin. */
  envFile: z.string().min(1),
  env: z.record(envName, z.string()),
  /** Published on the server's 127.0.0.1 only. */
  loopbackPort: z.strictObject({ host: port, container: port }).optional(),
  /** Several servers: published on this server's private address, where the other servers' app containers reach it. */
  privatePort: z.strictObject({ address: ipAddress(), port }).optional(),
  /** Run inside the container; the service answers when it succeeds (and, for Redis, prints PONG or NOAUTH). */
  ready: z.array(z.string()).min(1).optional(),
  /** PostgreSQL: its major version, checked against the data directory's PG_VERSION before anything changes. */
  postgres: z.strictObject({ major: z.number().int(), dataMount: z.string().optional(), user: z.string(), database: z.string() }).optional(),
  /** Redis: the config file the deployer writes into this volume (at this path inside it) before the container starts. */
  redisConfig: z.strictObject({ volume: z.string().regex(SLUG), dir: containerPath }).optional(),
});
export type ServiceSettings = z.infer<typeof serviceSettingsSchema>;

/** How a release command finds the database to snapshot first. */
export const snapshotSettingsSchema = z.strictObject({
  service: z.string().regex(SLUG),
  container: z.string().regex(SLUG),
  user: z.string(),
  database: z.string(),
  dir: z.string().min(1),
  keep: z.number().int().min(1),
});
export type SnapshotSettings = z.infer<typeof snapshotSettingsSchema>;

/**
 * The runner's settings of the services that run as containers (managed ones are not the deployer's).
 * `privateAddress`: several servers; this one's private address, where the others reach its services.
 */
export function serviceSettingsOf(app: string, appDir: string, services: ServiceConfig[], privateAddress?: string): ServiceSettings[] {
  return services
    .filter((s) => !s.managed)
    .map((s): ServiceSettings => {
      const container = serviceContainerOf(app, s.name);
      const mounts = s.volumes.map((v) => ({ volume: serviceVolumeOf(app, s.name, v.name), path: v.path }));
      const shared = sharedServicePort(s);
      const privatePort = privateAddress !== undefined && shared !== undefined ? { privatePort: { address: privateAddress, port: shared } } : {};
      const common = { name: s.name, kind: s.kind, container, image: s.image, mounts, envFile: serviceEnvFileOf(appDir, s.name), ...privatePort };
      switch (s.kind) {
        case "postgres": {
          const loopbackPort = s.loopbackPort === undefined ? undefined : { host: s.loopbackPort, container: SERVICE_PORTS.postgres };
          return {
            ...common,
            env: { POSTGRES_USER: s.user, POSTGRES_DB: s.database },
            ...(loopbackPort ? { loopbackPort } : {}),
            // Over TCP: the official image's first-boot init server listens on the socket only, then restarts.
            ready: ["pg_isready", "--host", "127.0.0.1", "--port", String(SERVICE_PORTS.postgres), "--username", s.user, "--dbname", s.database],
            postgres: { major: s.version, user: s.user, database: s.database, ...optional("dataMount", mounts.find((m) => m.path === POSTGRES_DATA)?.volume) },
          };
        }
        case "redis": {
          const data = mounts.find((m) => m.path === "/data") ?? mounts[0];
          const loopbackPort = s.loopbackPort === undefined ? undefined : { host: s.loopbackPort, container: SERVICE_PORTS.redis };
          return {
            ...common,
            env: {},
            ...(data ? { command: ["redis-server", `${data.path}/${REDIS_CONFIG_FILE}`], redisConfig: { volume: data.volume, dir: data.path } } : {}),
            ...(loopbackPort ? { loopbackPort } : {}),
            ready: ["redis-cli", "ping"],
          };
        }
        case "accessory":
          return {
            ...common,
            env: s.env,
            ...(s.command ? { command: s.command } : {}),
            ...(s.loopbackPort !== undefined && s.port !== undefined ? { loopbackPort: { host: s.loopbackPort, container: s.port } } : {}),
            ...(s.ready ? { ready: s.ready } : {}),
          };
      }
    });
}

/** The release snapshots the first PostgreSQL service on the server before its release command (keep 0: none). */
export function snapshotSettingsOf(app: string, appDir: string, services: ServiceConfig[]): SnapshotSettings | undefined {
  const db = services.find((s) => s.kind === "postgres" && !s.managed);
  if (!db || db.kind !== "postgres" || db.snapshots.keep === 0) return undefined;
  return { service: db.name, container: serviceContainerOf(app, db.name), user: db.user, database: db.database, dir: snapshotDirOf(appDir), keep: db.snapshots.keep };
}

/** The URL of a service that runs in a container, by its name on the app's network (the same form as a managed one's). */
export function containerServiceUrl(s: ServiceConfig, password: string): string | undefined {
  if (s.kind === "postgres") return postgresUrl({ host: s.name, port: SERVICE_PORTS.postgres, user: s.user, password, database: s.database });
  if (s.kind === "redis") return redisUrl({ host: s.name, port: SERVICE_PORTS.redis, password });
  return undefined;
}

/** The app's env from the services' URLs: each URL under each of its service's urlEnv names. */
export function serviceUrlEnv(services: ServiceConfig[], urls: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    const url = urls[s.name];
    if (url === undefined) continue;
    for (const name of s.urlEnv) env[name] = url;
  }
  return env;
}

/** Each service's URL: the container's name on the app's network, or the managed instance's (given). */
export function serviceUrls(services: ServiceConfig[], passwords: Record<string, string>, managedUrls: Record<string, string>): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const s of services) {
    const url = s.managed ? managedUrls[s.name] : containerServiceUrl(s, passwords[s.name] ?? "");
    if (url !== undefined) urls[s.name] = url;
  }
  return urls;
}

/** The services step's stdin: the containers' passwords, and each accessory's share of secretEnv. */
export function serviceSecretsOf(services: ServiceConfig[], passwords: Record<string, string>, secretEnv: Record<string, string>): ServiceSecrets {
  const out: ServiceSecrets = {};
  for (const s of services) {
    if (s.managed) continue;
    if (s.kind === "accessory") out[s.name] = { env: Object.fromEntries(s.secretEnv.map((n) => [n, secretEnv[n] ?? ""])) };
    else out[s.name] = { password: passwords[s.name] };
  }
  return out;
}

/** What each service gets on stdin: its password (PostgreSQL, Redis) and an accessory's shared secret env. */
export const serviceSecretsSchema = z.record(z.string(), z.strictObject({ password: z.string().optional(), env: z.record(z.string(), z.string()).optional() }));
export type ServiceSecrets = z.infer<typeof serviceSecretsSchema>;

/** A container's env file: its plain env, its password under the image's variable (PostgreSQL), its secret env. */
export function serviceContainerEnv(s: ServiceSettings, secrets: ServiceSecrets[string] | undefined): Record<string, string> {
  const env = { ...s.env, ...(secrets?.env ?? {}) };
  if (s.kind === "postgres") {
    if (!secrets?.password) throw new Error(`service ${s.name}: no password was given on stdin`);
    env.POSTGRES_PASSWORD = secrets.password;
  }
  return env;
}

/** Redis's config: the password, and an append-only file so queued jobs survive a restart. */
export function renderRedisConfig(password: string): string {
  if (/[\s"'\\]/.test(password)) throw new Error("the Redis password must not hold whitespace, quotes or backslashes (redis.conf would misread it)");
  return `requirepass ${password}\nappendonly yes\n`;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
