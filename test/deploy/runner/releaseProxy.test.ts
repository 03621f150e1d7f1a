// The release with the reverse proxy, by behaviour, against the in-memory Docker host: the
// new container is gated before it joins the proxy network, traffic (the role's alias) moves
// only then, the old container drains and is kept; a failure leaves or puts the traffic back.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReleaseContainerSettings, RoleSettings } from "../../../components/deploy/containerSpec";
import type { ProxySettings } from "../../../components/deploy/spec";
import { deployRelease } from "../../../components/deploy/runner/release";
import { Behaviour, FakeDockerHost } from "../../support/docker/fakeDocker";
import { demoReleaseContainerSettings } from "../../support/deploy/releaseContainerSettings";

const NET = "demo-proxy";
const PROXY_IMAGE = "pydeploy/demo-proxy:0123456789ab";
const WEB: RoleSettings = { role: "web", command: ["python", "-m", "demo.web"], ports: [], gate: { kind: "http", port: 8000, path: "/health" }, mounts: [], upstreams: [{ port: 8000, reach: { kind: "http", path: "/health" } }] };
const API: RoleSettings = { role: "api", command: ["python", "-m", "demo.api"], ports: [], gate: { kind: "tcp", port: 9000 }, mounts: [], upstreams: [{ port: 9000, reach: { kind: "tcp" } }] };
const WORKER: RoleSettings = { role: "worker", command: ["python", "-m", "demo.worker"], ports: [], gate: { kind: "running" }, mounts: [], upstreams: [] };
const PROXY: ProxySettings = {
  image: PROXY_IMAGE,
  sites: [
    { publishedPort: 8080, upstream: { alias: "demo-web", port: 8000 } },
    { publishedPort: 9090, upstream: { alias: "demo-api", port: 9000 } },
  ],
};

const spec = (version: string, roles: RoleSettings[] = [WEB, API]): ReleaseContainerSettings => demoReleaseContainerSettings(version, `pydeploy/demo:${version}`, roles);

function fakeHost(behaviours: Record<string, Behaviour> = {}): FakeDockerHost {
  const host = new FakeDockerHost();
  host.behaviour = ({ image, role }) => behaviours[`${image} ${role}`] ?? { kind: "healthy" };
  host.addImage({ tag: PROXY_IMAGE, app: "" });
  return host;
}

async function release(host: FakeDockerHost, s: ReleaseContainerSettings) {
  host.addImage({ tag: s.image, app: "demo" });
  const lines: string[] = [];
  try {
    await deployRelease(host, s, { healthTimeoutSeconds: 1, keepImages: 3, log: (l) => lines.push(l), pollMs: 5, reachSeconds: 1, proxy: { spec: PROXY, appDir: ".pydeploy/demo" } });
    return { lines, error: undefined as Error | undefined };
  } catch (err) {
    return { lines, error: err as Error };
  }
}

/** What each step did to the app's containers, in order: "run <name>", "connect <container>", "stop <container>"… */
function actions(host: FakeDockerHost, from = 0): string[] {
  return host.history.slice(from).flatMap((a) => {
    if (a[1] === "run" && a.includes("--name")) return [`run ${a[a.indexOf("--name") + 1]}`];
    if (a[1] === "run" && a.some((x) => x.startsWith("container:"))) return [`drain ${a.find((x) => x.startsWith("container:"))!.slice(10)}`];
    if (a[1] === "network" && (a[2] === "connect" || a[2] === "disconnect")) return [`${a[2]} ${a.at(-1)}`];
    if (a[1] === "stop") return [`stop ${a.at(-1)}`];
    if (a[1] === "start" && a.at(-1) !== "demo-proxy") return [`start ${a.at(-1)}`];
    return [];
  });
}

/** The last command of the host's history that matches (ES2022 has no findLastIndex). */
function lastIndexOf(host: FakeDockerHost, match: (argv: string[]) => boolean): number {
  for (let i = host.history.length - 1; i >= 0; i--) if (match(host.history[i])) return i;
  return -1;
}

