// The services step (components/deploy/runner/services.ts) and the release's snapshot against the
// in-memory Docker host: created once, left alone when unchanged, replaced in place with the data
// kept, the old container back when the new one does not answer, a major version refused first.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveServices, servicesSchema } from "../../../components/config/services";
import { removeServices, runServices } from "../../../components/deploy/runner/services";
import { snapshotFileName, takeSnapshot } from "../../../components/deploy/runner/snapshot";
import { runServiceContainer } from "../../../components/deploy/services/serviceCommands";
import { removeApp } from "../../../components/deploy/runner/remove";
import { serviceSettingsOf, servicesNetworkOf, snapshotSettingsOf, type ServiceSecrets } from "../../../components/deploy/services/serviceSpec";
import type { ServicesSpec } from "../../../components/deploy/spec";
import { FakeDockerHost } from "../../support/docker/fakeDocker";

const APP_DIR = ".pydeploy/shop";
const PASSWORDS: ServiceSecrets = { db: { password: "pgSecret1" }, cache: { password: "redisSecret1" }, search: { env: { MEILI_MASTER_KEY: "meiliKey1" } } };

function servicesOf(raw: unknown) {
  return resolveServices("shop", servicesSchema.parse(raw));
}
const CONFIG = {
  db: { kind: "postgres", version: 15, image: "pydeploy-test/postgres:15" },
  cache: { kind: "redis", version: 7, image: "pydeploy-test/redis:7" },
  search: { kind: "accessory", image: "getmeili/meilisearch:v1.8", port: 7700, env: { MEILI_ENV: "production" }, secretEnv: ["MEILI_MASTER_KEY"], volumes: { data: "/meili_data" } },
};

function specOf(raw: unknown = CONFIG): ServicesSpec {
  return {
    specVersion: 1, target: { kind: "ssh", host: "203.0.113.7", port: 22, user: "root" }, app: "shop", appDir: APP_DIR, connectTimeoutSeconds: 30,
    network: servicesNetworkOf("shop"), services: serviceSettingsOf("shop", APP_DIR, servicesOf(raw)), readyTimeoutSeconds: 5, logMaxSize: "10m", logMaxFiles: 3,
  };
}

function hostWithImages(): FakeDockerHost {
  const host = new FakeDockerHost();
  for (const tag of ["pydeploy-test/postgres:15", "pydeploy-test/postgres:16", "pydeploy-test/redis:7", "getmeili/meilisearch:v1.8"]) host.addImage({ tag, app: "none", labels: {} });
  return host;
}

async function run(host: FakeDockerHost, spec: ServicesSpec, secrets: ServiceSecrets = PASSWORDS) {
  const lines: string[] = [];
  const result = await runServices(host, spec, secrets, { log: (l) => lines.push(l), pollMs: 1 });
  return { lines, actions: Object.fromEntries(result.services.map((s) => [s.name, s.action])) };
}
const idOf = (host: FakeDockerHost, name: string) => [...host.containers.values()].find((c) => c.name === name)?.id;

