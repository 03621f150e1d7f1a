// The product's switch under load on the local engine: the proxy image built from the base
// image, its container and config from proxySetupSteps/proxyConfigSteps, the Caddyfile from
// renderCaddyfile, and every switch run from switchPlan's argv. Two clients at once: one
// with keep-alive connections, one with a new connection per request.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { publishedPorts, renderCaddyfile } from "../../../components/deploy/proxy/proxyConfig";
import { proxyConfigSteps, proxyNames, proxySetupSteps, upstreamAlias } from "../../../components/deploy/proxy/proxyContainer";
import { SwitchPlan, switchPlan } from "../../../components/deploy/proxy/switch";
import { docker, ensureBaseImage, uniqueName, waitForHttp200 } from "../../support/docker/localEngine";
import { BACKEND_PORT, buildProxyImage, freePort, leftovers, passesGate, removeLeftovers, startBackend } from "../../support/proxy/harness";
import { LoadResult, RunningLoad, startLoad } from "../../support/proxy/load";
import { retireContainer, runDockerSteps } from "../../../components/deploy/runner/dockerSteps";
import { localHost, type LocalHost } from "../../../components/deploy/runner/transport";

const app = `pds${uniqueName("x").slice(2)}`;
const names = proxyNames(app);
const image = `${app}/proxy:test`;
const left = leftovers();
const RATE_PER_CLIENT = 120;
const container = (color: string) => `${app}-web-${color}`;
let url = "";
/** The color serving the role now. */
let live = "blue";
/** The deployer's executor runs every step here, on the local engine. */
let host: LocalHost;
const quiet = { log: () => undefined };

function plan(next: string, previous: string[], reachSeconds?: number): SwitchPlan {
  return switchPlan({
    proxy: names, proxyImage: image, role: "web", next, previous, port: BACKEND_PORT,
    reach: { kind: "http", path: "/health" }, drainSeconds: 10, reachSeconds,
  });
}

/** The deployer's order: attach; if that fails, abort and report; else retire the previous ones. */
async function switchTo(next: string, previous: string[], reachSeconds?: number): Promise<"switched" | "aborted"> {
  const p = plan(next, previous, reachSeconds);
  try {
    await runDockerSteps(host, p.attach, quiet);
  } catch {
    await runDockerSteps(host, p.abort, quiet);
    return "aborted";
  }
  for (const r of p.retire) {
    assert.equal(await retireContainer(host, r, quiet), "drained", `${r.container} was drained (new connections refused, open ones awaited)`);
  }
  return "switched";
}

function startClients(): RunningLoad[] {
  return [true, false].map((keepAlive) => startLoad({ url, rate: RATE_PER_CLIENT, keepAlive }));
}

async function stopClients(loads: RunningLoad[], minSeconds: number): Promise<LoadResult[]> {
  const left = minSeconds - loads[0].elapsedSeconds();
  if (left > 0) await new Promise((r) => setTimeout(r, left * 1000));
  return Promise.all(loads.map((l) => l.stop()));
}

function assertNoFailure(results: LoadResult[], what: string): void {
  results.forEach((r, i) => {
    const client = i === 0 ? "keep-alive client" : "new-connection client";
    assert.equal(r.failed, 0, `${what}, ${client}: ${r.failed} of ${r.total} requests failed: ${JSON.stringify(r.failures)}`);
    assert.ok(r.total >= RATE_PER_CLIENT * r.seconds * 0.9, `${what}, ${client}: the load ran (${r.total} requests in ${r.seconds} s)`);
  });
}

async function onProxyNetwork(c: string): Promise<boolean> {
  const { stdout } = await docker(["inspect", "--format", "{{json .NetworkSettings.Networks}}", c]);
  return names.network in JSON.parse(stdout);
}

