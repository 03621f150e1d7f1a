// The program (index.ts) with services, under Pulumi mocks: the dev stack (Alibaba Cloud) with a
// managed PostgreSQL (RDS) and a Redis container. Passwords come from @pulumi/random and stay
// secret; DATABASE_URL is built from the RDS instance's outputs, REDIS_URL names the container;
// the services step runs after the host step and before the release; no password is plain.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { SPEC_ENV } from "../components/deploy/spec";
import { committedStackConfig, importProgram } from "./support/mocks/program";
import { drainRegistrations, installMocks, isWireSecret, recordRegistrations, reveal, valueOf } from "./support/mocks/mocks";

const T = {
  image: "docker:index/image:Image",
  password: "random:index/randomPassword:RandomPassword",
  rds: "alicloud:rds/instance:Instance",
  kvstore: "alicloud:kvstore/instance:Instance",
  step: "command:local:Command",
  instance: "alicloud:ecs/instance:Instance",
};
const PASSWORD = { db: "Rds0Password0Generated0Here00000", cache: "Redis0Password0Generated0Here000" };

const mocks = installMocks({
  stack: "dev",
  config: {
    ...committedStackConfig("dev"),
    "pydeploy:app": { ...(committedStackConfig("dev")["pydeploy:app"] as object), release: ["python", "-m", "demo.migrate"] },
    "pydeploy:services": { db: { kind: "postgres", version: 16, managed: true }, cache: { kind: "redis", version: 7 } },
  },
  outputs: (r) => {
    if (r.type === T.image) return { repoDigest: `sha256:${"34".repeat(32)}` };
    if (r.type === T.password) return { result: r.name.includes("-db-") ? PASSWORD.db : PASSWORD.cache };
    if (r.type === T.rds) return { connectionString: "pgm-demo.pg.rds.aliyuncs.com", port: "5432" };
    if (r.type === T.instance) return { privateIp: "172.16.0.10", publicIp: "203.0.113.7" };
    if (r.type === T.step && r.name.endsWith("-release")) return { stdout: 'pydeploy-result: {"version":"0123456789ab","containers":["demo-web-0123456789ab"]}' };
    return undefined;
  },
});
const registrations = recordRegistrations();

let program: typeof import("../index");
before(async () => {
  program = await importProgram();
  await Promise.all([valueOf(program.containers), valueOf(program.commands)]);
  await drainRegistrations();
});
const step = (suffix: string) => mocks.byType(T.step).find((r) => r.name === `demo-${suffix}`)!;

describe("program, dev stack with a managed PostgreSQL and a Redis container", () => {
  test("one password each, from random, letters and digits of 32 (RDS's rules: three kinds)", () => {
    const passwords = mocks.byType(T.password);
    assert.deepEqual(passwords.map((p) => p.name).sort(), ["demo-cache-password", "demo-db-password"], "one RandomPassword per service");
    for (const p of passwords) assert.deepEqual([p.inputs.length, p.inputs.special, p.inputs.minUpper, p.inputs.minLower, p.inputs.minNumeric], [32, false, 1, 1, 1], `${p.name}'s rules`);
  });

  test("the RDS instance only lets the server's private IP in; no KVStore for the container Redis", () => {
    const [rds] = mocks.byType(T.rds);
    assert.ok(rds, "an RDS instance");
    assert.deepEqual(rds.inputs.securityIps, ["172.16.0.10"], "the server only");
    assert.equal(mocks.byType(T.kvstore).length, 0, "Redis runs as a container here");
  });

  test("the release's env (secret) has DATABASE_URL from the RDS outputs and REDIS_URL/CELERY_BROKER_URL naming the container", () => {
    const release = step("release");
    assert.equal(isWireSecret(release.inputs.stdin), true, "the release's stdin is secret");
    const env = JSON.parse(reveal(release.inputs.stdin)).env;
    assert.equal(env.DATABASE_URL, `postgres://demo:${PASSWORD.db}@pgm-demo.pg.rds.aliyuncs.com:5432/demo`, "RDS's endpoint");
    assert.equal(env.REDIS_URL, `redis://:${PASSWORD.cache}@cache:6379/0`, "the container by its name on the app's network");
    assert.equal(env.CELERY_BROKER_URL, env.REDIS_URL, "Celery's broker is the same Redis");
  });

  test("the services step: after the host step, only the container service, its password on secret stdin; the release waits for it", () => {
    const services = step("services");
    assert.ok(services, "a services step");
    const spec = JSON.parse(String(services.inputs.environment[SPEC_ENV]));
    assert.deepEqual(spec.services.map((s: { name: string; container: string }) => [s.name, s.container]), [["cache", "demo-cache"]], "the Redis container only (RDS is managed)");
    assert.equal(isWireSecret(services.inputs.stdin), true, "its stdin is secret");
    assert.deepEqual(JSON.parse(reveal(services.inputs.stdin)).services, { cache: { password: PASSWORD.cache } }, "the password travels on stdin");
    const deps = (name: string) => registrations.find((r) => r.name === name)!.dependencies;
    assert.ok(deps("demo-services").includes(registrations.find((r) => r.name === "demo-host")!.urn), "services after host");
    assert.ok(deps("demo-release").includes(registrations.find((r) => r.name === "demo-services")!.urn), "release after services");
    const release = JSON.parse(String(step("release").inputs.environment[SPEC_ENV]));
    assert.deepEqual(release.services, { network: "demo-services", ready: [{ name: "cache", container: "demo-cache", kind: "redis", command: ["redis-cli", "ping"] }] }, "the release waits for Redis; no snapshot of a managed database");
    assert.equal(release.settings.network, "demo-services", "the roles join the app's network");
  });

  test("no password in any plain input or output", async () => {
    const plain = JSON.stringify(mocks.byType(T.step).map((r) => r.inputs.environment)) + JSON.stringify(await valueOf(program.commands)) + JSON.stringify(await valueOf(program.containers));
    for (const secret of Object.values(PASSWORD)) assert.ok(!plain.includes(secret), "a password in a plain value");
    assert.deepEqual(Object.keys((await valueOf(program.commands)).redisCli ?? {}), ["cache"], "commands.redisCli for the Redis container");
  });
});