describe("the services step", () => {
  test("first run: each service on the app's network under its name, volumes labelled with the app, secrets only in files", async () => {
    const host = hostWithImages();
    const { actions } = await run(host, specOf());
    assert.deepEqual(actions, { db: "created", cache: "created", search: "created" }, "all three created");
    assert.deepEqual(host.states(), { "shop-db": "running", "shop-cache": "running", "shop-search": "running" }, "three service containers run");
    assert.deepEqual(host.aliasTargets("shop-services", "db"), ["shop-db"], "db answers on the app's network by its name");
    assert.deepEqual([...host.volumes.keys()].sort(), ["shop-cache-data", "shop-db-data", "shop-search-data"], "one volume each, named <app>-<service>-<volume>");
    assert.equal(host.volumeLabels.get("shop-db-data")?.["pydeploy.app"], "shop", "service volumes carry the app's label (destroy keeps or removes them with the app's)");
    assert.equal(host.files.get(".pydeploy/shop/services/db.env"), "POSTGRES_DB=shop\nPOSTGRES_PASSWORD=pgSecret1\nPOSTGRES_USER=shop\n", "PostgreSQL's env file");
    assert.equal(host.files.get(".pydeploy/shop/services/search.env"), "MEILI_ENV=production\nMEILI_MASTER_KEY=meiliKey1\n", "the accessory's plain and secret env");
    assert.equal(host.volumeFiles.get("shop-cache-data")?.get("pydeploy-redis.conf"), "requirepass redisSecret1\nappendonly yes\n", "Redis's password is in its config file in the volume");
    const argv = host.history.map((a) => a.join(" ")).join("\n");
    for (const secret of ["pgSecret1", "redisSecret1", "meiliKey1"]) assert.ok(!argv.includes(secret), `${secret} is on no command line`);
    assert.deepEqual(host.sql, [{ container: "shop-db", sql: `ALTER ROLE "shop" WITH PASSWORD 'pgSecret1';\n` }], "the state's password is set on the data directory, as SQL on stdin");
    const cache = [...host.containers.values()].find((c) => c.name === "shop-cache")!;
    assert.deepEqual(cache.argv.slice(-2), ["redis-server", "/data/pydeploy-redis.conf"], "redis-server reads that config");
    assert.ok(!host.history.some((a) => a[0] === "docker" && a[1] === "run" && (a.includes("-p") || a.includes("--publish"))), "no port is published on any host interface");
  });

  test("several servers: each service's port is published on the first server's private address only, and that is a change of its settings", async () => {
    const shared = { ...specOf(), services: serviceSettingsOf("shop", APP_DIR, servicesOf(CONFIG), "10.0.0.5") };
    assert.deepEqual(shared.services.map((s) => [s.name, s.privatePort]), [["db", { address: "10.0.0.5", port: 5432 }], ["cache", { address: "10.0.0.5", port: 6379 }], ["search", { address: "10.0.0.5", port: 7700 }]], "the port each listens on");
    const host = hostWithImages();
    await run(host, specOf());
    const { actions } = await run(host, shared);
    assert.deepEqual(actions, { db: "replaced", cache: "replaced", search: "replaced" }, "publishing for the fleet replaces the containers (volumes kept)");
    const published = (name: string) => {
      const argv = [...host.containers.values()].find((c) => c.name === name)!.argv;
      return argv.flatMap((a, i) => (a === "-p" ? [argv[i + 1]] : []));
    };
    assert.deepEqual(published("shop-db"), ["10.0.0.5:5432:5432"], "PostgreSQL on the private address, not 0.0.0.0");
    assert.deepEqual(published("shop-cache"), ["10.0.0.5:6379:6379"], "Redis likewise");
    const v6 = serviceSettingsOf("shop", APP_DIR, servicesOf({ cache: CONFIG.cache }), "fd00::5");
    const argv = runServiceContainer({ app: "shop", network: "shop-services", service: v6[0], configHash: "h", logMaxSize: "10m", logMaxFiles: 3 });
    assert.equal(argv[argv.indexOf("-p") + 1], "[fd00::5]:6379:6379", "an IPv6 address in brackets");
    const quiet = serviceSettingsOf("shop", APP_DIR, servicesOf({ side: { kind: "accessory", image: "busybox:1" } }), "10.0.0.5");
    assert.equal(quiet[0].privatePort, undefined, "an accessory without a port publishes nothing");
  });

  test("a second run with the same settings and secrets leaves every container alone", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    const ids = ["shop-db", "shop-cache", "shop-search"].map((n) => idOf(host, n));
    const { actions, lines } = await run(host, specOf());
    assert.deepEqual(actions, { db: "unchanged", cache: "unchanged", search: "unchanged" }, "nothing to do");
    assert.deepEqual(["shop-db", "shop-cache", "shop-search"].map((n) => idOf(host, n)), ids, "the same containers");
    assert.ok(lines.some((l) => /service db: shop-db runs with these settings; left alone/.test(l)), "it says so");
  });

  test("a new image of the same major: replaced in place, the volume kept; a new password replaces too", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    const before = idOf(host, "shop-db");
    // Same major (the config says 15), another image: what a patch release looks like.
    const patched = specOf({ ...CONFIG, db: { ...CONFIG.db, image: "pydeploy-test/postgres:16" } });
    const { actions, lines } = await run(host, patched);
    assert.equal(actions.db, "replaced", "db replaced");
    assert.deepEqual([actions.cache, actions.search], ["unchanged", "unchanged"], "the others untouched");
    assert.notEqual(idOf(host, "shop-db"), before, "a new container");
    assert.ok(host.volumes.has("shop-db-data"), "on the same volume");
    assert.ok(!idOf(host, "shop-db-previous"), "the previous container went once the new one answered");
    assert.ok(lines.some((l) => /replacing shop-db \(its data stays in shop-db-data\)/.test(l)), "it says the data stays");
    const rotated = await run(host, specOf(), { ...PASSWORDS, cache: { password: "redisSecret2" } });
    assert.equal(rotated.actions.cache, "replaced", "a new secret is a change");
  });

  test("a replacement that never answers: the new container goes, the previous one runs again, the step fails", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    const before = idOf(host, "shop-cache");
    host.behaviour = ({ role }) => (role === "cache" ? { kind: "exits", code: 1 } : { kind: "healthy" });
    await assert.rejects(run(host, specOf(), { ...PASSWORDS, cache: { password: "redisSecret2" } }), /service cache: shop-cache exited \(1\)/, "the failure names the service");
    assert.equal(idOf(host, "shop-cache"), before, "the previous container is back under its name");
    assert.equal(host.states()["shop-cache"], "running", "and runs");
  });

  test("a data directory of another major version is refused before anything changes", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    host.volumeFiles.set("shop-db-data", new Map([["PG_VERSION", "15\n"]]));
    const ids = ["shop-db", "shop-cache"].map((n) => idOf(host, n));
    const upgraded = { ...CONFIG, db: { kind: "postgres", version: 16, image: "pydeploy-test/postgres:16" }, cache: { ...CONFIG.cache, image: "pydeploy-test/redis:7" } };
    await assert.rejects(
      run(host, specOf(upgraded), { ...PASSWORDS, cache: { password: "redisSecret2" } }),
      /service db: its data \(volume shop-db-data\) is PostgreSQL 15, and the config asks for 16\. .*pg_upgrade.*Nothing was changed\./,
      "refused with the reason and the way out",
    );
    assert.deepEqual(["shop-db", "shop-cache"].map((n) => idOf(host, n)), ids, "no container was replaced, not even the changed Redis");
  });

  test("a service taken out of the config: its container goes, its volume stays", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    const { db, cache } = CONFIG;
    const { lines } = await run(host, specOf({ db, cache }));
    assert.equal(idOf(host, "shop-search"), undefined, "the accessory's container is gone");
    assert.ok(host.volumes.has("shop-search-data"), "its volume stays");
    assert.ok(lines.some((l) => /service search is no longer in the config: removing shop-search; its volumes stay/.test(l)), "it says so");
  });

  test("the step's delete (no service left): the containers go, the volumes stay, the network goes once unused", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    host.addImage({ tag: "pydeploy/shop:1", app: "shop" });
    const lines: string[] = [];
    await removeServices(host, specOf(), (l) => lines.push(l));
    assert.deepEqual(host.states(), {}, "no service container is left");
    assert.deepEqual([...host.volumes.keys()].sort(), ["shop-cache-data", "shop-db-data", "shop-search-data"], "the volumes stay");
    assert.ok(!host.networks.has("shop-services"), "the network is gone");
    assert.ok(lines.some((l) => /service db is no longer in the config: removing shop-db; its volumes stay/.test(l)), "it says so per service");
  });

  test("a missing image that neither the host nor the deployer has: a clear error before any container", async () => {
    const host = new FakeDockerHost();
    await assert.rejects(run(host, specOf()), /service image pydeploy-test\/postgres:15: the fake Docker host could not pull it .* this machine's Docker engine does not have it/, "names the image and both places");
    assert.deepEqual(host.states(), {}, "nothing started");
  });

  test("destroy: service containers and the network go; their volumes stay unless asked", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    host.files.set(`${APP_DIR}/owner`, `${"a".repeat(32)}\n`);
    host.addVolume(`shop.claim.${"a".repeat(32)}`, { "pydeploy.claim": "shop" });
    const lines: string[] = [];
    await removeApp(host, { target: { kind: "ssh", host: "203.0.113.7", port: 22, user: "root" }, app: "shop", appDir: APP_DIR, connectTimeoutSeconds: 30, removeVolumes: false }, { owner: "a".repeat(32) }, (l) => lines.push(l));
    assert.deepEqual(host.states(), {}, "no service container is left");
    assert.ok(!host.networks.has("shop-services"), "the services network is gone");
    assert.deepEqual([...host.volumes.keys()].sort(), ["shop-cache-data", "shop-db-data", "shop-search-data"], "the data volumes stay");
  });
});