describe("switching a role behind the proxy under load", { timeout: 10 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    host = await localHost();
    left.containers.push(names.container, ...["blue", "green", "red", "local"].map(container));
    left.networks.push(names.network);
    left.volumes.push(names.volume);
    left.images.push(image);
    await buildProxyImage(image);
    const port = await freePort();
    const sites = [{ publishedPort: port, upstream: { alias: upstreamAlias(app, "web"), port: BACKEND_PORT } }];
    assert.deepEqual(publishedPorts(sites), [port], "the proxy publishes the site's port");
    await runDockerSteps(host, proxySetupSteps({ names, image, ports: [{ host: port, container: port }], logMaxSize: "10m", logMaxFiles: 1 }), quiet);
    await runDockerSteps(host, proxyConfigSteps(names, { customCaRoot: false }), { stdin: { proxyConfig: renderCaddyfile({ sites }) }, ...quiet });
    await startBackend({ name: container("blue"), body: "blue" });
    assert.ok(await passesGate(container("blue"), 15_000), "blue passes its gate");
    assert.equal(await switchTo(container("blue"), []), "switched", "the first deploy attaches blue");
    url = `http://127.0.0.1:${port}/`;
    assert.equal(await waitForHttp200(url), "blue\n", "the proxy serves blue");
  });

  after(async () => {
    await removeLeftovers(left);
  });

  it("four switches blue → green → blue → green → blue (the kept container started again): no request fails", async () => {
    const loads = startClients();
    await new Promise((r) => setTimeout(r, 1000));
    let [current, next] = [live, "green"];
    for (let k = 0; k < 4; k++) {
      if (k === 0) await startBackend({ name: container(next), body: next });
      else await docker(["start", container(next)]);
      assert.ok(await passesGate(container(next), 15_000), `${next} passes its gate (switch ${k + 1})`);
      assert.equal(await switchTo(container(next), [container(current)]), "switched", `switch ${k + 1} to ${next}`);
      assert.equal(
        (await docker(["inspect", "--format", "{{.State.Status}}", container(current)])).stdout.trim(),
        "exited",
        `${current} was stopped after switch ${k + 1} (kept for rollback)`,
      );
      assert.equal(await onProxyNetwork(container(current)), false, `${current} left the proxy network after switch ${k + 1}`);
      [current, next] = [next, current];
      live = current;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(live, "blue", "four switches end on blue");
    const before = loads.map((l) => l.snapshot());
    await new Promise((r) => setTimeout(r, 1500));
    const after = loads.map((l) => l.snapshot());
    const results = await stopClients(loads, 10);
    assertNoFailure(results, "4 switches");
    for (const r of results) {
      assert.ok((r.servedBy.blue ?? 0) > 0 && (r.servedBy.green ?? 0) > 0, `both versions served: ${JSON.stringify(r.servedBy)}`);
    }
    after.forEach((a, i) => {
      assert.equal((a.servedBy.green ?? 0) - (before[i].servedBy.green ?? 0), 0, "after the last switch, green gets no request");
      assert.ok((a.servedBy.blue ?? 0) - (before[i].servedBy.blue ?? 0) > 0, "after the last switch, blue serves");
    });
  });

  it("a release that never becomes healthy: it never joins, the live version keeps serving, no request fails", async () => {
    const loads = startClients();
    await startBackend({ name: container("red"), body: "red", healthStatus: 503 });
    assert.equal(await passesGate(container("red"), 4000), false, "red (503 on /health) fails its gate");
    assert.equal(await onProxyNetwork(container("red")), false, "red never joined the proxy network");
    await docker(["rm", "--force", container("red")]);
    const results = await stopClients(loads, 10);
    assertNoFailure(results, "a failed release");
    for (const r of results) {
      assert.deepEqual(Object.keys(r.servedBy), [live], `only ${live} served: ${JSON.stringify(r.servedBy)}`);
    }
  });

  it("a release the proxy cannot reach (listens on 127.0.0.1): attach is aborted, the live version keeps serving, no request fails", async () => {
    const loads = startClients();
    const local = container("local");
    await startBackend({ name: local, body: "local", bind: "127.0.0.1" });
    assert.ok(await passesGate(local, 15_000), "its in-container gate passes");
    assert.equal(await switchTo(local, [container(live)], 3), "aborted", "the reach check fails and the switch is aborted");
    assert.equal(await onProxyNetwork(local), false, "abort took it off the proxy network");
    assert.equal((await docker(["inspect", "--format", "{{.State.Running}}", container(live)])).stdout.trim(), "true", `${live} still runs`);
    await docker(["rm", "--force", local]);
    const results = await stopClients(loads, 10);
    assertNoFailure(results, "an unreachable release");
    for (const r of results) {
      assert.deepEqual(Object.keys(r.servedBy), [live], `only ${live} served: ${JSON.stringify(r.servedBy)}`);
    }
  });
});
