// A release in a rolling release (components/deploy/runner/roll.ts) against in-memory Docker hosts:
// a server released before this one is caught up, or taken back, with its own release's shape.
// With services on the first server, its containers join the services' network; the others'
// reach the services by host entries. The same release must keep each server's own shape.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ContainerInfo } from "../../../components/deploy/runner/dockerState";
import { peerSpec, previousContainers, releaseInRoll, runs } from "../../../components/deploy/runner/roll";
import type { ReleaseSpec, RollPeer, SshTarget, Target } from "../../../components/deploy/spec";
import { FakeDockerHost } from "../../support/docker/fakeDocker";
import { DEMO_WEB_ROLE } from "../../support/deploy/releaseContainerSettings";

const FIRST: SshTarget = { kind: "ssh", host: "10.0.0.5", port: 22, user: "root" };
const SECOND: SshTarget = { kind: "ssh", host: "10.0.0.6", port: 22, user: "root" };
const SERVICE_HOSTS = [{ name: "cache", address: "10.0.0.5" }];
const FIRST_SERVICES = { network: "demo-services", ready: [{ name: "cache", container: "demo-cache", kind: "redis" as const }] };
const IMAGE = "pydeploy/demo:4f1c2b3a9d8e";

/** The second server's release spec: host entries for the services, the first server (with its network) released before it. */
function secondServersSpec(image: string, firstPeer: RollPeer = { ...FIRST, network: "demo-services" }): ReleaseSpec {
  return {
    specVersion: 1,
    target: SECOND,
    app: "demo",
    appDir: ".pydeploy/demo",
    connectTimeoutSeconds: 5,
    settings: {
      app: "demo",
      image,
      imageIdentity: `sha256:${image.slice(-12).padEnd(64, "0")}`,
      roles: [{ ...DEMO_WEB_ROLE, ports: [{ host: 8080, container: 8000 }] }],
      envFile: ".pydeploy/demo/app.env",
      logMaxSize: "10m",
      logMaxFiles: 3,
      stopGraceSeconds: 5,
      serviceHosts: SERVICE_HOSTS,
    },
    healthTimeoutSeconds: 2,
    runningGateSeconds: 0,
    keepImages: 3,
    volumes: { names: [], ownerUid: 1000 },
    earlier: [firstPeer],
  };
}

const runArgs = (host: FakeDockerHost) => host.history.filter((a) => a[0] === "docker" && a[1] === "run" && a.includes("--detach"));
const flagValues = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

