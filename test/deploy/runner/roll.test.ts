// A release in a rolling release (components/deploy/runner/roll.ts) against in-memory Docker hosts:
// a server released before this one is caught up, or taken back, with its own release's shape.
// With services on the first server, its containers join the services' network; the others'
// reach the services by host entries. The same release must keep each server's own shape.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { peerSpec, releaseInRoll } from "../../../components/deploy/runner/roll";
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

