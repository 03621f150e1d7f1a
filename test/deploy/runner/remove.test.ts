// `pulumi destroy` of the host step (components/deploy/runner/remove.ts) against the in-memory
// Docker host: what goes (containers, proxy, images, claims, folder), what stays (data volumes,
// the proxy's certificates, the local engine's own builds), and an app claimed since stays whole.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { removeApp } from "../../../components/deploy/runner/remove";
import type { RemoveSpec } from "../../../components/deploy/spec";
import { FakeContainer, FakeDockerHost } from "../../support/docker/fakeDocker";

const MINE = "a".repeat(32);
const OTHER = "b".repeat(32);
const SSH: RemoveSpec = { target: { kind: "ssh", host: "203.0.113.7", port: 22, user: "root" }, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 30, removeVolumes: false };
const LOCAL: RemoveSpec = { ...SSH, target: { kind: "local" } };

function container(host: FakeDockerHost, name: string, labels: Record<string, string>, status: FakeContainer["status"] = "running"): void {
  host.containers.set(name, {
    id: name, name, image: "sha256:none", labels, argv: [], status, restartCount: 0,
    finishedAt: "0001-01-01T00:00:00Z", behaviour: { kind: "healthy" }, probes: 0, networks: new Map(),
  });
}

/** A host as a release leaves it, claimed by `owner`: two app containers, the proxy, images, volumes, the folder. */
function deployedHost(owner = MINE): FakeDockerHost {
  const host = new FakeDockerHost();
  container(host, "demo-web-000000000002", { "pydeploy.app": "demo", "pydeploy.role": "web" });
  container(host, "demo-web-000000000001", { "pydeploy.app": "demo", "pydeploy.role": "web" }, "exited");
  container(host, "demo-proxy", { "pydeploy.proxy": "demo" });
  container(host, "other-web-000000000001", { "pydeploy.app": "other", "pydeploy.role": "web" });
  host.networks.add("demo-proxy");
  host.addImage({ tag: "pydeploy/demo:000000000001", app: "demo" });
  host.addImage({ tag: "pydeploy/demo:000000000002", app: "demo" }).tags.push("pydeploy/demo:000000000022");
  // Two tags each: removing them by ID takes --force, as on Docker.
  host.addImage({ tag: "pydeploy/demo-proxy:000000000003", app: "demo", labels: { "pydeploy.proxy": "demo" } }).tags.push("pydeploy/demo-proxy:latest");
  host.addImage({ tag: "other/app:000000000004", app: "other" });
  host.addVolume("demo-data", { "pydeploy.app": "demo" });
  host.addVolume("demo-media", { "pydeploy.app": "demo" });
  host.addVolume("demo-proxy-data", {});
  host.certificates.add("app.example.com");
  host.addVolume("other-data", { "pydeploy.app": "other" });
  host.addVolume(`demo.claim.${owner}`, { "pydeploy.claim": "demo" });
  host.files.set(".pydeploy/demo/owner", `${owner}\n`);
  host.files.set(".pydeploy/demo/app.env", "SECRET=x\n");
  return host;
}

async function remove(host: FakeDockerHost, spec: RemoveSpec, owner: string | undefined): Promise<string[]> {
  const lines: string[] = [];
  await removeApp(host, spec, owner === undefined ? undefined : { owner }, (l) => lines.push(l));
  return lines;
}

const imageTags = (host: FakeDockerHost) => [...host.images.values()].flatMap((i) => i.tags).sort();

