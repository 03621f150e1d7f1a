// Issue 19 under the real pulumi CLI: two servers of your own (target existing, hosts), with a
// Redis service on the first. What the real engine does with the program's dependencies: the
// second server's release waits for the first's and for the services step, in the order the
// engine ran them and in the state it wrote; a code change rolls the first, then the second;
// destroy takes the app off both.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ensureBaseImage, waitForHttp200 } from "../support/docker/localEngine";
import { appValue, ExampleProject, removeAppImages, uniqueApp } from "../support/lifecycle/exampleProject";
import { CliStack } from "../support/realEngine/cliStack";
import { mustSucceed } from "../support/realEngine/scenarios";
import { ensureServiceImages } from "../support/services/serviceImages";
import { generateSshKeyPair } from "../support/ssh/sshKeys";
import { serverExec, startTestServer, stopTestServer, type TestServer } from "../support/ssh/sshServer";

const APP = uniqueApp("rf");
const PORT = 8081;
const KEYS = generateSshKeyPair("ed25519", "pydeploy-real-engine-fleet");
const r = (name: string) => `${APP}-${name}`;
const second = (name: string) => `${APP}-2-${name}`;

describe("real engine: two servers of your own with a service on the first", { timeout: 30 * 60_000 }, () => {
  let servers: TestServer[] = [];
  let project: ExampleProject;
  let stack: CliStack;

  before(async () => {
    ensureBaseImage();
    const images = ensureServiceImages();
    servers = await Promise.all([0, 1].map(() => startTestServer({ keys: KEYS })));
    project = new ExampleProject();
    project.setVersion("1.0.0");
    stack = await CliStack.create({
      stack: "fleet",
      config: {
        "pydeploy:target": "existing",
        // The test servers' one address is also their private one.
        "pydeploy:hosts": servers.map((s, i) => ({ address: s.host, hostKey: s.hostKey, ...(i === 0 ? { privateIp: s.host } : {}) })),
        "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
        "pydeploy:deploy": { healthTimeoutSeconds: 60, stopGraceSeconds: 5 },
        "pydeploy:services": { cache: { kind: "redis", version: 7, image: images.redis } },
      },
      secrets: { "pydeploy:sshPrivateKey": KEYS.private },
    });
  });

  after(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      stack.cleanup();
    }
    await Promise.all(servers.map((s) => stopTestServer(s)));
    project?.cleanup();
    await removeAppImages(APP);
  });

  const dependenciesOf = async (name: string) => {
    const resources = (JSON.parse(await stack.exportState()) as { deployment: { resources: { urn: string; dependencies?: string[] }[] } }).deployment.resources;
    const urnOf = (n: string) => resources.find((x) => x.urn.endsWith(`::${n}`))?.urn;
    const deps = resources.find((x) => x.urn === urnOf(name))?.dependencies ?? [];
    return { has: (n: string) => deps.includes(urnOf(n) ?? "missing") };
  };
  const at = (ops: string[], name: string) => ops.findIndex((o) => o.startsWith(`${name}:`));

  test("the first up: each server's steps, the services step once (on the first), the second's release after the first's and after the services", async () => {
    const run = mustSucceed(await stack.up(), "first up on two servers");
    for (const op of [r("host"), r("ship"), r("services"), r("release"), second("host"), second("ship"), second("release")]) assert.ok(run.ops.includes(`${op}:create`), `${op} created: ${JSON.stringify(run.ops)}`);
    assert.equal(at(run.ops, second("services")), -1, "no services step on the second server");
    assert.ok(at(run.ops, r("release")) < at(run.ops, second("release")), `the first release finished before the second: ${JSON.stringify(run.ops)}`);
    assert.ok(at(run.ops, r("services")) < at(run.ops, second("release")), "the services were up before the second release");
    const deps = await dependenciesOf(second("release"));
    assert.ok(deps.has(r("release")) && deps.has(r("services")), "the state the CLI wrote records both waits");
    for (const s of servers) assert.match(await waitForHttp200(`http://${s.host}:${PORT}/`), /hello from .* 1\.0\.0/, `${s.host} serves 1.0.0`);
    const web = (await serverExec(servers[1], ["docker", "ps", "--filter", `label=pydeploy.app=${APP}`, "--filter", "label=pydeploy.role=web", "--format", "{{.Names}}"])).stdout.trim();
    const ping = "import os,socket,time,urllib.parse as p; u=p.urlparse(os.environ['REDIS_URL']); s=socket.create_connection((u.hostname,u.port),5); s.sendall(b'AUTH '+u.password.encode()+b'\\r\\nPING\\r\\n'); time.sleep(0.5); print(s.recv(64).decode().split())";
    assert.equal((await serverExec(servers[1], ["docker", "exec", web, "python", "-c", ping])).stdout.trim(), "['+OK', '+PONG']", "the second server's app logs in to Redis on the first");
  });

  test("a code change: the first server's release, then the second's; the hosts and the services stay the same", async () => {
    project.setVersion("2.0.0");
    const run = mustSucceed(await stack.up(), "code change");
    assert.ok(run.ops.includes(`${r("release")}:update`) && run.ops.includes(`${second("release")}:update`), `both releases updated: ${JSON.stringify(run.ops)}`);
    assert.ok(at(run.ops, r("release")) < at(run.ops, second("release")), "the first before the second");
    for (const name of [r("host"), second("host"), r("services")]) assert.ok(!run.ops.some((o) => o.startsWith(`${name}:`) && !o.endsWith(":same")), `${name} unchanged: ${JSON.stringify(run.ops)}`);
    for (const s of servers) assert.match(await waitForHttp200(`http://${s.host}:${PORT}/`), /hello from .* 2\.0\.0/, `${s.host} serves 2.0.0`);
  });

  test("destroy takes the app and the service container off both servers", async () => {
    mustSucceed(await stack.destroy(), "destroy");
    for (const s of servers) {
      const left = (await serverExec(s, ["sh", "-c", `docker ps -a --format '{{.Names}}' | grep -c '^${APP}-' || true`])).stdout.trim();
      assert.equal(left, "0", `no container of the app is left on ${s.host}`);
    }
  });
});
