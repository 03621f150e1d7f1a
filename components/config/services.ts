// The `services` section: what the app needs beside it (Kamal's accessories, Fly's attached
// Postgres), each a long-lived container on the app's private network that deploys leave alone,
// or, on the alicloud target, a managed instance (RDS for PostgreSQL, KVStore for Redis).
// A map keyed by the service's name, which is also its host name on that network. Pure.
import { z } from "zod";
import type { RoleConfig } from "./app";
import type { Problem } from "./errors";
import { boolean, command, containerPath, envName, envValue, imageReference, integer, port, slug } from "./fields";

const volumes = z.record(slug("a volume name", 20), containerPath, { error: "expected volumes as name: /container/path" });
const urlEnv = z.array(envName, { error: "expected a list of environment variable names" });

// Published on the server's 127.0.0.1 only, for an SSH tunnel (ssh -L); unset: on no host interface.
const loopbackPort = port.optional();

/** A managed instance's size on the alicloud target (the RDS or KVStore instance class). */
const managedShape = {
  managed: boolean.default(false),
  instanceClass: z.string().regex(/^[a-z0-9.]+$/, { error: "expected an instance class such as pg.n2.2c.1m or redis.master.small.default" }).optional(),
};

const postgresSchema = z.strictObject({
  kind: z.literal("postgres"),
  // The major version: a change of it is refused (the data directory needs pg_upgrade).
  version: integer(10, 99, "a PostgreSQL major version such as 16"),
  image: imageReference.optional(),
  database: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "expected a database name: lowercase letters, digits and _" }).optional(),
  user: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "expected a user name: lowercase letters, digits and _" }).optional(),
  urlEnv: urlEnv.default(["DATABASE_URL"]),
  loopbackPort,
  volumes: volumes.default({ data: "/var/lib/postgresql/data" }),
  // pg_dump before each run of app.release; the newest `keep` dumps stay on the server (0: none).
  snapshots: z.strictObject({ keep: integer(0, 100, "a count from 0 to 100") }).default({ keep: 5 }),
  storageGb: integer(20, 32000, "a disk size in GB from 20").default(20),
  ...managedShape,
});

const redisSchema = z.strictObject({
  kind: z.literal("redis"),
  version: integer(5, 99, "a Redis major version such as 7"),
  image: imageReference.optional(),
  urlEnv: urlEnv.default(["REDIS_URL", "CELERY_BROKER_URL"]),
  loopbackPort,
  volumes: volumes.default({ data: "/data" }),
  ...managedShape,
});

const accessorySchema = z.strictObject({
  kind: z.literal("accessory"),
  image: imageReference,
  // The port it listens on, on the app's network only (never published on the server).
  port: port.optional(),
  command: command.optional(),
  env: z.record(envName, envValue).default({}),
  // Names from pydeploy:secretEnv that this service gets too (e.g. a shared master key).
  secretEnv: z.array(envName, { error: "expected a list of names from secretEnv" }).default([]),
  volumes: volumes.default({}),
  // Run inside it until it succeeds before the release command runs, e.g. ["curl", "-fs", "localhost:7700/health"].
  ready: command.optional(),
  loopbackPort,
});

const serviceSchema = z.discriminatedUnion("kind", [postgresSchema, redisSchema, accessorySchema], {
  error: "expected kind: postgres, redis or accessory",
});

export const servicesSchema = z.record(slug("a service name", 20), serviceSchema).default({});
export type ParsedServices = z.output<typeof servicesSchema>;

interface ServiceBase {
  name: string;
  image: string;
  /** Docker volume suffixes (the volume is <app>-<service>-<name>) and where they are mounted. */
  volumes: { name: string; path: string }[];
  /** The variables of the app's env that get this service's URL. */
  urlEnv: string[];
  /** Published on the server's 127.0.0.1 (for an SSH tunnel). */
  loopbackPort?: number;
}
export interface PostgresServiceConfig extends ServiceBase {
  kind: "postgres";
  version: number;
  database: string;
  user: string;
  snapshots: { keep: number };
  managed: boolean;
  instanceClass?: string;
  storageGb: number;
}
export interface RedisServiceConfig extends ServiceBase {
  kind: "redis";
  version: number;
  managed: boolean;
  instanceClass?: string;
}
export interface AccessoryServiceConfig extends ServiceBase {
  kind: "accessory";
  port?: number;
  command?: string[];
  env: Record<string, string>;
  secretEnv: string[];
  ready?: string[];
  managed: false;
}
export type ServiceConfig = PostgresServiceConfig | RedisServiceConfig | AccessoryServiceConfig;

/** The port each kind listens on inside its container (and on its managed instance). */
export const SERVICE_PORTS = { postgres: 5432, redis: 6379 } as const;

/**
 * The port a service container listens on for the app (none: an accessory without `port`). With
 * several servers, the first server publishes it on its private address for the others.
 */
