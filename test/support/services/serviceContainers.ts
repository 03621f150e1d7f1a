// PostgreSQL and Redis containers on a user-defined network, as pydeploy's services run beside an
// app: started from the test images (serviceImages.ts) and waited for, with every container,
// volume and network a test makes removed by one cleanup. Passwords reach the containers through
// the docker CLI's environment (`-e NAME`), never its command line.
import { randomBytes } from "node:crypto";
import { docker, type RunResult, uniqueName, waitFor } from "../docker/localEngine";
import { TEST_POSTGRES_IMAGE, TEST_REDIS_IMAGE, type ServiceImages } from "./serviceImages";

/** Where pydeploy's deployer writes the Redis config (requirepass, appendonly) in the data volume. */
export const REDIS_CONFIG_PATH = "/data/pydeploy-redis.conf";
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

/** Containers, volumes and networks made under one prefix; `cleanup` removes them all. */
export class DockerScratch {
  private readonly containers = new Set<string>();
  private readonly volumes = new Set<string>();
  private readonly networks = new Set<string>();

  constructor(readonly prefix: string) {}

  /** A fresh name under the prefix, recorded as a container to remove. */
  container(what: string): string {
    const name = uniqueName(`${this.prefix}-${what}`);
    this.containers.add(name);
    return name;
  }

  /** Records a container named elsewhere, for removal. */
  adopt(container: string): string {
    this.containers.add(container);
    return container;
  }

  async network(what = "net"): Promise<string> {
    const name = uniqueName(`${this.prefix}-${what}`);
    this.networks.add(name);
    await docker(["network", "create", name]);
    return name;
  }

  async volume(what: string): Promise<string> {
    const name = uniqueName(`${this.prefix}-${what}`);
    this.volumes.add(name);
    await docker(["volume", "create", name]);
    return name;
  }

  /** Containers first (they hold the volumes and networks), then volumes and networks. */
  async cleanup(): Promise<void> {
    if (this.containers.size) await docker(["rm", "-f", "-v", ...this.containers], { allowFailure: true });
    if (this.volumes.size) await docker(["volume", "rm", "-f", ...this.volumes], { allowFailure: true });
    for (const n of this.networks) await docker(["network", "rm", n], { allowFailure: true });
    this.containers.clear();
    this.volumes.clear();
    this.networks.clear();
  }
}

/** A password with no character that needs quoting in a URL or a config file. */
export function testPassword(): string {
  return randomBytes(12).toString("hex");
}