describe("removeApp on a server: what goes and what stays", () => {
  test("the app's services go too: their containers (named in the log) and their network; their data volumes stay", async () => {
    const host = deployedHost();
    container(host, "demo-db", { "pydeploy.service-of": "demo", "pydeploy.service": "db" });
    container(host, "other-db", { "pydeploy.service-of": "other", "pydeploy.service": "db" });
    host.networks.add("demo-services");
    host.networkLabels.set("demo-services", { "pydeploy.service-of": "demo" });
    host.addVolume("demo-db-data", { "pydeploy.app": "demo", "pydeploy.service": "db" });
    const lines = await remove(host, SSH, MINE);
    assert.deepEqual(host.states(), { "other-web-000000000001": "running", "other-db": "running" }, "the app's service container is gone, another app's stays");
    assert.ok(lines.includes("removing the service containers demo-db"), `the log names them: ${lines.join("\n")}`);
    assert.ok(!host.networks.has("demo-services"), "the services' network is gone");
    assert.ok(host.volumes.has("demo-db-data"), "the service's data volume stays");
  });

  test("its own claim: the app's containers, proxy, images, claim and folder go; data volumes and certificates stay, and it says why", async () => {
    const host = deployedHost();
    const lines = await remove(host, SSH, MINE);
    assert.deepEqual(host.states(), { "other-web-000000000001": "running" }, "only another app's container is left");
    assert.deepEqual([...host.networks], [], "the proxy network is gone");
    assert.deepEqual(imageTags(host), ["other/app:000000000004"], "the app's and the proxy's images are gone, another app's stays");
    assert.deepEqual([...host.volumes.keys()].sort(), ["demo-data", "demo-media", "demo-proxy-data", "other-data"], "the data volumes stay, the claim goes");
    assert.deepEqual([...host.files.keys()], [], "the app folder is gone");
    assert.deepEqual(
      lines,
      [
        "stopped demo-proxy first: new requests go elsewhere, those in flight finished",
        "removing containers: demo-web-000000000002 demo-web-000000000001",
        "remove demo-proxy",
        "remove network demo-proxy",
        "removing images: pydeploy/demo:000000000002 pydeploy/demo:000000000001",
        "keeping volumes demo-data demo-media: they hold the app's data (set deploy.removeVolumesOnDestroy and run pulumi up before pulumi destroy to remove them)",
        "keeping volume demo-proxy-data: the proxy's certificates and ACME account (a new certificate counts against the CA's rate limits)",
        "app demo removed from the fake Docker host",
      ],
      "each removal and each kept volume is reported, in order",
    );
  });

  test("the proxy stops (gracefully) before any app container goes: a balancer in front sees refused connections, not 502s", async () => {
    const host = deployedHost();
    await remove(host, SSH, MINE);
    const at = (match: (a: string[]) => boolean) => host.history.findIndex(match);
    const proxyStop = at((a) => a[1] === "stop" && a.includes("demo-proxy"));
    const appRemoval = at((a) => a[1] === "rm" && a.some((x) => x.startsWith("demo-web") || /^[0-9a-f]{12,}$/.test(x)));
    assert.ok(proxyStop >= 0, "the proxy is stopped with docker stop, not killed");
    assert.deepEqual(host.history[proxyStop].slice(0, 4), ["docker", "stop", "--time", "10"], "with time to finish what is in flight");
    assert.ok(appRemoval > proxyStop, `the app's containers go after: ${host.history.map((a) => a.join(" ")).join("\n")}`);
  });

  test("removeVolumes: the app's volumes and the proxy's certificates go too, and nothing is reported as kept", async () => {
    const host = deployedHost();
    const lines = await remove(host, { ...SSH, removeVolumes: true }, MINE);
    assert.deepEqual([...host.volumes.keys()], ["other-data"], "only another app's volume is left");
    assert.ok(lines.includes("removing volumes: demo-data demo-media"), `it names the removed volumes: ${lines.join("\n")}`);
    assert.ok(lines.includes("remove volume demo-proxy-data (certificates, ACME account)"), `and the proxy's: ${lines.join("\n")}`);
    assert.ok(!lines.some((l) => l.startsWith("keeping")), `nothing is reported as kept: ${lines.join("\n")}`);
  });

  test("a proxy that holds no certificate (no domain ever): its volume goes too, and it says why", async () => {
    const host = deployedHost();
    host.certificates.clear();
    const lines = await remove(host, SSH, MINE);
    assert.deepEqual([...host.volumes.keys()].sort(), ["demo-data", "demo-media", "other-data"], "the proxy's volume is gone, the data volumes stay");
    assert.ok(lines.includes("removing volume demo-proxy-data: it holds no certificate"), `it says why: ${lines.join("\n")}`);
    assert.ok(!lines.some((l) => l.startsWith("keeping volume demo-proxy-data")), `and does not claim to keep it: ${lines.join("\n")}`);
  });

  test("a proxy container that cannot be asked (stopped): its volume is kept, certificates or not", async () => {
    const host = deployedHost();
    host.certificates.clear();
    host.containers.get("demo-proxy")!.status = "exited";
    const lines = await remove(host, SSH, MINE);
    assert.ok(host.volumes.has("demo-proxy-data"), "the proxy's volume stays");
    assert.ok(lines.some((l) => l.startsWith("keeping volume demo-proxy-data")), `and it says so: ${lines.join("\n")}`);
  });

  test("a step that printed no owner token removes everything, whatever the claims say", async () => {
    const host = deployedHost(OTHER);
    await remove(host, SSH, undefined);
    assert.deepEqual(host.states(), { "other-web-000000000001": "running" }, "the app's containers are gone");
    assert.ok(!host.volumes.has(`demo.claim.${OTHER}`), "and its claim");
  });

  test("an app without containers, images or volumes: only the claim and the folder go, nothing is listed", async () => {
    const host = new FakeDockerHost();
    host.addVolume(`demo.claim.${MINE}`, { "pydeploy.claim": "demo" });
    host.files.set(".pydeploy/demo/owner", `${MINE}\n`);
    const lines = await remove(host, SSH, MINE);
    assert.deepEqual([...host.volumes.keys()], [], "the claim is gone");
    assert.deepEqual(lines, ["app demo removed from the fake Docker host"], "no empty 'removing' or 'keeping' line");
    assert.ok(!host.history.some((a) => a[1] === "image" && a[2] === "rm"), "no image rm without images");
    assert.ok(!host.history.some((a) => a[0] === "docker" && a[1] === "rm" && a[2] !== "--force"), "no container rm without containers");
    assert.ok(!host.history.some((a) => a[0] === "docker" && a[1] === "rm" && a[3] !== "demo-proxy"), "only the proxy's (allowed to fail) rm");
  });
});