describe("the snapshot before the release command", () => {
  const settings = snapshotSettingsOf("shop", APP_DIR, servicesOf({ ...CONFIG, db: { ...CONFIG.db, snapshots: { keep: 2 } } }))!;

  test("settings: the first PostgreSQL on the server; none with keep 0 or a managed database", () => {
    assert.deepEqual(settings, { service: "db", container: "shop-db", user: "shop", database: "shop", dir: ".pydeploy/shop/snapshots", keep: 2 }, "db, keep 2");
    assert.equal(snapshotSettingsOf("shop", APP_DIR, servicesOf({ db: { ...CONFIG.db, snapshots: { keep: 0 } } })), undefined, "keep 0: no snapshot");
    assert.equal(snapshotSettingsOf("shop", APP_DIR, servicesOf({ db: { ...CONFIG.db, managed: true } })), undefined, "managed: RDS has its own backups");
  });

  test("a dated dump, the newest `keep` stay, and the log gives the restore command", async () => {
    const host = hostWithImages();
    await run(host, specOf());
    const lines: string[] = [];
    for (const at of ["2026-12-01T10:00:00Z", "2026-12-02T10:00:00Z", "2026-12-03T10:00:00Z"]) await takeSnapshot(host, settings, (l) => lines.push(l), new Date(at));
    const files = [...host.files.keys()].filter((f) => f.startsWith(".pydeploy/shop/snapshots/")).sort();
    assert.deepEqual(files, [".pydeploy/shop/snapshots/db-20261202T100000Z.dump", ".pydeploy/shop/snapshots/db-20261203T100000Z.dump"], "the two newest stay");
    assert.equal(snapshotFileName("db", new Date("2026-12-03T10:00:00.123Z")), "db-20261203T100000Z.dump", "names sort by time");
    assert.ok(lines.some((l) => l.includes("docker exec -i shop-db pg_restore --clean --if-exists --no-owner --username shop --dbname shop < .pydeploy/shop/snapshots/db-20261203T100000Z.dump")), "the restore command for the file");
    assert.ok(lines.some((l) => /removed the old snapshot db-20261201T100000Z\.dump \(keeping 2\)/.test(l)), "it says what it removed");
  });

  test("a database that does not answer: the snapshot fails the release, naming pg_dump", async () => {
    const host = hostWithImages();
    await assert.rejects(takeSnapshot(host, settings, () => undefined), /the snapshot before the release command failed \(pg_dump of shop in shop-db: .*not running\); nothing was changed/, "the reason");
  });
});