describe("a rolling release's earlier servers keep their own shape", () => {
  test("peerSpec: the first server's network and services; the second's host entries dropped there, and kept for a peer that has them", () => {
    const spec = secondServersSpec(IMAGE, { ...FIRST, network: "demo-services", services: FIRST_SERVICES });
    const first = peerSpec(spec, spec.earlier![0]);
    assert.deepEqual(first.target, FIRST, "the first server's address");
    assert.equal(first.settings.network, "demo-services", "its containers join the services' network");
    assert.equal(first.settings.serviceHosts, undefined, "and need no host entries");
    assert.deepEqual(first.services, FIRST_SERVICES, "it waits for its services");
    assert.equal(first.earlier, undefined, "a peer rolls nothing itself");
    const third = peerSpec({ ...spec, services: FIRST_SERVICES, settings: { ...spec.settings, serviceHosts: undefined, network: "demo-services" } }, { ...SECOND, serviceHosts: SERVICE_HOSTS });
    assert.deepEqual([third.settings.network, third.settings.serviceHosts, third.services], [undefined, SERVICE_HOSTS, undefined], "seen from the first server's spec, the second keeps its host entries and has no services");
    assert.deepEqual(third.settings.roles, spec.settings.roles, "the same roles");
    assert.equal(third.settings.image, IMAGE, "the same image");
  });

  test("a rerun's catch-up releases the first server on the services' network, then the second with host entries", async () => {
    const hosts = new Map([FIRST, SECOND].map((t) => [t.host, new FakeDockerHost()]));
    for (const h of hosts.values()) h.addImage({ tag: IMAGE, app: "demo" });
    const lines: string[] = [];
    const connect = async (t: Target) => hosts.get((t as SshTarget).host)!;
    const result = await releaseInRoll(secondServersSpec(IMAGE), { env: { GREETING: "hi" } }, { connect, log: (l) => lines.push(l) });
    assert.match(lines.join("\n"), /10\.0\.0\.5, released before this server, does not run [0-9a-f]+: releasing it there first/, "the first server is caught up first");
    assert.ok(lines.some((l) => /^\[10\.0\.0\.5\] release [0-9a-f]+ of demo is live/.test(l)), `the catch-up's lines carry the first server's address: ${lines.join("\n")}`);
    const [firstRun] = runArgs(hosts.get(FIRST.host)!);
    assert.deepEqual(flagValues(firstRun, "--network"), ["demo-services"], "on the first server: the services' network");
    assert.deepEqual(flagValues(firstRun, "--add-host"), [], "and no host entries");
    const [secondRun] = runArgs(hosts.get(SECOND.host)!);
    assert.deepEqual(flagValues(secondRun, "--add-host"), ["cache:10.0.0.5"], "on the second: cache at the first server");
    assert.deepEqual(flagValues(secondRun, "--network"), [], "and no network of its own");
    assert.notEqual(firstRun[firstRun.indexOf("--name") + 1], secondRun[secondRun.indexOf("--name") + 1], "each server's shape is its own version");
    assert.equal(result.containers.length, 1, "the second server's web runs");
  });

  test("a failed gate on the second server takes the first back to its previous version, on the services' network still", async () => {
    const OLD = "pydeploy/demo:0000000000aa";
    const NEW = IMAGE;
    const first = new FakeDockerHost();
    const second = new FakeDockerHost();
    for (const h of [first, second]) for (const tag of [OLD, NEW]) h.addImage({ tag, app: "demo" });
    second.behaviour = ({ image }) => (image === NEW ? { kind: "exits", code: 1 } : { kind: "healthy" });
    const hosts = new Map([[FIRST.host, first], [SECOND.host, second]]);
    const connect = async (t: Target) => hosts.get((t as SshTarget).host)!;
    const ctx = { connect, log: () => undefined };
    const secrets = { env: { GREETING: "hi" } };
    // Each server ran OLD; the first then took NEW in its own step.
    const asFirst = (image: string) => ({ ...peerSpec(secondServersSpec(image), { ...FIRST, network: "demo-services" }), target: FIRST });
    await releaseInRoll(asFirst(OLD), secrets, ctx);
    await releaseInRoll({ ...secondServersSpec(OLD), earlier: [] }, secrets, ctx);
    await releaseInRoll(asFirst(NEW), secrets, ctx);
    await assert.rejects(releaseInRoll(secondServersSpec(NEW), secrets, ctx), /The roll stopped at 10\.0\.0\.6; the servers released before it: 10\.0\.0\.5 went back from [0-9a-f]+ to [0-9a-f]+/, "the first server went back");
    const running = (h: FakeDockerHost) => [...h.containers.values()].filter((c) => c.status === "running" && c.labels["pydeploy.role"] === "web");
    const [back] = running(first);
    assert.ok(back.argv.includes(OLD) && !back.argv.includes(NEW), `the first server runs the old image again: ${back.argv.join(" ")}`);
    assert.deepEqual(flagValues(back.argv, "--network"), ["demo-services"], "on the services' network, as it ran before");
    assert.deepEqual(running(second).map((c) => c.argv.includes(OLD)), [true], "the second kept the old one");
  });
});

/** Fake hosts by address, each with both images; `failing` crashes NEW's web there. */
function fleetOf(addresses: string[], o: { failing?: string; unreachableOnSecondConnect?: string } = {}) {
  const hosts = new Map(addresses.map((a) => [a, new FakeDockerHost()]));
  for (const h of hosts.values()) for (const tag of [OLD_IMAGE, IMAGE]) h.addImage({ tag, app: "demo" });
  if (o.failing) hosts.get(o.failing)!.behaviour = ({ image }) => (image === IMAGE ? { kind: "exits", code: 1 } : { kind: "healthy" });
  const connects = new Map<string, number>();
  const lines: string[] = [];
  const ctx = {
    connect: async (t: Target) => {
      const host = (t as SshTarget).host;
      connects.set(host, (connects.get(host) ?? 0) + 1);
      if (host === o.unreachableOnSecondConnect && connects.get(host)! > 1) throw new Error(`ssh: connect to host ${host} port 22: Connection refused`);
      return hosts.get(host)!;
    },
    log: (l: string) => lines.push(l),
  };
  return { hosts, ctx, lines };
}
const OLD_IMAGE = "pydeploy/demo:0000000000aa";
const SECRETS = { env: { GREETING: "hi" } };
const at = (host: string): SshTarget => ({ kind: "ssh", host, port: 22, user: "root" });
/** A plain fleet release (no services) of `image` on `host`, the servers in `earlier` released before it. */
const plain = (image: string, host: string, earlier: string[]): ReleaseSpec => {
  const { serviceHosts: _hosts, ...settings } = secondServersSpec(image).settings;
  return { ...secondServersSpec(image), target: at(host), settings, earlier: earlier.map(at) };
};

