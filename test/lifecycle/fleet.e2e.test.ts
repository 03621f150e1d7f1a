// Issue 19, several servers: the app on three Docker-in-Docker servers (target existing, hosts),
// behind HAProxy from Debian's packages standing in for Alibaba's CLB (health checks on the app's
// health path, as a CLB listener's are), with load through HAProxy throughout. Through the engine
// harness: the releases roll one server after another, a code change answers every request, a
// fourth server gets only its own steps, and removing it takes only its app away.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startHaproxy, type Haproxy } from "../support/proxy/haproxy";
import { startLoad, type LoadResult } from "../support/proxy/load";
import { serverExec, startTestServer, stopTestServer, type TestServer } from "../support/ssh/sshServer";
import { generateSshKeyPair } from "../support/ssh/sshKeys";
import { docker, ensureBaseImage, waitForHttp200 } from "../support/docker/localEngine";
import { ensureServiceImages } from "../support/services/serviceImages";
import { appValue, ExampleProject, mustSucceed, ops, programStack, removeAppImages, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import type { RunResult } from "../support/engine";

const APP = uniqueApp("fleet");
const PORT = 8080;
const KEYS = generateSshKeyPair("ed25519", "pydeploy-fleet");
/** Fleet member names, as the program names each server's steps: APP, APP-2, APP-3, APP-4. */
const member = (i: number) => (i === 0 ? APP : `${APP}-${i + 1}`);
let servers: TestServer[] = [];
let project: ExampleProject;
let stateDir: string;
let lb: Haproxy;

const stack = (count: number, extra: { services?: Record<string, unknown> } = {}) => stackOn(servers.slice(0, count), extra);
const stackOn = (list: TestServer[], extra: { services?: Record<string, unknown> } = {}) =>
  programStack({
    stateDir,
    stack: "fleet",
    secretKeys: ["pydeploy:sshPrivateKey"],
    config: {
      "pydeploy:target": "existing",
      // The test servers' one address is also their private one.
      "pydeploy:hosts": list.map((s, i) => ({ address: s.host, port: 22, user: "root", hostKey: s.hostKey, ...(i === 0 ? { privateIp: s.host } : {}) })),
      "pydeploy:sshPrivateKey": KEYS.private,
      "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
      "pydeploy:deploy": { healthTimeoutSeconds: 30, stopGraceSeconds: 10 },
      ...(extra.services ? { "pydeploy:services": extra.services } : {}),
    },
  });

/** Runs `f` under two loads through HAProxy (GET over keep-alive, POST on new connections). */
async function underLoad(f: () => Promise<void>): Promise<LoadResult[]> {
  const loads = [startLoad({ url: lb.url, rate: 20, keepAlive: true }), startLoad({ url: lb.url, rate: 10, keepAlive: false, method: "POST" })];
  try {
    await f();
  } finally {
    await new Promise((r) => setTimeout(r, 2000));
  }
  return Promise.all(loads.map((l) => l.stop()));
}

async function assertNoFailure(results: LoadResult[], what: string): Promise<void> {
  for (const r of results) {
    assert.ok(r.total > 0, `${what}: requests were sent`);
    if (r.failed > 0) assert.fail(`${what}: ${r.failed} of ${r.total} requests failed: ${JSON.stringify(r.failures)}\nHAProxy:\n${await lb.logs()}`);
  }
}

/** What each of the first `count` servers answers on its own published port. */
const versionsOn = (count: number) => Promise.all(servers.slice(0, count).map((s) => waitForHttp200(`http://${s.host}:${PORT}/`)));
const appContainersOn = async (s: TestServer) => (await serverExec(s, ["docker", "ps", "-aq", "--filter", `label=pydeploy.app=${APP}`])).stdout.trim();
const hello = (version: string) => `hello from ${APP} ${version}\n`;
const ranStep = (r: RunResult, name: string) => r.steps.some((s) => s.name === name && s.ran);

/**
 * A crash on one server only: every web container of the app that starts there, but the one
 * running now, is killed at once (docker events), so its gate fails. Returns the stop.
 */
async function crashNewWebContainersOn(server: TestServer): Promise<() => Promise<void>> {
  const keep = (await serverExec(server, ["docker", "ps", "--filter", `label=pydeploy.app=${APP}`, "--filter", "label=pydeploy.role=web", "--format", "{{.Names}}"])).stdout.trim();
  assert.ok(keep, "a web container runs on the server");
  const watch =
    `docker events --filter type=container --filter event=start --filter label=pydeploy.app=${APP} --filter label=pydeploy.role=web --format '{{.Actor.Attributes.name}}'` +
    ` | while read -r name; do [ "$name" = ${keep} ] || docker kill "$name"; done & echo $! > /tmp/crash-watch.pid; wait`;
  await docker(["exec", "-d", server.container, "sh", "-c", watch]);
  // docker events only reports what happens after it subscribed.
  await new Promise((r) => setTimeout(r, 1000));
  return async () => {
    await serverExec(server, ["sh", "-c", "kill $(cat /tmp/crash-watch.pid); pkill -f 'docker events' || true"], { allowFailure: true });
  };
}

const stepIndex = (r: RunResult, name: string) => {
  const i = r.steps.findIndex((s) => s.name === name && s.ran);
  assert.ok(i >= 0, `${name} ran; steps: ${ops(r).join(" ")}`);
  return i;
};

describe("several servers behind a health-checked load balancer", { timeout: 40 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    project = new ExampleProject();
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-fleet-"));
    servers = await Promise.all([0, 1, 2, 3].map(() => startTestServer({ keys: KEYS })));
    lb = await startHaproxy({ container: `${APP}-haproxy`, servers: servers.map((s, i) => ({ name: `s${i + 1}`, address: s.host, port: PORT })), healthPath: "/health" });
    project.setVersion("1.0.0");
    mustSucceed(await stack(3).up(), "first up on three servers");
    await lb.waitForUp(["s1", "s2", "s3"]);
  });

  after(async () => {
    if (stateDir && servers.length) await stack(3).destroy().catch(() => undefined);
    await lb?.remove();
    await Promise.all(servers.map((s) => stopTestServer(s)));
    project?.cleanup();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    await removeAppImages(APP);
  });

  test("the first up: every server serves, each release waits for the one before in the stored state", async () => {
    assert.deepEqual(await versionsOn(3), Array(3).fill(`hello from ${APP} 1.0.0\n`), "1.0.0 on each server");
    const resources = stack(3).resources();
    const urnOf = (name: string) => resources.find((r) => r.name === name)!.urn;
    for (const i of [1, 2]) {
      const deps = resources.find((r) => r.name === `${member(i)}-release`)!.dependencies;
      assert.ok(deps.includes(urnOf(`${member(i - 1)}-release`)), `${member(i)}'s release waits for ${member(i - 1)}'s`);
    }
    assert.equal(await appContainersOn(servers[3]), "", "the fourth server is not in the stack yet");
  });

  test("a rolling code change under load: 0 failed requests, the servers switched one after another, all on the new version", async () => {
    project.setVersion("2.0.0");
    let r: RunResult | undefined;
    const results = await underLoad(async () => {
      r = mustSucceed(await stack(3).up(), "code change");
    });
    await assertNoFailure(results, "rolling code change");
    const releases = [0, 1, 2].map((i) => stepIndex(r!, `${member(i)}-release`));
    assert.deepEqual([...releases].sort((a, b) => a - b), releases, `releases in server order: ${ops(r!).join(" ")}`);
    for (const i of [0, 1, 2]) assert.match(stepOutput(r!, `${member(i)}-release`), /is live/, `${member(i)}'s release went live`);
    assert.deepEqual(await versionsOn(3), Array(3).fill(`hello from ${APP} 2.0.0\n`), "2.0.0 on each server");
    const served = Object.keys(results[0].servedBy).sort();
    assert.deepEqual(served, [`hello from ${APP} 1.0.0`, `hello from ${APP} 2.0.0`], "the load saw the old version, then the new (bodies trimmed)");
  });

  test("a failing gate on the second server: the roll stops, the first goes back, all three serve 2.0.0, 0 failed, the up fails with the second's logs", async () => {
    project.setVersion("3.0.0");
    const stopCrashing = await crashNewWebContainersOn(servers[1]);
    let r: RunResult | undefined;
    try {
      const results = await underLoad(async () => {
        r = await stack(3).up();
      });
      await assertNoFailure(results, "a failed roll");
    } finally {
      await stopCrashing();
    }
    assert.equal(r!.ok, false, "the up fails");
    const error = r!.error ?? "";
    assert.match(error, /role web did not become healthy: container \S+ (exited|crashed and was restarted)/, `the second server's gate: ${error}`);
    assert.match(error, new RegExp(`The roll stopped at ${servers[1].host.replace(/\./g, "\\.")}`), "it names the server that failed");
    assert.match(error, new RegExp(`${servers[0].host.replace(/\./g, "\\.")} went back from [0-9a-f]+ to [0-9a-f]+`), "the first server went back");
    assert.match(error, new RegExp(`last \\d+ log lines of ${APP}-web-[0-9a-f]{12}`), "the failed container's logs come with the error");
    assert.equal(ranStep(r!, `${member(2)}-release`), false, "the third server was not touched");
    assert.deepEqual(await versionsOn(3), Array(3).fill(hello("2.0.0")), "every server serves 2.0.0: one version");
  });

  test("a rerun picks up from there: the first server is released again by the second's step, then the rest; 0 failed", async () => {
    let r: RunResult | undefined;
    const results = await underLoad(async () => {
      r = mustSucceed(await stack(3).up(), "rerun after the failed roll");
    });
    await assertNoFailure(results, "rerun");
    assert.equal(ranStep(r!, `${member(0)}-release`), false, "the first server's release is unchanged in the state, so it does not run");
    assert.match(stepOutput(r!, `${member(1)}-release`), new RegExp(`${servers[0].host.replace(/\./g, "\\.")}, released before this server, does not run [0-9a-f]+: releasing it there first`), "the second server's step catches the first up");
    assert.deepEqual(await versionsOn(3), Array(3).fill(hello("3.0.0")), "3.0.0 everywhere");
  });

  test("adding a fourth server: only its steps run, it joins the balancer healthy, nothing fails", async () => {
    let r: RunResult | undefined;
    const results = await underLoad(async () => {
      r = mustSucceed(await stack(4).up(), "adding a fourth server");
    });
    await assertNoFailure(results, "adding a server");
    const changed = ops(r!).filter((o) => !o.endsWith(":same"));
    assert.deepEqual(changed.sort(), [`${member(3)}-host:create`, `${member(3)}-release:create`, `${member(3)}-ship:create`], "the new server's three steps, nothing else");
    await lb.waitForUp(["s1", "s2", "s3", "s4"]);
    assert.equal(await waitForHttp200(`http://${servers[3].host}:${PORT}/`), hello("3.0.0"), "the current release on the new server");
  });

  test("removing it again: only its steps are deleted, its app leaves it, the balancer drops it, nothing fails", async () => {
    let r: RunResult | undefined;
    const results = await underLoad(async () => {
      r = mustSucceed(await stack(3).up(), "removing the fourth server");
    });
    await assertNoFailure(results, "removing a server");
    const changed = ops(r!).filter((o) => !o.endsWith(":same"));
    assert.deepEqual(changed.sort(), [`${member(3)}-host:delete`, `${member(3)}-release:delete`, `${member(3)}-ship:delete`], "the fourth server's steps only");
    assert.match(stepOutput(r!, `${member(3)}-host`), /removed|removing/i, "its delete took the app off");
    assert.equal(await appContainersOn(servers[3]), "", "no container of the app is left on it");
    await lb.waitForUp(["s1", "s2", "s3"]);
    assert.deepEqual(await versionsOn(3), Array(3).fill(hello("3.0.0")), "the three keep serving 3.0.0");
  });

  test("a Redis service: its container on the first server only, the other servers' app reaches it by name at the first's private IP; 0 failed", async () => {
    const images = ensureServiceImages();
    let r: RunResult | undefined;
    const results = await underLoad(async () => {
      r = mustSucceed(await stack(3, { services: { cache: { kind: "redis", version: 7, image: images.redis } } }).up(), "adding a Redis service");
    });
    await assertNoFailure(results, "adding a service");
    assert.deepEqual(r!.steps.filter((s) => s.name.endsWith("-services") && s.ran).map((s) => s.name), [`${APP}-services`], "one services step, the first server's");
    const cacheOn = async (s: TestServer) => (await serverExec(s, ["docker", "ps", "--format", "{{.Names}} {{.Ports}}", "--filter", `name=^${APP}-cache$`])).stdout.trim();
    assert.equal(await cacheOn(servers[0]), `${APP}-cache ${servers[0].host}:6379->6379/tcp`, "Redis on the first server, published on its private IP only");
    for (const i of [1, 2]) assert.equal(await cacheOn(servers[i]), "", `no Redis on server ${i + 1}`);
    // AUTH and PING from inside the third server's web container, with the URL from its env (no password in this argv).
    const ping = "import os,socket,time,urllib.parse as p; u=p.urlparse(os.environ['REDIS_URL']); s=socket.create_connection((u.hostname,u.port),5); s.sendall(b'AUTH '+u.password.encode()+b'\\r\\nPING\\r\\n'); time.sleep(0.5); print(u.hostname, s.recv(64).decode().split())";
    const web = (await serverExec(servers[2], ["docker", "ps", "--filter", `label=pydeploy.app=${APP}`, "--filter", "label=pydeploy.role=web", "--format", "{{.Names}}"])).stdout.trim();
    const answer = (await serverExec(servers[2], ["docker", "exec", web, "python", "-c", ping])).stdout.trim();
    assert.equal(answer, "cache ['+OK', '+PONG']", "the third server's app logged in to Redis on the first");
    assert.deepEqual(await versionsOn(3), Array(3).fill(hello("3.0.0")), "the three keep serving 3.0.0");
  });

  test("replacing the second server by a new machine (the fourth, at its own address): the new one serves before the old one's app goes, the others untouched, 0 failed", async () => {
    const images = ensureServiceImages();
    const replaced = [servers[0], servers[3], servers[2]];
    let r: RunResult | undefined;
    const results = await underLoad(async () => {
      r = mustSucceed(await stackOn(replaced, { services: { cache: { kind: "redis", version: 7, image: images.redis } } }).up(), "replacing the second server");
    });
    await assertNoFailure(results, "replacing a server");
    const changed = ops(r!).filter((o) => !o.endsWith(":same"));
    assert.deepEqual(
      changed.sort(),
      [`${member(1)}-host:create-replacement`, `${member(1)}-host:delete-replaced`, `${member(1)}-release:update`, `${member(1)}-ship:update`, `${member(2)}-release:update`],
      "the second server's steps (its host step replaced, ship and release onto the new machine), and the third's release, whose earlier servers changed",
    );
    assert.match(stepOutput(r!, `${member(2)}-release`), /role web: \S+ already runs/, "the third server's release started nothing");
    assert.doesNotMatch(stepOutput(r!, `${member(2)}-release`), /role web: starting/, "no new container there");
    const order = ops(r!);
    assert.ok(order.indexOf(`${member(1)}-release:update`) < order.indexOf(`${member(1)}-host:delete-replaced`), `the new machine serves before the old one is emptied: ${order.join(" ")}`);
    assert.equal(await appContainersOn(servers[1]), "", "the old machine has no container of the app left");
    await lb.waitForUp(["s1", "s3", "s4"]);
    assert.deepEqual(await Promise.all(replaced.map((s) => waitForHttp200(`http://${s.host}:${PORT}/`))), Array(3).fill(hello("3.0.0")), "the three serve 3.0.0");
  });
});