describe("removeApp on this machine's engine: the builds stay", () => {
  test("only the server tags go: the image docker.Image built keeps its own tag, and the proxy's image stays", async () => {
    const host = deployedHost();
    host.images.get([...host.images.values()].find((i) => i.tags.includes("pydeploy/demo:000000000002"))!.id)!.tags.push("pydeploy/demo:latest");
    const lines = await remove(host, LOCAL, MINE);
    assert.deepEqual(
      imageTags(host),
      ["other/app:000000000004", "pydeploy/demo-proxy:000000000003", "pydeploy/demo-proxy:latest", "pydeploy/demo:latest"],
      "the built tag and the proxy's image are left",
    );
    assert.ok(!lines.some((l) => l.startsWith("removing images")), `untagging is not reported as removing images: ${lines.join("\n")}`);
    assert.deepEqual(host.states(), { "other-web-000000000001": "running" }, "the app's containers are gone");
  });
});

describe("removeApp: what it cannot remove does not stop it", () => {
  test("a proxy image another container still uses stays, and the rest goes", async () => {
    const host = deployedHost();
    const proxyImage = [...host.images.values()].find((i) => i.labels["pydeploy.proxy"] === "demo")!;
    container(host, "other-proxy", { "pydeploy.proxy": "other" });
    host.containers.get("other-proxy")!.image = proxyImage.id;
    await remove(host, SSH, MINE);
    assert.deepEqual(imageTags(host), ["other/app:000000000004", "pydeploy/demo-proxy:000000000003", "pydeploy/demo-proxy:latest"], "the proxy image in use stays, the app's go");
    assert.deepEqual([...host.files.keys()], [], "and the folder still goes");
  });

  test("on the local engine, a server tag that is an image's only name and in use stays, and the rest goes", async () => {
    const host = deployedHost();
    const only = [...host.images.values()].find((i) => i.tags.includes("pydeploy/demo:000000000001"))!;
    container(host, "someone-else", {});
    host.containers.get("someone-else")!.image = only.id;
    await remove(host, LOCAL, MINE);
    assert.ok(imageTags(host).includes("pydeploy/demo:000000000001"), "the tag in use stays");
    assert.ok(!imageTags(host).includes("pydeploy/demo:000000000002"), "the other server tags go");
    assert.deepEqual([...host.files.keys()], [], "and the folder still goes");
  });

  test("on the local engine, only tags of exactly 12 hex digits are server tags; nothing to untag runs no command", async () => {
    const host = new FakeDockerHost();
    host.addImage({ tag: "pydeploy/demo:0123456789abcdef", app: "demo" }).tags.push("pydeploy/demo:0123456789ab-rc1");
    host.files.set(".pydeploy/demo/owner", `${MINE}\n`);
    await remove(host, LOCAL, MINE);
    assert.deepEqual(imageTags(host), ["pydeploy/demo:0123456789ab-rc1", "pydeploy/demo:0123456789abcdef"], "a longer hex tag and a suffixed one are the user's");
    assert.ok(!host.history.some((a) => a[1] === "image" && a[2] === "rm"), "no image rm at all");
  });
});