export function sharedServicePort(s: ServiceConfig): number | undefined {
  if (s.managed) return undefined;
  return s.kind === "accessory" ? s.port : SERVICE_PORTS[s.kind];
}

/** Defaults filled in: the image from the version, the database and user from the app's name. */
export function resolveServices(appName: string, parsed: ParsedServices): ServiceConfig[] {
  const sqlName = appName.replace(/-/g, "_");
  return Object.entries(parsed).map(([name, s]): ServiceConfig => {
    const vols = Object.entries(s.volumes).map(([volume, path]) => ({ name: volume, path }));
    switch (s.kind) {
      case "postgres":
        return { ...s, name, image: s.image ?? `postgres:${s.version}`, database: s.database ?? sqlName, user: s.user ?? sqlName, volumes: vols };
      case "redis":
        return { ...s, name, image: s.image ?? `redis:${s.version}`, volumes: vols };
      case "accessory":
        return { ...s, name, volumes: vols, urlEnv: [], managed: false };
    }
  });
}

/** The rules across sections: names, variables, volumes and targets the services share with the app. */
export function checkServices(
  services: ServiceConfig[],
  ctx: { target: string; roles: RoleConfig[]; hostPorts: Map<number, string>; appEnv: Record<string, string>; secretEnv: Record<string, string>; appVolumes: string[]; workdir: string },
  problem: Problem,
): void {
  const hostPorts = new Map([...ctx.hostPorts].map(([p, role]) => [p, `role ${role}`]));
  const roleNames = new Set(ctx.roles.map((r) => r.name));
  const urlOwners = new Map<string, string>();
  const appVolumes = new Set(ctx.appVolumes);
  for (const s of services) {
    const key = `services.${s.name}`;
    if (roleNames.has(s.name)) problem(key, `is also the name of a role (app.roles.${s.name}); a service and a role share the app's network by name: rename one`);
    if (s.managed && ctx.target !== "alicloud") {
      problem(`${key}.managed`, `a managed ${s.kind === "postgres" ? "RDS" : "KVStore"} instance is created on the alicloud target only (this stack's target is ${ctx.target}); leave managed out to run ${s.kind} in a container`);
    }
    if (s.loopbackPort !== undefined) {
      const other = hostPorts.get(s.loopbackPort);
      if (other) problem(`${key}.loopbackPort`, `host port ${s.loopbackPort} is already published by ${other}; pick another`);
      else hostPorts.set(s.loopbackPort, `service ${s.name}`);
      if (s.managed) problem(`${key}.loopbackPort`, "a managed instance runs on no server of this stack: there is no port to publish");
    }
    if (!s.managed && "instanceClass" in s && s.instanceClass !== undefined) problem(`${key}.instanceClass`, "applies to a managed instance only: set managed: true too");
    for (const name of s.urlEnv) {
      const other = urlOwners.get(name);
      if (other) problem(`${key}.urlEnv`, `${name} is already set by service ${other}`);
      else urlOwners.set(name, s.name);
      if (name in ctx.appEnv) problem(`${key}.urlEnv`, `${name} is also set in app.env; the service sets it (rename it with urlEnv)`);
      if (name in ctx.secretEnv) problem(`${key}.urlEnv`, `${name} is also set in secretEnv; the service sets it (rename it with urlEnv)`);
    }
    if (s.kind === "accessory") {
      if (s.loopbackPort !== undefined && s.port === undefined) problem(`${key}.loopbackPort`, "expected `port` too: the loopback port maps to the port the accessory listens on");
      for (const name of s.secretEnv) if (!(name in ctx.secretEnv)) problem(`${key}.secretEnv`, `${name} is not set in secretEnv (pulumi config set --secret --path secretEnv.${name} ...)`);
      for (const name of Object.keys(s.env)) if (s.secretEnv.includes(name)) problem(`${key}.env.${name}`, "is also listed in its secretEnv; keep each variable in one place");
    }
    const paths = new Map<string, string>();
    for (const v of s.volumes) {
      // <app>-<service>-<volume> must not be the Docker volume of an app volume <app>-<name>.
      const dockerSuffix = `${s.name}-${v.name}`;
      if (appVolumes.has(dockerSuffix)) problem(`${key}.volumes.${v.name}`, `would be the same Docker volume as app.volumes.${dockerSuffix}; rename one`);
      // A service runs its own image: the app's code folder is not in it, so such a path is a mix-up.
      if (v.path === ctx.workdir || v.path.startsWith(`${ctx.workdir}/`)) {
        problem(`${key}.volumes.${v.name}`, `${v.path} is under app.workdir (${ctx.workdir}), the app's code in the app's image; ${s.name} runs its own image: mount its data where that image keeps it (e.g. ${s.kind === "redis" ? "/data" : s.kind === "postgres" ? "/var/lib/postgresql/data" : "/data"})`);
      }
      const other = paths.get(v.path);
      if (other) problem(`${key}.volumes.${v.name}`, `${v.path} is already the path of volume ${other}`);
      else paths.set(v.path, v.name);
    }
  }
}