describe("a failure in a roll: what each earlier server does", () => {
  test("with no earlier server, the failure is the release's own, unchanged", async () => {
    const { ctx } = fleetOf(["10.0.0.5"], { failing: "10.0.0.5" });
    await assert.rejects(releaseInRoll(plain(IMAGE, "10.0.0.5", []), SECRETS, ctx), (err: Error) => !/The roll stopped/.test(err.message) && /role web did not become healthy/.test(err.message));
  });

  test("the third fails: the second goes back, then the first (last switched first), each named; their logs carry the server", async () => {
    const servers = ["10.0.0.5", "10.0.0.6", "10.0.0.7"];
    const { ctx, lines } = fleetOf(servers, { failing: "10.0.0.7" });
    for (const [i, h] of servers.entries()) await releaseInRoll(plain(OLD_IMAGE, h, servers.slice(0, i)), SECRETS, ctx);
    await releaseInRoll(plain(IMAGE, "10.0.0.5", []), SECRETS, ctx);
    await releaseInRoll(plain(IMAGE, "10.0.0.6", ["10.0.0.5"]), SECRETS, ctx);
    assert.ok(!lines.some((l) => /releasing it there first/.test(l)), "an earlier server that runs this release is not released again");
    await assert.rejects(
      releaseInRoll(plain(IMAGE, "10.0.0.7", ["10.0.0.5", "10.0.0.6"]), SECRETS, ctx),
      /The roll stopped at 10\.0\.0\.7; the servers released before it: 10\.0\.0\.6 went back from [0-9a-f]+ to [0-9a-f]+; 10\.0\.0\.5 went back from/,
    );
    assert.ok(lines.some((l) => /^rolling 10\.0\.0\.6 back from [0-9a-f]+ to [0-9a-f]+: demo-web-[0-9a-f]+$/.test(l)), `it says what it rolls back: ${lines.join("\n")}`);
    assert.ok(lines.some((l) => /^\[10\.0\.0\.5\] role web: /.test(l)), "the peer's release lines carry its address");
  });

  test("a first server with nothing to go back to keeps the new version and says so; one that cannot be reached is named", async () => {
    const { ctx } = fleetOf(["10.0.0.5", "10.0.0.6"], { failing: "10.0.0.6" });
    await releaseInRoll(plain(IMAGE, "10.0.0.5", []), SECRETS, ctx);
    await assert.rejects(releaseInRoll(plain(IMAGE, "10.0.0.6", ["10.0.0.5"]), SECRETS, ctx), /10\.0\.0\.5 keeps [0-9a-f]+: a role it restarted holds no stopped container to go back to/);
    const cut = fleetOf(["10.0.0.5", "10.0.0.6"], { failing: "10.0.0.6", unreachableOnSecondConnect: "10.0.0.5" });
    await releaseInRoll(plain(IMAGE, "10.0.0.5", []), SECRETS, { ...cut.ctx, connect: async (t: Target) => cut.hosts.get((t as SshTarget).host)! });
    await assert.rejects(releaseInRoll(plain(IMAGE, "10.0.0.6", ["10.0.0.5"]), SECRETS, cut.ctx), /10\.0\.0\.5: could not be rolled back: ssh: connect to host 10\.0\.0\.5 port 22: Connection refused/);
  });
});

