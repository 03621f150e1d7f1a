// The ready-made commands (components/deploy/operatorCommands.ts) for the services: psql and
// redis-cli per service, the newest snapshot's restore; on a server through ssh, quoted once.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "shell-quote";
import { resolveServices, servicesSchema } from "../../components/config/services";
import { operatorCommands } from "../../components/deploy/operatorCommands";
import { serviceSettingsOf, snapshotSettingsOf } from "../../components/deploy/services/serviceSpec";

const APP_DIR = ".pydeploy/shop";
const services = resolveServices("shop", servicesSchema.parse({ db: { kind: "postgres", version: 16 }, cache: { kind: "redis", version: 7 }, search: { kind: "accessory", image: "getmeili/meilisearch:v1.8" } }));
const role = { role: "web", command: ["gunicorn"], ports: [], mounts: [], upstreams: [], gate: { kind: "running" as const } } as never;
/** What the container's sh runs: no password on any command line. */
const REDIS_CLI = "REDISCLI_AUTH=$(sed -n 's/^requirepass //p' /data/pydeploy-redis.conf) exec redis-cli";
const base = { app: "shop", roles: [role], hasLsof: false, services: serviceSettingsOf("shop", APP_DIR, services), snapshot: snapshotSettingsOf("shop", APP_DIR, services) };

describe("operator commands for the services", () => {
  test("on this machine: psql and redis-cli per service, the restore of the newest snapshot; none for an accessory", () => {
    const c = operatorCommands(base);
    assert.deepEqual(c.psql, { db: "docker exec -it shop-db psql --username shop shop" }, "psql as the app's user");
    assert.deepEqual(Object.keys(c.redisCli ?? {}), ["cache"], "one redis-cli");
    assert.deepEqual(parse(c.redisCli!.cache), ["docker", "exec", "-it", "shop-cache", "sh", "-c", REDIS_CLI], "redis-cli with the password read inside the container");
    assert.equal(c.restoreSnapshot, 'docker exec -i shop-db pg_restore --clean --if-exists --no-owner --username shop --dbname shop < "$(ls -1 .pydeploy/shop/snapshots/db-*.dump | tail -n 1)"', "the newest dump back");
  });

  test("on a server: each runs through ssh -t as one quoted argument; without services or a release command, none", () => {
    const c = operatorCommands({ ...base, ssh: { user: "root", host: "203.0.113.7", port: 22, keyFile: "~/.ssh/k" } });
    const words = parse(c.psql!.db);
    assert.deepEqual(words.slice(0, 7), ["ssh", "-t", "-i", "~/.ssh/k", "-p", "22", "root@203.0.113.7"], "ssh with a tty");
    assert.equal(words[7], "docker exec -it shop-db psql --username shop shop", "the remote command is one word");
    assert.deepEqual(parse(String(parse(c.redisCli!.cache)[7])), ["docker", "exec", "-it", "shop-cache", "sh", "-c", REDIS_CLI], "redis-cli's command survives both quotings");
    const none = operatorCommands({ app: "shop", roles: [role], hasLsof: false });
    assert.deepEqual([none.psql, none.redisCli, none.restoreSnapshot], [undefined, undefined, undefined], "no service commands");
  });
});

describe("docker ps across a fleet", () => {
  test("one line running every server's ps in order, each under a header naming the server", async () => {
    const { execFileSync } = await import("node:child_process");
    const { fleetPsCommand } = await import("../../components/deploy/operatorCommands");
    const line = fleetPsCommand(["echo first-server", "echo 'second server'"]);
    assert.equal(execFileSync("bash", ["-c", line], { encoding: "utf8" }), "== server 1\nfirst-server\n== server 2\nsecond server\n", "bash runs both, headed");
    const ssh = [0, 1].map((i) => operatorCommands({ ...base, ssh: { user: "root", host: `203.0.113.${7 + i}`, port: 22, keyFile: "~/.ssh/k" } }).ps);
    assert.ok(fleetPsCommand(ssh).includes(`; ${ssh[1]}`), "the second server's own ps, unchanged");
  });
});
