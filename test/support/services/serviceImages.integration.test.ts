// The test service images (scripts/ensure-service-images.sh) against the interface of the official
// postgres and redis images that pydeploy's services rely on: the POSTGRES_* variables, password
// authentication from the network, PGDATA on a volume that outlives the container, the tools
// `docker exec` reaches; Redis's chown of /data, the config file in the volume, AOF persistence.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { docker, uniqueName, waitFor } from "../docker/localEngine";
import {
  DockerScratch, execIn, type PostgresService, psqlFromNetwork, REDIS_CONFIG_PATH, type RedisService, runOnNetwork, startPostgres, startRedis, testPassword,
  waitForPostgres, waitForRedis,
} from "./serviceContainers";
import { ensureServiceImages, type ServiceImages } from "./serviceImages";

describe("the test PostgreSQL and Redis images", { timeout: 5 * 60_000 }, () => {
  const scratch = new DockerScratch(uniqueName("pydeploy-svc-it"));
  let images: ServiceImages;
  let network: string;

  before(async () => {
    images = ensureServiceImages();
    network = await scratch.network();
  }, { timeout: 5 * 60_000 });

  after(() => scratch.cleanup());

  describe("postgres", () => {
    let pg: PostgresService;

    before(async () => {
      pg = await startPostgres(scratch, { network, image: images.postgres, alias: "db", user: "shop", database: "shopdb" });
    }, { timeout: 120_000 });

    it("accepts the POSTGRES_USER with its password from another container, and refuses a wrong one", async () => {
      const ok = await psqlFromNetwork(pg, "SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user");
      assert.equal(ok.code, 0, `psql with the password: ${ok.stderr}`);
      assert.equal(ok.stdout.trim(), "shop|shopdb|t", "POSTGRES_USER is the superuser and POSTGRES_DB exists");
      const wrong = await psqlFromNetwork(pg, "SELECT 1", "not-the-password");
      assert.notEqual(wrong.code, 0, "a wrong password is refused");
      assert.match(wrong.stderr, /password authentication failed for user "shop"/, `and says so: ${wrong.stderr}`);
    });

    it("initialized the cluster like the official image: PG_VERSION 15, scram-sha-256 for the network, UTF8", async () => {
      const version = await execIn(pg.container, ["cat", "/var/lib/postgresql/data/PG_VERSION"]);
      assert.equal(version.stdout.trim(), "15", "PG_VERSION in PGDATA says 15");
      const hba = (await execIn(pg.container, ["cat", "/var/lib/postgresql/data/pg_hba.conf"])).stdout;
      const rules = hba.split("\n").map((l) => l.trim().replace(/\s+/g, " ")).filter((l) => l && !l.startsWith("#"));
      assert.ok(rules.includes("local all all trust"), `the socket is trusted (docker exec needs no password): ${rules.join(" / ")}`);
      assert.equal(rules.at(-1), "host all all all scram-sha-256", `the network needs the password, last rule: ${rules.join(" / ")}`);
      const settings = await psqlFromNetwork(pg, "SELECT current_setting('listen_addresses'), current_setting('password_encryption'), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()");
      assert.equal(settings.stdout.trim(), "*|scram-sha-256|UTF8", `listen_addresses, password hashing, encoding: ${settings.stderr}`);
      const owner = await execIn(pg.container, ["stat", "-c", "%U %a", "/var/lib/postgresql/data"]);
      assert.equal(owner.stdout.trim(), "postgres 700", "PGDATA is postgres's, mode 700");
      const pid1 = await execIn(pg.container, ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; stat -c %U /proc/1"]);
      assert.match(pid1.stdout.trim(), /^postgres \npostgres$/, `postgres itself is PID 1, as user postgres (it gets the stop signal): ${pid1.stdout}`);
    });

    it("answers pg_isready and dumps with pg_dump -Fc through docker exec", async () => {
      const ready = await execIn(pg.container, ["pg_isready", "-U", pg.user, "-d", pg.database]);
      assert.equal(ready.code, 0, `pg_isready: ${ready.stdout}${ready.stderr}`);
      assert.match(ready.stdout, /accepting connections/, "pg_isready says it accepts connections");
      const made = await psqlFromNetwork(pg, "CREATE TABLE item (name text); INSERT INTO item VALUES ('first')");
      assert.equal(made.code, 0, `create a table: ${made.stderr}`);
      const dump = await execIn(pg.container, ["sh", "-c", `pg_dump -U ${pg.user} -Fc ${pg.database} > /tmp/dump && head -c 5 /tmp/dump && echo && pg_restore --list /tmp/dump`]);
      assert.equal(dump.code, 0, `pg_dump and pg_restore --list: ${dump.stderr}`);
      assert.match(dump.stdout, /^PGDMP\n/, "a custom-format dump");
      assert.match(dump.stdout, /TABLE DATA public item shop/, "that holds the table's data");
    });

    it("keeps the data in the volume across docker rm -f and a new container, without initializing again", { timeout: 120_000 }, async () => {
      const row = await psqlFromNetwork(pg, "CREATE TABLE IF NOT EXISTS kept (v text); INSERT INTO kept VALUES ('survives')");
      assert.equal(row.code, 0, `insert: ${row.stderr}`);
      await docker(["rm", "-f", pg.container]);
      // Other variables on purpose: an initialized data directory is used as it is.
      const next = await startPostgres(scratch, { network, image: images.postgres, alias: "db", volume: pg.volume, user: "shop", database: "shopdb", password: pg.password });
      const kept = await psqlFromNetwork(next, "SELECT v FROM kept");
      assert.equal(kept.stdout.trim(), "survives", `the row is still there: ${kept.stderr}`);
      assert.match((await docker(["logs", next.container])).stdout, /Skipping initialization/, "the entrypoint saw PG_VERSION and skipped initdb");
      pg = next;
    });

    it("stops cleanly on docker stop (fast shutdown, exit 0)", { timeout: 60_000 }, async () => {
      const started = Date.now();
      await docker(["stop", "--time", "30", pg.container]);
      const seconds = (Date.now() - started) / 1000;
      const state = (await docker(["inspect", "--format", "{{.State.ExitCode}} {{.Config.StopSignal}}", pg.container])).stdout.trim();
      assert.equal(state, "0 SIGINT", "postgres exits 0 on the image's stop signal (SIGINT, as the official image)");
      const logs = (await docker(["logs", pg.container])).stderr;
      assert.match(logs, /received fast shutdown request[\s\S]*database system is shut down/, "a fast shutdown with a final checkpoint");
      assert.ok(seconds < 10, `it did not wait for the kill (${seconds.toFixed(1)} s)`);
    });

    it("defaults like the official image: user postgres, database = user; shuts down on SIGTERM; refuses to initialize without a password", { timeout: 120_000 }, async () => {
      const bare = scratch.container("pg-defaults");
      await docker(["run", "-d", "--name", bare, "--network", network, "-e", "POSTGRES_PASSWORD", images.postgres], {
        env: { ...process.env, POSTGRES_PASSWORD: testPassword() },
      });
      await waitForPostgres({ container: bare, user: "postgres", database: "postgres" });
      const who = await execIn(bare, ["psql", "-U", "postgres", "-Atc", "SELECT current_user, current_database()"]);
      assert.equal(who.stdout.trim(), "postgres|postgres", `the defaults: ${who.stderr}`);
      // SIGTERM (a plain `docker kill -s TERM`, or a runtime that ignores STOPSIGNAL) reaches postgres too: a smart shutdown.
      await docker(["kill", "--signal", "TERM", bare]);
      const stopped = await waitFor("postgres to exit on SIGTERM", async () => {
        const st = (await docker(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", bare])).stdout.trim();
        return st.startsWith("false") ? st : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      assert.equal(stopped, "false 0", "postgres exits 0 on SIGTERM");
      assert.match((await docker(["logs", bare])).stderr, /received smart shutdown request[\s\S]*database system is shut down/, "a smart shutdown");

      const nopass = scratch.container("pg-nopass");
      await docker(["run", "--name", nopass, images.postgres], { allowFailure: true, timeoutMs: 60_000 });
      const exit = (await docker(["inspect", "--format", "{{.State.ExitCode}}", nopass])).stdout.trim();
      assert.equal(exit, "1", "no POSTGRES_PASSWORD on an empty data directory: exit 1");
      assert.match((await docker(["logs", nopass])).stderr, /superuser password is not specified/, "with the official image's message");
    });
  });

  describe("redis", () => {
    let redis: RedisService;

    before(async () => {
      redis = await startRedis(scratch, { network, image: images.redis, alias: "cache" });
    }, { timeout: 60_000 });

    it("reads the root-owned 600 config in the volume (chowned to redis) and requires its password", async () => {
      const noAuth = await runOnNetwork(network, images.redis, ["redis-cli", "-h", redis.host, "ping"]);
      assert.match(noAuth.stdout + noAuth.stderr, /NOAUTH Authentication required/, "no password: NOAUTH");
      const withAuth = await runOnNetwork(network, images.redis, ["redis-cli", "-h", redis.host, "ping"], { env: { REDISCLI_AUTH: redis.password } });
      assert.equal(withAuth.stdout.trim(), "PONG", `with REDISCLI_AUTH: PONG (${withAuth.stderr})`);
      const conf = await execIn(redis.container, ["stat", "-c", "%U %a", REDIS_CONFIG_PATH]);
      assert.equal(conf.stdout.trim(), "redis 600", "the entrypoint gave the config to redis; its mode stays 600");
      const who = await execIn(redis.container, ["sh", "-c", "stat -c %U /proc/1; tr '\\0' ' ' < /proc/1/cmdline"]);
      assert.match(who.stdout, /^redis\nredis-server /, `redis-server is PID 1, as user redis: ${who.stdout}`);
      const aof = await execIn(redis.container, ["redis-cli", "config", "get", "appendonly"], { REDISCLI_AUTH: redis.password });
      assert.equal(aof.stdout.trim().split("\n").join(" "), "appendonly yes", "the config file is the one in use");
    });

    it("keeps data written with appendonly across docker rm -f and a new container", { timeout: 60_000 }, async () => {
      const set = await runOnNetwork(network, images.redis, ["redis-cli", "-h", redis.host, "set", "greeting", "hello"], { env: { REDISCLI_AUTH: redis.password } });
      assert.equal(set.stdout.trim(), "OK", `SET: ${set.stderr}`);
      await docker(["rm", "-f", redis.container]);
      const container = scratch.container("redis-again");
      await docker(["run", "-d", "--name", container, "--network", network, "--network-alias", "cache", "-v", `${redis.volume}:/data`, images.redis, "redis-server", REDIS_CONFIG_PATH]);
      await waitForRedis({ container, password: redis.password });
      const get = await runOnNetwork(network, images.redis, ["redis-cli", "-h", "cache", "get", "greeting"], { env: { REDISCLI_AUTH: redis.password } });
      assert.equal(get.stdout.trim(), "hello", `the key is back from the append-only file: ${get.stderr}`);
      redis = { ...redis, container };
    });

    it("without a config runs like the official image: no Debian redis.conf, protected mode off, reachable from the network", { timeout: 60_000 }, async () => {
      const bare = scratch.container("redis-bare");
      await docker(["run", "-d", "--name", bare, "--network", network, images.redis]);
      const pong = await waitFor("a PONG from the bare redis", async () => {
        const r = await runOnNetwork(network, images.redis, ["redis-cli", "-h", bare, "ping"]);
        return r.stdout.trim() === "PONG" ? r.stdout.trim() : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300 });
      assert.equal(pong, "PONG", "another container gets PONG without a password");
      const info = await execIn(bare, ["sh", "-c", "redis-cli info server | grep -E '^(config_file|redis_version):'; redis-cli config get protected-mode; redis-cli config get dir"]);
      const lines = info.stdout.trim().split(/\r?\n/).map((l) => l.trim());
      assert.ok(lines.includes("config_file:"), `no config file (not /etc/redis/redis.conf): ${lines.join(" / ")}`);
      assert.ok(lines.some((l) => /^redis_version:7\./.test(l)), `Redis 7: ${lines.join(" / ")}`);
      assert.deepEqual(lines.slice(-4), ["protected-mode", "no", "dir", "/data"], "protected mode off, working directory /data");
    });

    it("stops on docker stop with exit 0", { timeout: 60_000 }, async () => {
      await docker(["stop", "--time", "30", redis.container]);
      const exit = (await docker(["inspect", "--format", "{{.State.ExitCode}}", redis.container])).stdout.trim();
      assert.equal(exit, "0", "redis-server (PID 1) handled SIGTERM");
    });
  });
});
