// Issue 18 under the real pulumi CLI, on the local target: services beside the example app. The
// passwords come from the random stand-in plugin; the services step runs when the services
// change, never for a code change; a service's change is stated in the preview; destroy takes
// the service containers and keeps their volumes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { docker, ensureBaseImage, waitForHttp200 } from "../support/docker/localEngine";
import { appValue, ExampleProject, removeAppImages, uniqueApp } from "../support/lifecycle/exampleProject";
import { CliStack, secretInOutput } from "../support/realEngine/cliStack";
import { mustSucceed } from "../support/realEngine/scenarios";
import { ensureServiceImages, type ServiceImages } from "../support/services/serviceImages";

const APP = uniqueApp("svc");
const r = (name: string) => `${APP}-${name}`;
const SECRET = "shared-token-7f3a";
const sh = (script: string) => execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim();
const serviceIds = () => sh(`docker inspect --format '{{.Name}} {{.Id}}' ${r("db")} ${r("cache")}`);

describe("real engine: services on the local target", { timeout: 20 * 60_000 }, () => {
  let project: ExampleProject;
  let stack: CliStack;
  let images: ServiceImages;
  let port: number;
  const config = (cache: Record<string, unknown> = {}) => ({
    "pydeploy:target": "local",
    "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: port }),
    "pydeploy:deploy": { healthTimeoutSeconds: 60, stopGraceSeconds: 5 },
    "pydeploy:services": {
      db: { kind: "postgres", version: 15, image: images.postgres },
      cache: { kind: "redis", version: 7, image: images.redis, ...cache },
      // A generic accessory: any image, its command, env, a shared secret, a volume, a readiness command.
      queue: {
        kind: "accessory",
        image: images.redis,
        port: 7000,
        command: ["redis-server", "--port", "7000", "--dir", "/store"],
        env: { QUEUE_MODE: "accessory" },
        secretEnv: ["DEMO_SECRET_TOKEN"],
        volumes: { store: "/store" },
        ready: ["redis-cli", "-p", "7000", "ping"],
      },
    },
  });

  before(async () => {
    ensureBaseImage();
    images = ensureServiceImages();
    port = 20000 + Math.floor(Math.random() * 20000);
    project = new ExampleProject();
    stack = await CliStack.create({ stack: "local", config: config(), secrets: { "pydeploy:secretEnv": { DEMO_SECRET_TOKEN: SECRET } } });
  });

  after(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      stack.cleanup();
    }
    project?.cleanup();
    sh(`docker rm -f ${r("db")} ${r("cache")} ${r("queue")} >/dev/null 2>&1; docker volume rm $(docker volume ls -q --filter label=pydeploy.app=${APP}) >/dev/null 2>&1; true`);
    await removeAppImages(APP);
  });

  test("the first up creates the passwords and the services step, between the host step and the release; no password in the state or the output", async (t) => {
    const run = mustSucceed(await stack.up(), "first up");
    for (const op of [`${r("db-password")}:create`, `${r("cache-password")}:create`, `${r("services")}:create`, `${r("release")}:create`]) assert.ok(run.ops.includes(op), `${op} in ${JSON.stringify(run.ops)}`);
    const step = (name: string) => run.ops.findIndex((o) => o.startsWith(`${name}:`));
    assert.ok(step(r("host")) < step(r("services")) && step(r("services")) < step(r("release")), `host, services, release in order: ${JSON.stringify(run.ops)}`);
    assert.match(await waitForHttp200(`http://127.0.0.1:${port}/`), new RegExp(`hello from ${APP}`), "the app serves");
    assert.equal(sh(`docker inspect --format '{{.State.Running}}' ${r("db")} ${r("cache")}`), "true\ntrue", "both services run");
    // The password as Redis has it: in its config file, in its volume.
    const password = sh(`docker run --rm --entrypoint sh -v ${r("cache-data")}:/d ${images.redis} -c "sed -n 's/^requirepass //p' /d/pydeploy-redis.conf"`);
    assert.match(password, /^[A-Za-z0-9]{32}$/, "a generated password of 32 letters and digits");
    const queue = JSON.parse(sh(`docker inspect ${r("queue")}`))[0];
    assert.deepEqual([queue.State.Running, queue.Config.Cmd.slice(0, 3), queue.HostConfig.PortBindings ?? {}], [true, ["redis-server", "--port", "7000"], {}], "the accessory runs its command, on no host port");
    assert.ok(queue.Config.Env.includes("QUEUE_MODE=accessory") && queue.Config.Env.includes(`DEMO_SECRET_TOKEN=${SECRET}`), "with its env and the shared secret");
    assert.ok(queue.Mounts.some((m: { Name: string; Destination: string }) => m.Name === r("queue-store") && m.Destination === "/store"), `and its volume: ${JSON.stringify(queue.Mounts)}`);
    assert.equal(sh(`docker run --rm --network ${r("services")} ${images.redis} redis-cli -h queue -p 7000 ping`), "PONG", "it answers by its name on the app's network");
    const state = await stack.exportState();
    assert.ok(!state.includes(password), "not in the state in plain text");
    const printed = secretInOutput(run, password);
    assert.deepEqual(printed.elsewhere, [], "nor in what the CLI printed, but for the SDK's debug events");
    t.diagnostic(`the password is in ${printed.sdkDebugEvents} of the SDK's debug events (RegisterResource responses), which --json prints`);
  });

  test("a code change updates the app's steps; the services step and the service containers stay the same", async () => {
    const ids = serviceIds();
    project.setVersion("2.0.0");
    const run = mustSucceed(await stack.up(), "code change");
    assert.ok(run.ops.includes(`${r("services")}:same`), `the services step is the same: ${JSON.stringify(run.ops)}`);
    for (const p of ["db-password", "cache-password"]) assert.ok(run.ops.includes(`${r(p)}:same`), `${p} is the same`);
    assert.ok(run.ops.includes(`${r("release")}:update`), "the release is updated");
    assert.equal(serviceIds(), ids, "the same service containers");
  });

  test("a service's own change is stated in the preview and replaces only that service", async () => {
    const db = sh(`docker inspect --format '{{.Id}}' ${r("db")}`);
    const loopback = 20000 + Math.floor(Math.random() * 20000);
    await stack.setConfig(config({ loopbackPort: loopback }));
    const preview = mustSucceed(await stack.preview(), "preview of a service change");
    assert.ok(preview.ops.includes(`${r("services")}:update`), `the preview shows the services step's update: ${JSON.stringify(preview.ops)}`);
    assert.ok(preview.ops.includes(`${r("release")}:same`), "and no release");
    mustSucceed(await stack.up(), "service change");
    assert.equal(sh(`docker inspect --format '{{.Id}}' ${r("db")}`), db, "PostgreSQL was left alone");
    assert.equal(sh(`docker port ${r("cache")} 6379/tcp`), `127.0.0.1:${loopback}`, "Redis is published on loopback only");
  });

  test("destroy takes the service containers and keeps their volumes", async () => {
    mustSucceed(await stack.destroy(), "destroy");
    assert.equal(sh(`docker ps -aq --filter label=pydeploy.service-of=${APP}`), "", "no service container is left");
    const volumes = sh(`docker volume ls -q --filter label=pydeploy.app=${APP}`).split("\n").sort();
    assert.deepEqual(volumes, [r("cache-data"), r("db-data"), r("queue-store")], "their volumes stay");
    assert.equal((await docker(["network", "inspect", r("services")], { allowFailure: true })).code, 1, "the network is gone");
  });
});