describe("removeApp: whose claim counts", () => {
  test("an app deployed before daemon claims (no claim volume): removed, no empty volume rm", async () => {
    const host = deployedHost();
    host.volumes.delete(`demo.claim.${MINE}`);
    const lines = await remove(host, SSH, MINE);
    assert.equal(lines.at(-1), "app demo removed from the fake Docker host", "removed");
    assert.deepEqual(host.states(), { "other-web-000000000001": "running" }, "its containers are gone");
  });

  test("its folder's owner file is gone: the daemon claim alone decides, and it is this step's", async () => {
    const host = deployedHost();
    host.files.delete(".pydeploy/demo/owner");
    const lines = await remove(host, SSH, MINE);
    assert.equal(lines.at(-1), "app demo removed from the fake Docker host", "removed");
    assert.ok(!host.volumes.has(`demo.claim.${MINE}`), "the claim went too");
  });
});

describe("removeApp of an app claimed since by another host step", () => {
  test("the same folder claimed by a newer step: nothing at all is removed", async () => {
    const host = deployedHost(OTHER);
    const before = { states: host.states(), tags: imageTags(host), volumes: [...host.volumes.keys()], files: [...host.files.keys()] };
    const lines = await remove(host, SSH, MINE);
    assert.deepEqual({ states: host.states(), tags: imageTags(host), volumes: [...host.volumes.keys()], files: [...host.files.keys()] }, before, "the host is unchanged");
    assert.deepEqual(lines, [".pydeploy/demo on the fake Docker host now belongs to another deployment of demo (a newer host step claimed it): leaving the app in place"], "and it says why");
  });

  test("another user's step claimed it on the daemon: only this user's folder goes", async () => {
    const host = deployedHost(OTHER);
    host.files.set(".pydeploy/demo/owner", `${MINE}\n`);
    await remove(host, SSH, MINE);
    assert.equal(Object.keys(host.states()).length, 4, "every container stays");
    assert.deepEqual([...host.files.keys()], [], "the folder is gone");
    assert.ok(host.volumes.has(`demo.claim.${OTHER}`), "the other step's claim stays");
  });
});
