// The ship step's copy mode by behaviour: a real `docker save` of a tiny two-layer image on this
// machine's engine, into a scripted Docker host (test/support/docker/fakeDocker.ts) that says which
// layers it has and how each `docker load` ends.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { serverTag } from "../../../components/deploy/containerSpec";
import type { ShipSpec } from "../../../components/deploy/spec";
import { shipImage } from "../../../components/deploy/runner/ship";
import { localHost } from "../../../components/deploy/runner/transport";
import { docker, uniqueName } from "../../support/docker/localEngine";
import { FakeDockerHost } from "../../support/docker/fakeDocker";

const repo = `${uniqueName("pydeploy-ship")}/tiny`;
let image: { name: string; identity: string; serverTag: string; layers: string[] };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-ship-"));

/** Two layers: a file from `docker import`, then one more file. */
async function tinyImage(): Promise<typeof image> {
  fs.mkdirSync(path.join(dir, "root"));
  fs.writeFileSync(path.join(dir, "root", "base.txt"), "base layer\n");
  const tar = await import("tar");
  await tar.c({ cwd: path.join(dir, "root"), file: path.join(dir, "root.tar") }, ["base.txt"]);
  await docker(["import", path.join(dir, "root.tar"), `${repo}:base`]);
  fs.writeFileSync(path.join(dir, "code.txt"), "code layer\n");
  fs.writeFileSync(path.join(dir, "Dockerfile"), `FROM ${repo}:base\nCOPY code.txt /code.txt\n`);
  await docker(["build", "--quiet", "-t", `${repo}:v1`, dir], { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  const [inspected] = JSON.parse((await docker(["image", "inspect", `${repo}:v1`])).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
  return { name: `${repo}:v1`, identity: inspected.Id, serverTag: serverTag(`${repo}:v1`, inspected.Id), layers: inspected.RootFS.Layers };
}

const spec = (): ShipSpec => ({
  specVersion: 1,
  target: { kind: "ssh", host: "fake", port: 22, user: "root" },
  app: "demo",
  appDir: ".pydeploy/demo",
  connectTimeoutSeconds: 10,
  image: { name: image.name, identity: image.identity, serverTag: image.serverTag },
});

async function ship(host: FakeDockerHost, s: ShipSpec = spec()) {
  const lines: string[] = [];
  try {
    const result = await shipImage(host, await localHost(), s, s.image, {}, (l) => lines.push(l));
    return { result, lines, error: undefined as Error | undefined };
  } catch (err) {
    return { result: undefined, lines, error: err as Error };
  }
}

describe("shipImage, copy mode", { timeout: 120_000 }, () => {
  before(async () => {
    image = await tinyImage();
    assert.equal(image.layers.length, 2, "the test image has two layers");
  });

  after(async () => {
    await docker(["image", "rm", "--force", `${repo}:v1`, `${repo}:base`], { allowFailure: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a host with the base layer gets only the code layer", async () => {
    const host = new FakeDockerHost();
    host.addImage({ tag: "other/app:1", app: "other", layers: [image.layers[0]] });
    host.loads = [{ outcome: "ok", tag: image.serverTag, layers: image.layers }];
    const r = await ship(host);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.equal(r.result?.action, "copied", "copied");
    assert.ok(r.lines.includes(`${image.serverTag}: sending 1 of 2 layers (0.0 MB before compression); the host has the first 1`), `one layer: ${r.lines.join("\n")}`);
    assert.equal(host.history.filter((a) => a[1] === "load").length, 1, "one load");
  });

  test("when the partial load fails (a layer went meanwhile), every layer is sent", async () => {
    const host = new FakeDockerHost();
    host.addImage({ tag: "other/app:1", app: "other", layers: [image.layers[0]] });
    host.loads = [
      { outcome: "fail", tag: image.serverTag, layers: [] },
      { outcome: "ok", tag: image.serverTag, layers: image.layers },
    ];
    const r = await ship(host);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.ok(r.lines.some((l) => l.startsWith("the partial load failed")), "the fallback is logged");
    assert.ok(r.lines.includes(`${image.serverTag}: sending 2 of 2 layers (0.0 MB before compression); the host has the first 0`), `then all layers: ${r.lines.join("\n")}`);
    assert.equal(r.result?.bytesSent, host.bytesSent, "both archives are counted");
  });

  test("a load that reports success but holds other layers is caught, and its tag removed", async () => {
    const host = new FakeDockerHost();
    host.loads = [{ outcome: "ok", tag: image.serverTag, layers: [image.layers[0]] }];
    const r = await ship(host);
    assert.match(r.error?.message ?? "", /has other layers than the one built \(1 vs 2\); the tag was removed/, `caught: ${r.error?.message}`);
    assert.equal([...host.images.values()].some((i) => i.tags.includes(image.serverTag)), false, "the tag is gone");
  });

  test("a host that has the tag gets nothing, even when the local image is gone", async () => {
    const host = new FakeDockerHost();
    host.addImage({ tag: image.serverTag, app: "demo", layers: image.layers });
    const gone = { ...spec(), image: { ...spec().image, identity: `sha256:${"9".repeat(64)}` } };
    const r = await ship(host, gone);
    assert.deepEqual(r.result, { action: "present", serverTag: image.serverTag, bytesSent: 0 }, "present");
  });

  test("an image that is neither local nor on the host fails with what to do", async () => {
    const host = new FakeDockerHost();
    const gone = { ...spec(), image: { name: `${repo}:gone`, identity: `sha256:${"9".repeat(64)}`, serverTag: `${repo}:999999999999` } };
    const r = await ship(host, gone);
    assert.match(r.error?.message ?? "", /is not in the local Docker engine, and the host does not have it either\. Build it again/, `clear error: ${r.error?.message}`);
  });
});