/** `docker run --rm` of `image` on `network`; `env`'s values go through the CLI's environment. */
export async function runOnNetwork(
  network: string,
  image: string,
  argv: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const env = opts.env ?? {};
  return docker(["run", "--rm", "--network", network, ...Object.keys(env).flatMap((k) => ["-e", k]), image, ...argv], {
    env: { ...process.env, ...env },
    allowFailure: true,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

/** `docker exec` in `container`; `env`'s values go through the CLI's environment. */
export async function execIn(container: string, argv: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return docker(["exec", ...Object.keys(env).flatMap((k) => ["-e", k]), container, ...argv], {
    env: { ...process.env, ...env },
    allowFailure: true,
    timeoutMs: 60_000,
  });
}

export interface PostgresOptions {
  network: string;
  image?: string;
  /** Its host name on the network (pydeploy: the service's name); default: the container's name. */
  alias?: string;
  user?: string;
  password?: string;
  database?: string;
  /** The data volume (PGDATA); default: a new one. An initialized one is reused as it is. */
  volume?: string;
}

export interface PostgresService {
  container: string;
  /** The name other containers on the network reach it by. */
  host: string;
  network: string;
  volume: string;
  user: string;
  password: string;
  database: string;
  /** postgres://user:password@host:5432/database, what pydeploy puts in DATABASE_URL. */
  url: string;
}

/** Starts PostgreSQL and waits until it accepts TCP connections (the init's socket-only server does not). */
export async function startPostgres(scratch: DockerScratch, o: PostgresOptions): Promise<PostgresService> {
  const container = scratch.container("postgres");
  const volume = o.volume ?? (await scratch.volume("pgdata"));
  const user = o.user ?? "app";
  const password = o.password ?? testPassword();
  const database = o.database ?? user;
  const host = o.alias ?? container;
  await docker(
    [
      "run", "-d", "--name", container, "--network", o.network, ...(o.alias ? ["--network-alias", o.alias] : []),
      "-e", "POSTGRES_USER", "-e", "POSTGRES_PASSWORD", "-e", "POSTGRES_DB",
      "-v", `${volume}:/var/lib/postgresql/data`, o.image ?? TEST_POSTGRES_IMAGE,
    ],
    { env: { ...process.env, POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: database } },
  );
  const service = { container, host, network: o.network, volume, user, password, database, url: `postgres://${user}:${password}@${host}:${POSTGRES_PORT}/${database}` };
  await waitForPostgres(service);
  return service;
}

/** pg_isready over TCP inside the container: true once the real server (not the init's) listens. */
export async function waitForPostgres(s: { container: string; user: string; database: string }, timeoutMs = 60_000): Promise<void> {
  await waitFor(`PostgreSQL in ${s.container}`, async () => {
    const r = await execIn(s.container, ["pg_isready", "-h", "127.0.0.1", "-U", s.user, "-d", s.database]);
    if (r.code === 0) return true;
    const state = (await docker(["inspect", "--format", "{{.State.Running}}", s.container])).stdout.trim();
    if (state !== "true") throw new Error(`container ${s.container} stopped:\n${(await docker(["logs", s.container], { allowFailure: true })).stderr}`);
    return undefined;
  }, { timeoutMs, intervalMs: 300 });
}

/** `psql` as the service's user from a new container on its network, the password in PGPASSWORD. */
export async function psqlFromNetwork(s: PostgresService, sql: string, password = s.password): Promise<RunResult> {
  return runOnNetwork(s.network, TEST_POSTGRES_IMAGE, ["psql", "-h", s.host, "-U", s.user, "-d", s.database, "-v", "ON_ERROR_STOP=1", "-Atc", sql], {
    env: { PGPASSWORD: password },
  });
}

export interface RedisOptions {
  network: string;
  image?: string;
  alias?: string;
  password?: string;
  /** The data volume (/data); default: a new one. */
  volume?: string;
}

export interface RedisService {
  container: string;
  host: string;
  network: string;
  volume: string;
  password: string;
  /** redis://:password@host:6379/0, what pydeploy puts in REDIS_URL and CELERY_BROKER_URL. */
  url: string;
}

/**
 * Writes the config pydeploy's deployer writes into the data volume (root's, mode 600:
 * requirepass and appendonly), then starts `redis-server` on it, as the deployer does, and waits
 * for an authenticated PONG.
 */
export async function startRedis(scratch: DockerScratch, o: RedisOptions): Promise<RedisService> {
  const image = o.image ?? TEST_REDIS_IMAGE;
  const volume = o.volume ?? (await scratch.volume("redisdata"));
  const password = o.password ?? testPassword();
  await writeRedisConfig(image, volume, password);
  const container = scratch.container("redis");
  const host = o.alias ?? container;
  await docker([
    "run", "-d", "--name", container, "--network", o.network, ...(o.alias ? ["--network-alias", o.alias] : []),
    "-v", `${volume}:/data`, image, "redis-server", REDIS_CONFIG_PATH,
  ]);
  const service = { container, host, network: o.network, volume, password, url: `redis://:${password}@${host}:${REDIS_PORT}/0` };
  await waitForRedis(service);
  return service;
}

/** The deployer's config file, written by root with mode 600 into the volume. */
export async function writeRedisConfig(image: string, volume: string, password: string): Promise<void> {
  await docker(
    [
      "run", "--rm", "--user", "0", "-e", "PYDEPLOY_REDIS_PASSWORD", "-v", `${volume}:/data`, "--entrypoint", "sh", image, "-c",
      `umask 077 && printf 'requirepass %s\\nappendonly yes\\n' "$PYDEPLOY_REDIS_PASSWORD" > ${REDIS_CONFIG_PATH}`,
    ],
    { env: { ...process.env, PYDEPLOY_REDIS_PASSWORD: password } },
  );
}

export async function waitForRedis(s: { container: string; password: string }, timeoutMs = 30_000): Promise<void> {
  await waitFor(`Redis in ${s.container}`, async () => {
    const r = await execIn(s.container, ["redis-cli", "ping"], { REDISCLI_AUTH: s.password });
    return r.stdout.trim() === "PONG" ? true : undefined;
  }, { timeoutMs, intervalMs: 200 });
}

export interface AppServices {
  network: string;
  db: PostgresService;
  cache: RedisService;
  /** What pydeploy gives the app's containers: DATABASE_URL, REDIS_URL, CELERY_BROKER_URL. */
  env: Record<string, string>;
}

/**
 * A new network with PostgreSQL as `db` and Redis as `cache` on it (the names the Celery
 * fixture's stack config gives them), started side by side.
 */
export async function startAppServices(scratch: DockerScratch, images: ServiceImages, o: { database?: string; user?: string } = {}): Promise<AppServices> {
  const network = await scratch.network();
  const [db, cache] = await Promise.all([
    startPostgres(scratch, { network, image: images.postgres, alias: "db", user: o.user ?? "jobs", database: o.database ?? o.user ?? "jobs" }),
    startRedis(scratch, { network, image: images.redis, alias: "cache" }),
  ]);
  return { network, db, cache, env: { DATABASE_URL: db.url, REDIS_URL: cache.url, CELERY_BROKER_URL: cache.url } };
}