describe("runs and previousContainers: what a server runs, and what it ran before", () => {
  const spec: ReleaseSpec = { ...secondServersSpec(IMAGE), settings: { ...secondServersSpec(IMAGE).settings, roles: [DEMO_WEB_ROLE, { ...DEMO_WEB_ROLE, role: "worker", ports: [], gate: { kind: "running" }, healthcheck: undefined }] } };
  const V2 = { version: "v2", roleVersions: { web: "web-b", worker: "worker-a" } };
  let n = 0;
  const c = (role: string | undefined, version: string | undefined, running: boolean, finishedAt = "2026-12-06T10:00:00Z", roleVersion?: string): ContainerInfo => ({
    id: `c${++n}`, name: `demo-${role}-${version}`, app: "demo", role, version, roleVersion, image: "sha256:x", status: running ? "running" : "exited", running, restartCount: 0, exitCode: 0, finishedAt,
  } as ContainerInfo);
  const t = (h: number) => `2026-12-06T${String(h).padStart(2, "0")}:00:00Z`;

  test("runs: every role has a running container of that version, or one it kept", () => {
    assert.equal(runs([c("web", "v2", true), c("worker", "v2", true)], spec, V2), true, "both roles on v2");
    assert.equal(runs([c("web", "v2", true), c("worker", "v1", true)], spec, V2), false, "the worker still on v1, unlabelled");
    assert.equal(runs([c("web", "v2", true), c("worker", "v1", true, t(1), "worker-a")], spec, V2), true, "the worker of v1 has v2's role version: kept");
    assert.equal(runs([c("web", "v2", true), c("worker", "v1", true, t(1), "worker-old")], spec, V2), false, "the worker of v1 has another role version");
    assert.equal(runs([c("web", "v2", true), c("worker", "v2", false)], spec, V2), false, "the worker's v2 stopped");
    assert.equal(runs([c("web", "v2", true), c("worker", "v1", true)], spec, { version: "v2", roleVersions: { web: "web-b" } }), false, "no role version for the worker: an unlabelled worker of v1 is not this release's");
    assert.equal(runs([c("web", "v2", true), c("web", "v2", true)], spec, V2), false, "no worker at all");
  });

  test("previousContainers: a restarted role goes back to its newest stopped container", () => {
    const history = [c("web", "v0", false, t(1)), c("web", "v1", false, t(5)), c("worker", "v0", false, t(1)), c("worker", "v1", false, t(5)), c("web", "v2", true), c("worker", "v2", true)];
    assert.deepEqual(previousContainers(history, spec, V2), { version: "v1", containers: { web: "demo-web-v1", worker: "demo-worker-v1" } }, "the newest stopped, not the first listed");
    assert.deepEqual(
      previousContainers([...history, c("web", undefined, false, t(9)), c("worker", "v9", true)], spec, V2),
      { version: "v1", containers: { web: "demo-web-v1", worker: "demo-worker-v1" } },
      "not an unlabelled container, not a running one",
    );
    assert.equal(previousContainers([c("web", "v1", false, t(5)), c("web", "v2", true), c("worker", "v2", true)], spec, V2), undefined, "the worker has nothing to go back to");
    assert.equal(previousContainers([c("web", "v2", true)], spec, V2), undefined, "the worker does not run the release");
    const mixed = [c("web", "v1", false, t(5)), c("worker", "v3", false, t(9)), c("worker", "v0", false, t(7)), c("web", "v2", true), c("worker", "v2", true)];
    assert.deepEqual(previousContainers(mixed, spec, V2), { version: "v3", containers: { web: "demo-web-v1", worker: "demo-worker-v3" } }, "each role its own newest; the version is the newest of them");
    const mixedOtherWay = [c("web", "v3", false, t(9)), c("worker", "v1", false, t(5)), c("web", "v2", true), c("worker", "v2", true)];
    assert.equal(previousContainers(mixedOtherWay, spec, V2)?.version, "v3", "whichever role holds it");
  });

  test("previousContainers: a role the release kept stays on its container", () => {
    // v1 restarted both; v2 changed the web only, so the worker of v1 kept running.
    const history = [c("web", "v0", false, t(1)), c("worker", "v0", false, t(1)), c("web", "v1", false, t(5)), c("worker", "v1", true, t(1), "worker-a"), c("web", "v2", true)];
    assert.deepEqual(previousContainers(history, spec, V2), { version: "v1", containers: { web: "demo-web-v1", worker: "demo-worker-v1" } }, "the worker of v1 stays, not the older stopped one");
    const nothingRestarted = [c("web", "v1", true, t(1), "web-b"), c("worker", "v1", true, t(1), "worker-a"), c("web", "v0", false, t(1))];
    assert.deepEqual(previousContainers(nothingRestarted, spec, V2), { version: undefined, containers: { web: "demo-web-v1", worker: "demo-worker-v1" } }, "no role restarted: no version to go back to");
  });
});