describe("deployRelease behind the proxy", { timeout: 30_000 }, () => {
  test("the first release starts the proxy with the sites' ports, loads its config once, and routes each role by its alias", async () => {
    const host = fakeHost();
    const r = await release(host, spec("v1"));
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    const proxy = [...host.containers.values()].find((c) => c.name === "demo-proxy")!;
    assert.ok(proxy.argv.includes("8080:8080") && proxy.argv.includes("9090:9090"), `the proxy publishes the sites' ports: ${proxy.argv.join(" ")}`);
    const web = [...host.containers.values()].find((c) => c.name === "demo-web-v1")!;
    assert.ok(!web.argv.includes("-p"), "the web publishes no port itself");
    assert.deepEqual(host.aliasTargets(NET, "demo-web"), ["demo-web-v1"], "demo-web names the new web");
    assert.deepEqual(host.aliasTargets(NET, "demo-api"), ["demo-api-v1"], "demo-api names the new api");
    assert.equal(host.proxyConfigs.length, 1, "the config was loaded once");
    assert.ok(!r.lines.some((l) => l.includes("already runs")), `each role is booted once, the proxied ones before the switch: ${r.lines.join("\n")}`);
    assert.match(host.proxyConfigs[0], /http:\/\/:8080 \{[\s\S]*reverse_proxy demo-web:8000/, "the Caddyfile sends 8080 to demo-web:8000");

    await release(host, spec("v1"));
    assert.equal(host.proxyConfigs.length, 1, "the same config is not loaded again");
  });

  test("a redeploy gates the new web while the old one serves, then moves the alias, then drains and stops the old one", async () => {
    const host = fakeHost();
    await release(host, spec("v1"));
    const from = host.history.length;
    const r = await release(host, spec("v2"));
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(actions(host, from), [
      "run demo-web-v2", "run demo-api-v2",
      "connect demo-web-v2", "drain demo-web-v1", "disconnect demo-web-v1", "stop demo-web-v1",
      "connect demo-api-v2", "drain demo-api-v1", "disconnect demo-api-v1", "stop demo-api-v1",
    ], "both gated first, then each role switched and its old container retired");
    assert.deepEqual(host.aliasTargets(NET, "demo-web"), ["demo-web-v2"], "the alias names only the new web");
    assert.deepEqual(host.states(), { "demo-proxy": "running", "demo-web-v1": "exited", "demo-api-v1": "exited", "demo-web-v2": "running", "demo-api-v2": "running" }, "v1 kept for rollback");
  });

  test("a web the release keeps (same role version) keeps its traffic: no switch, no drain; the changed api is switched", async () => {
    const host = fakeHost();
    await release(host, { ...spec("v1"), roleVersions: { web: "web-a", api: "api-a" } });
    const from = host.history.length;
    const r = await release(host, { ...spec("v2"), roleVersions: { web: "web-a", api: "api-b" } });
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(actions(host, from), ["run demo-api-v2", "connect demo-api-v2", "drain demo-api-v1", "disconnect demo-api-v1", "stop demo-api-v1"], "only the api is released");
    assert.deepEqual(host.aliasTargets(NET, "demo-web"), ["demo-web-v1"], "the web's alias still names the web of v1");
    assert.deepEqual(host.states(), { "demo-proxy": "running", "demo-web-v1": "running", "demo-api-v1": "exited", "demo-api-v2": "running" }, "the web of v1 runs on");
  });

  test("a first release boots the worker beside the web's gate: nothing of it runs yet to disturb", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 web": { kind: "slow", failedProbes: 20 } });
    const r = await release(host, spec("v1", [WEB, WORKER]));
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    const order = actions(host);
    assert.ok(order.indexOf("run demo-worker-v1") < order.indexOf("connect demo-web-v1"), `the worker started before the web's switch: ${order.join(", ")}`);
    const lastWebProbe = lastIndexOf(host, (a) => a[1] === "exec" && a[2] === "demo-web-v1");
    const workerRun = host.history.findIndex((a) => a[1] === "run" && a.includes("demo-worker-v1"));
    assert.ok(workerRun < lastWebProbe, "while the web was still under its gate");
    assert.deepEqual(host.states(), { "demo-proxy": "running", "demo-web-v1": "running", "demo-worker-v1": "running" }, "both run");
    const switched = r.lines.indexOf("role web: traffic goes to demo-web-v1");
    const workerPassed = r.lines.findIndex((l) => l.startsWith("role worker: demo-worker-v1 passed running for"));
    assert.ok(switched >= 0 && workerPassed > switched, `the web got its traffic without waiting for the worker's gate: ${r.lines.join("\n")}`);
  });

  test("on a redeploy, a worker that does not run (added now, or dropped before) boots beside the web's gate", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 web": { kind: "slow", failedProbes: 20 }, "pydeploy/demo:v4 web": { kind: "slow", failedProbes: 20 } });
    const bootedDuringGate = (version: string) => {
      const lastWebProbe = lastIndexOf(host, (a) => a[1] === "exec" && a[2] === `demo-web-${version}`);
      const workerRun = host.history.findIndex((a) => a[1] === "run" && a.includes(`demo-worker-${version}`));
      return workerRun >= 0 && workerRun < lastWebProbe;
    };
    await release(host, spec("v1", [WEB]));
    assert.equal((await release(host, spec("v2", [WEB, WORKER]))).error, undefined, "the worker is added");
    assert.ok(bootedDuringGate("v2"), `the added worker started while the web was under its gate: ${actions(host).join(", ")}`);
    await release(host, spec("v3", [WEB]));
    assert.equal(host.states()["demo-worker-v2"], "exited", "the worker is dropped, its container kept stopped");
    assert.equal((await release(host, spec("v4", [WEB, WORKER]))).error, undefined, "the worker is back");
    assert.ok(bootedDuringGate("v4"), `with only a stopped worker, the new one started while the web was under its gate: ${actions(host).join(", ")}`);
  });

  test("a redeploy stops the running worker only once the new web passed its gate", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 web": { kind: "slow", failedProbes: 20 } });
    await release(host, spec("v1", [WEB, WORKER]));
    const from = host.history.length;
    const r = await release(host, spec("v2", [WEB, WORKER]));
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    const lastWebProbe = lastIndexOf(host, (a) => a[1] === "exec" && a[2] === "demo-web-v2");
    const workerStop = host.history.findIndex((a, i) => i >= from && a[1] === "stop" && a.includes("demo-worker-v1"));
    assert.ok(lastWebProbe >= 0 && workerStop > lastWebProbe, `the old worker was stopped after the web's last probe: ${actions(host, from).join(", ")}`);
  });

  test("a first release whose web fails its gate leaves nothing running, the worker it booted included", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 web": { kind: "unhealthy" } });
    const r = await release(host, spec("v1", [WEB, WORKER]));
    assert.match(r.error?.message ?? "", /role web did not become healthy/, "the web's gate failed");
    assert.deepEqual(Object.entries(host.states()).filter(([name]) => name !== "demo-proxy"), [], "no container of the app is left");
  });

  test("a new web that fails its gate never gets traffic: the old web is not touched", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 web": { kind: "unhealthy" } });
    await release(host, spec("v1"));
    const from = host.history.length;
    const r = await release(host, spec("v2"));
    assert.match(r.error?.message ?? "", /role web did not become healthy/, "the gate failed");
    assert.deepEqual(actions(host, from), ["run demo-web-v2"], "nothing was stopped, connected or drained");
    assert.deepEqual(host.aliasTargets(NET, "demo-web"), ["demo-web-v1"], "v1 still serves");
    assert.equal(host.states()["demo-web-v2"], undefined, "the failed container is removed");
  });

  test("when the proxy cannot reach the new api, the api's switch is aborted and the web's is moved back", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 api": { kind: "unreachable" } });
    await release(host, spec("v1"));
    const r = await release(host, spec("v2"));
    assert.match(r.error?.message ?? "", /this step failed: the proxy reaches demo-api-v2 on port 9000/, `the reach check failed: ${r.error?.message}`);
    assert.deepEqual(host.aliasTargets(NET, "demo-web"), ["demo-web-v1"], "the web's traffic is back on v1");
    assert.deepEqual(host.aliasTargets(NET, "demo-api"), ["demo-api-v1"], "the api never left v1");
    assert.equal(host.states()["demo-web-v1"], "running", "the old web runs again");
    assert.equal(host.states()["demo-web-v2"], undefined, "the new web is removed");
  });

  test("going back to v1 restarts its kept container off the network, gates it, then moves the alias to it", async () => {
    const host = fakeHost();
    await release(host, spec("v1", [WEB]));
    await release(host, spec("v2", [WEB]));
    const from = host.history.length;
    const r = await release(host, spec("v1", [WEB]));
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(actions(host, from), ["start demo-web-v1", "connect demo-web-v1", "drain demo-web-v2", "disconnect demo-web-v2", "stop demo-web-v2"], "start, gate, switch");
    assert.deepEqual(host.aliasTargets(NET, "demo-web"), ["demo-web-v1"], "v1 serves again");
  });
});
