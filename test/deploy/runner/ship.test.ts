// The ship step by behaviour (components/deploy/runner/ship.ts), without a Docker engine: the
// deployer's `docker save` is a synthetic archive (test/support/docker/dockerSave.ts), the host the in-memory
// Docker host, whose `docker load` outcomes are scripted. Which layers go, the fallback to all of
// them, the checks after a load, registry mode's throwaway login, and the local target's tag.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { PassThrough, Readable } from "node:stream";
import { describe, test } from "node:test";
import { createGunzip } from "node:zlib";
import type { Argv } from "../../../components/deploy/dockerCommands";
import { shipImage, shipImages, type ShipOptions } from "../../../components/deploy/runner/ship";
import type { LocalHost } from "../../../components/deploy/runner/transport";
import type { ShipImage, ShipSpec, StepSecrets } from "../../../components/deploy/spec";
import { FakeDockerHost } from "../../support/docker/fakeDocker";
import { readArchive, syntheticSave } from "../../support/docker/dockerSave";

const BUILT = "pydeploy/demo:latest";
const SERVER_TAG = "pydeploy/demo:0123456789ab";

/** The deployer's engine: the fake host plus a `docker save` that streams a synthetic archive. */
class FakeDeployer extends FakeDockerHost {
  /** Image ID -> its `docker save` output. */
  readonly saves = new Map<string, Buffer>();
  /** How the next save ends instead: stderr, and whether it wrote its archive first. */
  saveFailure: { stderr: string; wroteArchive: boolean } | undefined;

  spawn(argv: Argv) {
    assert.deepEqual(argv.slice(0, 2), ["docker", "save"], "the deployer only streams docker save");
    const image = [...this.images.values()].find((i) => i.tags.includes(argv[2]));
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const child = Object.assign(new EventEmitter(), { stdin, stdout, stderr });
    const failure = this.saveFailure ?? (image ? undefined : { stderr: `Error response from daemon: reference does not exist: ${argv[2]}`, wroteArchive: false });
    stdout.on("end", () => setImmediate(() => child.emit("close", failure ? 1 : 0)));
    setImmediate(() => {
      if (failure) stderr.end(failure.stderr);
      else stderr.end();
      stdout.end(failure && !failure.wroteArchive ? undefined : this.saves.get(image!.id));
    });
    return child;
  }
}

function setUp(layers = ["base\n", "code\n"]) {
  const save = syntheticSave({ tag: BUILT, layers });
  const deployer = new FakeDeployer();
  const built = deployer.addImage({ tag: BUILT, app: "demo", layers: save.diffIds });
  deployer.saves.set(built.id, save.archive);
  const image: ShipImage = { name: BUILT, identity: built.id, serverTag: SERVER_TAG };
  return { deployer, image, diffIds: save.diffIds };
}

const SSH: ShipSpec = {
  specVersion: 1,
  target: { kind: "ssh", host: "203.0.113.7", port: 22, user: "root" },
  app: "demo",
  appDir: ".pydeploy/demo",
  connectTimeoutSeconds: 10,
  image: { name: BUILT, identity: "sha256:unused", serverTag: SERVER_TAG },
};

async function ship(host: FakeDockerHost, deployer: FakeDeployer, image: ShipImage, spec: ShipSpec = SSH, secrets: StepSecrets = {}, options: ShipOptions = {}) {
  const lines: string[] = [];
  try {
    const result = await shipImage(host, deployer as unknown as LocalHost, spec, image, secrets, (l) => lines.push(l), options);
    return { result, lines, error: undefined as Error | undefined };
  } catch (err) {
    return { result: undefined, lines, error: err as Error };
  }
}

const tagsOn = (host: FakeDockerHost) => [...host.images.values()].flatMap((i) => i.tags).sort();
const loads = (host: FakeDockerHost) => host.history.filter((a) => a[1] === "load").length;
/** The layer blobs an archive carries (non-empty files under blobs/), by diffID. */
async function sentLayers(archive: Buffer, diffIds: string[]): Promise<string[]> {
  const entries = await readArchive(Readable.from([archive]).pipe(createGunzip()));
  return diffIds.filter((d) => (entries.get(`blobs/sha256/${d.slice("sha256:".length)}`)?.length ?? 0) > 0);
}

describe("shipImage, copy mode", { timeout: 30_000 }, () => {
  test("a host with the base layer gets only the code layer, loaded, verified and counted", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.addImage({ tag: "other/app:1", app: "other", layers: [diffIds[0]] });
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: diffIds }];
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(r.result, { action: "copied", serverTag: SERVER_TAG, bytesSent: host.lastStream!.length }, "copied, every byte of the archive counted");
    assert.ok(host.lastStream!.length > 0, "the archive is not empty");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), [diffIds[1]], "the archive carries only the code layer");
    assert.deepEqual(
      r.lines.map((l) => l.replace(/\d+\.\d s/g, "N s")),
      [
        `${SERVER_TAG}: sending 1 of 2 layers (0.0 MB before compression); the host has the first 1`,
        `docker load: Loaded image: ${SERVER_TAG}`,
        `verified ${SERVER_TAG}: 2 layers, it starts`,
        `shipped ${SERVER_TAG}: ${(host.lastStream!.length / 1e6).toFixed(1)} MB sent; took 0.0 s: docker save 0.0 s, check layers 0.0 s, send and docker load 0.0 s, verify 0.0 s`,
      ].map((l) => l.replace(/\d+\.\d s/g, "N s")),
      "what it sent, the load's answer, the check, and where the time went",
    );
    assert.deepEqual(tagsOn(deployer), [BUILT], "the deployer's temporary server tag is gone again");
    assert.deepEqual(tagsOn(host), ["other/app:1", SERVER_TAG].sort(), "the host has the image under its server tag");
  });

  test("the size it sends counts only the layers it sends, and bytes are counted from this ship on", async () => {
    const { deployer, image, diffIds } = setUp(["b".repeat(3_000_000), "code\n"]);
    const host = new FakeDockerHost();
    host.bytesSent = 5_000_000;
    host.addImage({ tag: "other/app:1", app: "other", layers: [diffIds[0]] });
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: diffIds }];
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.equal(r.lines[0], `${SERVER_TAG}: sending 1 of 2 layers (0.0 MB before compression); the host has the first 1`, "the 3 MB base layer is not counted");
    assert.equal(r.result?.bytesSent, host.bytesSent - 5_000_000, "only this ship's bytes");
  });

  test("the host's image list failing fails the ship after the save, and the deployer's tag still goes", async () => {
    const { deployer, image } = setUp();
    const host = new FakeDockerHost();
    const run = host.run.bind(host);
    host.run = async (argv, opts) => {
      if (argv.join(" ") === "docker image ls --quiet --no-trunc") throw new Error("on the fake Docker host: the daemon is busy");
      return run(argv, opts);
    };
    const r = await ship(host, deployer, image);
    assert.equal(r.error?.message, "on the fake Docker host: the daemon is busy", "its error");
    assert.equal(loads(host), 0, "nothing was loaded");
    assert.deepEqual(tagsOn(deployer), [BUILT], "the temporary tag is gone");
  });

  test("an empty host gets every layer", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: diffIds }];
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), diffIds, "both layers");
    assert.equal(r.lines[0], `${SERVER_TAG}: sending 2 of 2 layers (0.0 MB before compression); the host has the first 0`, "and says so");
  });

  test("when the partial load fails (a layer went meanwhile), every layer is sent", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.addImage({ tag: "other/app:1", app: "other", layers: [diffIds[0]] });
    host.loads = [
      { outcome: "fail", tag: SERVER_TAG, layers: [] },
      { outcome: "ok", tag: SERVER_TAG, layers: diffIds },
    ];
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.ok(r.lines.includes("the partial load failed (docker load on the fake Docker host exited 1); sending every layer"), `the fallback is logged: ${r.lines.join("\n")}`);
    assert.ok(r.lines.includes("docker load: open /var/lib/docker/tmp/docker-import-1/blobs/sha256/0: no such file or directory"), "with the failed load's output");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), diffIds, "the second archive carries both layers");
    assert.equal(r.result?.bytesSent, host.bytesSent, "both archives are counted");
    assert.equal(loads(host), 2, "two loads");
  });

  test("after another image (hostLayersAfter): saved meanwhile, but the host is asked for its layers only once that image is there", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: diffIds }];
    let appShipped!: () => void;
    const app = new Promise<void>((resolve) => (appShipped = resolve));
    const shipping = ship(host, deployer, image, SSH, {}, { hostLayersAfter: app });
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(deployer.history.some((a) => a[1] === "tag"), "the deployer tagged the image to save it meanwhile");
    assert.deepEqual(host.history.filter((a) => a.join(" ") === "docker image ls --quiet --no-trunc"), [], "the host's images are not listed yet");
    assert.equal(loads(host), 0, "nothing is sent yet");
    // The app's image, with the shared base layer, arrives; then this one goes.
    host.addImage({ tag: "pydeploy/demo:app", app: "demo", layers: [diffIds[0]] });
    host.bytesSent += 7_000_000; // the app's archive, over the same connection
    appShipped();
    const r = await shipping;
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), [diffIds[1]], "only the layer the other image did not bring");
    assert.equal(r.result?.bytesSent, host.lastStream!.length, "its own archive's bytes, not the app's sent meanwhile");
    assert.match(r.lines.at(-1)!, /took \d+\.\d s: .*waiting to send \d+\.\d s/, `the wait is a phase of its own: ${r.lines.at(-1)}`);
  });

  test("saveAfter: its docker save starts only once that settles, even when it fails; onSaved says when the save is done", async () => {
    for (const outcome of ["resolves", "rejects"] as const) {
      const { deployer, image, diffIds } = setUp();
      const spawned: string[][] = [];
      const spawn = deployer.spawn.bind(deployer);
      deployer.spawn = (argv) => (spawned.push(argv), spawn(argv));
      const host = new FakeDockerHost();
      host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: diffIds }];
      let settle!: () => void;
      const before = new Promise<void>((resolve, reject) => (settle = outcome === "resolves" ? resolve : () => reject(new Error("the app's save failed"))));
      const saves: number[] = [];
      const shipping = ship(host, deployer, image, SSH, {}, { saveAfter: before, onSaved: () => saves.push(loads(host)) });
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(spawned, [], `${outcome}: no docker save yet`);
      settle();
      const r = await shipping;
      assert.equal(r.error, undefined, `${outcome}: no error: ${r.error?.message}`);
      assert.deepEqual(spawned, [["docker", "save", SERVER_TAG]], `${outcome}: then one docker save`);
      assert.deepEqual(saves, [0], `${outcome}: onSaved once, before anything was loaded`);
    }
  });

  test("onSaved is called when the save fails too (the next image must not wait for ever)", async () => {
    const { deployer, image } = setUp();
    deployer.saveFailure = { stderr: "Error response from daemon: write /var/lib/docker/tmp: no space left on device", wroteArchive: false };
    let saved = 0;
    const r = await ship(new FakeDockerHost(), deployer, image, SSH, {}, { onSaved: () => saved++ });
    assert.match(r.error?.message ?? "", /no space left on device/, "the save's error");
    assert.equal(saved, 1, "onSaved was called");
  });

  test("after another image whose ship failed: nothing is sent, that error is the ship's, the deployer's tag goes", async () => {
    const { deployer, image } = setUp();
    const host = new FakeDockerHost();
    const r = await ship(host, deployer, image, SSH, {}, { hostLayersAfter: Promise.reject(new Error("docker load on the host exited 1")) });
    assert.equal(r.error?.message, "docker load on the host exited 1", "the other image's error");
    assert.equal(loads(host), 0, "nothing was loaded");
    assert.deepEqual(tagsOn(deployer), [BUILT], "the temporary tag is gone");
  });

  test("a failed load of every layer is not tried again", async () => {
    const { deployer, image } = setUp();
    const host = new FakeDockerHost();
    host.loads = [{ outcome: "fail", tag: SERVER_TAG, layers: [] }];
    const r = await ship(host, deployer, image);
    assert.equal(r.error?.message, "docker load on the fake Docker host exited 1", "the load's failure");
    assert.equal(loads(host), 1, "one load");
    assert.deepEqual(tagsOn(deployer), [BUILT], "the deployer's temporary tag is removed even so");
  });

  test("a load that reports success but holds other layers is caught, and its tag removed", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: [diffIds[0]] }];
    const r = await ship(host, deployer, image);
    assert.equal(r.error?.message, `the image ${SERVER_TAG} on the fake Docker host has other layers than the one built (1 vs 2); the tag was removed`, "caught");
    assert.deepEqual(tagsOn(host), [], "the tag is gone");
  });

  test("a loaded image that does not start is caught, and its tag removed", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.brokenImages.add(SERVER_TAG);
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: diffIds }];
    const r = await ship(host, deployer, image);
    assert.equal(
      r.error?.message,
      `the image ${SERVER_TAG} on the fake Docker host does not start (docker run --rm exited 127): exec /bin/sh: no such file or directory; the tag was removed`,
      "caught, with the run's output",
    );
    assert.deepEqual(tagsOn(host), [], "the tag is gone");
  });

  test("a load that says it loaded but left no image under the tag is caught", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.loads = [{ outcome: "ok", tag: "pydeploy/demo:elsewhere", layers: diffIds }];
    const r = await ship(host, deployer, image);
    assert.equal(r.error?.message, `after shipping, the fake Docker host has no image ${SERVER_TAG}`, "caught");
  });

  test("a docker save that fails says why, from its stderr, and sends nothing", async () => {
    const { deployer, image } = setUp();
    deployer.saveFailure = { stderr: "Error response from daemon: write /tmp/save: no space left on device\n", wroteArchive: false };
    const host = new FakeDockerHost();
    const r = await ship(host, deployer, image);
    assert.equal(r.error?.message, `docker save ${SERVER_TAG} failed: Error response from daemon: write /tmp/save: no space left on device`, "the save's own words");
    assert.equal(loads(host), 0, "nothing was loaded");
    assert.deepEqual(tagsOn(deployer), [BUILT], "the deployer's temporary tag is removed");
  });

  test("a docker save that exits non-zero after a whole archive is not trusted", async () => {
    const { deployer, image } = setUp();
    deployer.saveFailure = { stderr: "Error: something went wrong at the end\n", wroteArchive: true };
    const host = new FakeDockerHost();
    const r = await ship(host, deployer, image);
    assert.equal(r.error?.message, `docker save ${SERVER_TAG} exited with an error: Error: something went wrong at the end`, "its exit status counts");
    assert.equal(loads(host), 0, "nothing was loaded");
  });

  test("a host that has the tag gets nothing, even when the local image is gone", async () => {
    const { deployer, image, diffIds } = setUp();
    const host = new FakeDockerHost();
    host.addImage({ tag: SERVER_TAG, app: "demo", layers: diffIds });
    const r = await ship(host, new FakeDeployer(), { ...image, identity: `sha256:${"9".repeat(64)}` });
    assert.deepEqual(r.result, { action: "present", serverTag: SERVER_TAG, bytesSent: 0 }, "present");
    assert.deepEqual(r.lines, [`image ${SERVER_TAG} is already on the fake Docker host`], "and says so");
    assert.deepEqual(deployer.history, [], "the deployer is not asked");
  });

  test("an image that is neither local nor on the host fails with what to do", async () => {
    const { image } = setUp();
    const r = await ship(new FakeDockerHost(), new FakeDeployer(), image);
    assert.equal(
      r.error?.message,
      `the image ${BUILT} (${image.identity}) is not in the local Docker engine, and the host does not have it either. ` +
        "Build it again: `pulumi up --replace <the image's URN>` (`pulumi stack --show-urns` lists it), or change the project so it rebuilds.",
      "what to do",
    );
  });
});

describe("shipImage, copy mode with the base from the host's registry mirror", { timeout: 30_000 }, () => {
  const BASE = "pydeploy/python-base:bookworm";
  const MIRROR = "https://abc123.mirror.aliyuncs.com/";
  const PULL_BY_TAG = ["timeout", "300", "docker", "pull", "--quiet", BASE];
  const pulls = (host: FakeDockerHost) => host.history.filter((a) => a[0] === "timeout");

  /** A deployer that built on BASE (optionally pulled as a digest), a host with a mirror and nothing else. */
  function mirrored(o: { baseDigest?: string } = {}) {
    const setup = setUp();
    setup.deployer.addImage({ tag: BASE, app: "base", labels: {}, layers: [setup.diffIds[0]], repoDigests: o.baseDigest ? [o.baseDigest] : [] });
    const host = new FakeDockerHost();
    host.registryMirrors = [MIRROR];
    host.loads = [{ outcome: "ok", tag: SERVER_TAG, layers: setup.diffIds }];
    return { ...setup, host, image: { ...setup.image, base: BASE } };
  }

  test("an empty host pulls the base through its mirror, and only the app's layer is sent", async () => {
    const { deployer, host, image, diffIds } = mirrored();
    host.mirrorImages.set(BASE, [diffIds[0]]);
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(pulls(host), [PULL_BY_TAG], "one pull of the base, by its tag (the deployer knows no digest of it)");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), [diffIds[1]], "the archive carries only the code layer");
    assert.equal(r.lines[0], `pulling the base ${BASE} on the fake Docker host through its registry mirror ${MIRROR}`, "says where the base comes from");
    assert.equal(r.lines[1], `${SERVER_TAG}: sending 1 of 2 layers (0.0 MB before compression); the host has the first 1`, "then sends one layer");
    assert.match(r.lines.at(-1)!, /; took \d+\.\d s: base from mirror \d+\.\d s, docker save \d+\.\d s, check layers \d+\.\d s, send and docker load/, "the pull is a phase of its own");
  });

  test("a base the deployer pulled by digest is pulled by that digest, so its layers are the same", async () => {
    const digest = `pydeploy/python-base@sha256:${"d".repeat(64)}`;
    const { deployer, host, image, diffIds } = mirrored({ baseDigest: digest });
    host.mirrorImages.set(digest, [diffIds[0]]);
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(pulls(host), [["timeout", "300", "docker", "pull", "--quiet", digest]], "pulled by digest");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), [diffIds[1]], "only the code layer");
  });

  test("a host with two mirrors says both; the base the deployer does not hold (BuildKit keeps it in its cache) is pulled by its tag", async () => {
    const { deployer, host, image, diffIds } = mirrored();
    deployer.images.clear();
    const built = deployer.addImage({ tag: BUILT, app: "demo", layers: diffIds });
    deployer.saves.set(built.id, syntheticSave({ tag: BUILT, layers: ["base\n", "code\n"] }).archive);
    host.registryMirrors = ["https://a.example.com/", "https://b.example.com/"];
    host.mirrorImages.set(BASE, [diffIds[0]]);
    const r = await ship(host, deployer, { ...image, identity: built.id });
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.equal(r.lines[0], `pulling the base ${BASE} on the fake Docker host through its registry mirrors https://a.example.com/, https://b.example.com/`, "both mirrors named");
    assert.deepEqual(pulls(host), [PULL_BY_TAG], "by tag");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), [diffIds[1]], "only the code layer");
  });

  test("of the base's digests, the Docker Hub one is pulled, not one from another registry", async () => {
    const hub = `pydeploy/python-base@sha256:${"d".repeat(64)}`;
    const other = `registry.example.com/pydeploy/python-base@sha256:${"f".repeat(64)}`;
    const { deployer, host, image, diffIds } = mirrored();
    [...deployer.images.values()].find((i) => i.tags.includes(BASE))!.repoDigests.push(other, hub);
    host.mirrorImages.set(hub, [diffIds[0]]);
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(pulls(host), [["timeout", "300", "docker", "pull", "--quiet", hub]], "the Docker Hub digest");
  });

  test("a mirror that does not have the base: every layer is sent, and the log says why", async () => {
    const { deployer, host, image, diffIds } = mirrored();
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(pulls(host), [PULL_BY_TAG], "it tried");
    assert.equal(r.lines[1], "the base did not come through the mirror (Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host); sending every layer");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), diffIds, "every layer");
  });

  test("a mirror that does not answer in time: every layer is sent", async () => {
    const { deployer, host, image, diffIds } = mirrored();
    host.mirrorHangs = true;
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.equal(r.lines[1], "the base did not come through the mirror (no answer within 300 s); sending every layer");
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), diffIds, "every layer");
  });

  test("a pull that succeeds but leaves no image under the name: every layer is sent", async () => {
    const { deployer, host, image, diffIds } = mirrored();
    host.mirrorImages.set(BASE, [diffIds[0]]);
    host.mirrorPullVanishes = true;
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), diffIds, "every layer");
  });

  test("a mirror whose base has other layers (a newer build of the tag): every layer is sent, and the log says so", async () => {
    const { deployer, host, image, diffIds } = mirrored();
    host.mirrorImages.set(BASE, [`sha256:${"e".repeat(64)}`]);
    const r = await ship(host, deployer, image);
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.equal(r.lines[1], `the mirror's ${BASE} is not the one this image was built on (other layers); sending every layer`);
    assert.deepEqual(await sentLayers(host.lastStream!, diffIds), diffIds, "every layer");
  });

  test("no pull: on a host without mirrors, on a host that has the base, for a base on another registry", async () => {
    const noMirror = mirrored();
    noMirror.host.registryMirrors = [];
    noMirror.host.mirrorImages.set(BASE, [noMirror.diffIds[0]]);
    const a = await ship(noMirror.host, noMirror.deployer, noMirror.image);
    assert.equal(a.error, undefined, `no error: ${a.error?.message}`);
    assert.deepEqual(pulls(noMirror.host), [], "no mirror: no pull");
    assert.deepEqual(await sentLayers(noMirror.host.lastStream!, noMirror.diffIds), noMirror.diffIds, "no mirror: every layer");

    const hasBase = mirrored();
    hasBase.host.addImage({ tag: "other/app:1", app: "other", layers: [hasBase.diffIds[0]] });
    hasBase.host.mirrorImages.set(BASE, [hasBase.diffIds[0]]);
    const b = await ship(hasBase.host, hasBase.deployer, hasBase.image);
    assert.equal(b.error, undefined, `no error: ${b.error?.message}`);
    assert.deepEqual(pulls(hasBase.host), [], "the base's layer is there: no pull");
    assert.equal(hasBase.host.history.some((a) => a.includes("{{json .RegistryConfig.Mirrors}}")), false, "nor a question about mirrors");

    const elsewhere = mirrored();
    const other = { ...elsewhere.image, base: "registry.example.com/python:3.12-slim" };
    elsewhere.host.mirrorImages.set(other.base, [elsewhere.diffIds[0]]);
    const c = await ship(elsewhere.host, elsewhere.deployer, other);
    assert.equal(c.error, undefined, `no error: ${c.error?.message}`);
    assert.deepEqual(pulls(elsewhere.host), [], "mirrors serve Docker Hub only: no pull");
  });
});

describe("shipImage on the local target", () => {
  test("the built image is tagged with its server tag on the same engine; nothing is sent", async () => {
    const { deployer, image } = setUp();
    const r = await ship(deployer, deployer, image, { ...SSH, target: { kind: "local" } });
    assert.deepEqual(r.result, { action: "tagged", serverTag: SERVER_TAG, bytesSent: 0 }, "tagged");
    assert.deepEqual(tagsOn(deployer), [BUILT, SERVER_TAG].sort(), "both tags name the image");
    assert.deepEqual(r.lines, [`tagged ${BUILT} (${image.identity}) as ${SERVER_TAG}`], "and says so");
  });

  test("a built image that is gone is the same clear error", async () => {
    const { image } = setUp();
    const local = new FakeDeployer();
    const r = await ship(local, local, image, { ...SSH, target: { kind: "local" } });
    assert.match(r.error?.message ?? "", /is not in the local Docker engine, and the host does not have it either/, `clear error: ${r.error?.message}`);
  });
});

describe("shipImage, registry mode", () => {
  const REGISTRY: ShipSpec = { ...SSH, registry: { server: "registry.example.com", username: "me" } };
  const PUSHED = "registry.example.com/me/demo@sha256:" + "c".repeat(64);

  test("pulls by digest with a throwaway login (password on stdin only), tags it, verifies it and logs out", async () => {
    const { deployer, diffIds } = setUp();
    deployer.addImage({ tag: PUSHED, app: "demo", layers: diffIds });
    const host = new FakeDockerHost();
    host.registry.set(PUSHED, diffIds);
    const image: ShipImage = { name: "registry.example.com/me/demo:latest", identity: PUSHED, serverTag: SERVER_TAG };
    const r = await ship(host, deployer, image, REGISTRY, { registryPassword: "s3cr3t" });
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.equal(r.result?.action, "pulled", "pulled");
    assert.equal(r.result?.bytesSent, "s3cr3t".length, "only the password went on stdin");
    assert.equal(host.logins.length, 1, "one login");
    assert.deepEqual(host.logins[0], { configDir: host.logins[0].configDir, server: "registry.example.com", username: "me", password: "s3cr3t" }, "the password arrived on stdin");
    assert.match(host.logins[0].configDir, /^\/tmp\/fake-docker-config-\d+$/, "into a throwaway client config");
    assert.ok(!host.history.some((a) => a.some((x) => x.includes("s3cr3t"))), "no command line holds the password");
    const dir = host.logins[0].configDir;
    assert.deepEqual(
      host.history.filter((a) => a[0] === "env" || a[0] === "rm").map((a) => a.join(" ")),
      [
        `env DOCKER_CONFIG=${dir} docker login --username me --password-stdin registry.example.com`,
        `env DOCKER_CONFIG=${dir} docker pull ${PUSHED}`,
        `env DOCKER_CONFIG=${dir} docker logout registry.example.com`,
        `rm -rf -- ${dir}`,
      ],
      "login, pull, then logout and the config goes",
    );
    assert.ok(tagsOn(host).includes(SERVER_TAG), "tagged with the server tag");
    assert.deepEqual(r.lines, [`pulling ${PUSHED}`, `verified ${SERVER_TAG}: 2 layers, it starts`], "what it did");
  });

  test("an image the deployer does not hold (pushed elsewhere) is verified by its start alone; bytes count from this ship on", async () => {
    const { diffIds } = setUp();
    const host = new FakeDockerHost();
    host.bytesSent = 1000;
    host.registry.set(PUSHED, diffIds);
    const r = await ship(host, new FakeDeployer(), { name: "x", identity: PUSHED, serverTag: SERVER_TAG }, REGISTRY, { registryPassword: "s3cr3t" });
    assert.equal(r.error, undefined, `no error: ${r.error?.message}`);
    assert.deepEqual(r.result, { action: "pulled", serverTag: SERVER_TAG, bytesSent: "s3cr3t".length }, "pulled; only the password was sent");
  });

  test("a failed pull still logs out and removes the client config", async () => {
    const { deployer } = setUp();
    const host = new FakeDockerHost();
    const image: ShipImage = { name: "x", identity: PUSHED, serverTag: SERVER_TAG };
    const r = await ship(host, deployer, image, REGISTRY, { registryPassword: "s3cr3t" });
    assert.match(r.error?.message ?? "", /manifest for .* not found/, `the pull's error: ${r.error?.message}`);
    assert.deepEqual(host.history.slice(-2).map((a) => (a[0] === "env" ? a[3] : a[0])), ["logout", "rm"], "logout and cleanup ran");
  });

  test("a pulled image with other layers than the one pushed is caught", async () => {
    const { deployer, diffIds } = setUp();
    deployer.addImage({ tag: PUSHED, app: "demo", layers: diffIds });
    const host = new FakeDockerHost();
    host.registry.set(PUSHED, [diffIds[0]]);
    const r = await ship(host, deployer, { name: "x", identity: PUSHED, serverTag: SERVER_TAG }, REGISTRY, { registryPassword: "s3cr3t" });
    assert.match(r.error?.message ?? "", /has other layers than the one built \(1 vs 2\)/, `caught: ${r.error?.message}`);
  });

  test("without the password on stdin it stops before touching the host", async () => {
    const { deployer, image } = setUp();
    const host = new FakeDockerHost();
    const r = await ship(host, deployer, image, REGISTRY, {});
    assert.equal(r.error?.message, "the registry password for registry.example.com was not given on stdin", "says what is missing");
    assert.deepEqual(host.history.map((a) => a.slice(0, 3).join(" ")), [`docker image inspect`], "only the look for the tag ran");
  });
});

describe("shipImages: the app's image and the proxy's, which shares its base", { timeout: 30_000 }, () => {
  const PROXY_BUILT = "pydeploy/demo-proxy:latest";
  const PROXY_TAG = "pydeploy/demo-proxy:abcdef012345";
  const BASE = "pydeploy/python-base:bookworm";

  /** Both images on the deployer; a host whose loads go as `outcomes` says, per image, and are recorded. */
  function setUpBoth(outcomes: { app: ("ok" | "fail")[]; proxy: ("ok" | "fail")[] }, o: { loadMs?: number } = {}) {
    const appSave = syntheticSave({ tag: BUILT, layers: ["base\n", "code\n"] });
    const proxySave = syntheticSave({ tag: PROXY_BUILT, layers: ["base\n", "caddy\n"] });
    assert.equal(appSave.diffIds[0], proxySave.diffIds[0], "the two images share their base layer");
    const deployer = new FakeDeployer();
    const app = deployer.addImage({ tag: BUILT, app: "demo", layers: appSave.diffIds });
    const proxy = deployer.addImage({ tag: PROXY_BUILT, app: "demo", layers: proxySave.diffIds });
    deployer.saves.set(app.id, appSave.archive);
    deployer.saves.set(proxy.id, proxySave.archive);
    const events: string[] = [];
    const spawn = deployer.spawn.bind(deployer);
    deployer.spawn = (argv) => (events.push(`save ${argv[2]}`), spawn(argv));
    const host = new FakeDockerHost();
    const archives = { app: [] as Buffer[], proxy: [] as Buffer[] };
    const run = host.run.bind(host);
    host.run = async (argv, opts) => {
      if (argv[1] !== "load" || !opts?.stdin || typeof opts.stdin === "string" || Buffer.isBuffer(opts.stdin)) return run(argv, opts);
      const chunks: Buffer[] = [];
      for await (const chunk of opts.stdin) chunks.push(chunk as Buffer);
      const archive = Buffer.concat(chunks);
      const which = (await sentLayers(archive, [proxySave.diffIds[1]])).length > 0 ? "proxy" : "app";
      archives[which].push(archive);
      events.push(`load ${which}`);
      if (o.loadMs) await new Promise((resolve) => setTimeout(resolve, o.loadMs));
      const outcome = outcomes[which].shift() ?? assert.fail(`an unexpected load of the ${which}'s image`);
      host.loads.unshift({ outcome, tag: which === "app" ? SERVER_TAG : PROXY_TAG, layers: which === "app" ? appSave.diffIds : proxySave.diffIds });
      const r = await run(argv, { ...opts, stdin: archive });
      events.push(`loaded ${which}`);
      return r;
    };
    const spec: ShipSpec = {
      ...SSH,
      image: { name: BUILT, identity: app.id, serverTag: SERVER_TAG },
      proxyImage: { name: PROXY_BUILT, identity: proxy.id, serverTag: PROXY_TAG },
    };
    return { deployer, host, spec, events, archives, appLayers: appSave.diffIds, proxyLayers: proxySave.diffIds };
  }

  test("one docker save at a time, the app's first; without a mirror the proxy's layers go after the app's load, without the base", async () => {
    const { deployer, host, spec, events, archives, appLayers, proxyLayers } = setUpBoth({ app: ["ok"], proxy: ["ok"] });
    const lines: string[] = [];
    const shipped = await shipImages(host, deployer as unknown as LocalHost, spec, {}, (l) => lines.push(l));
    assert.deepEqual(events.filter((e) => e.startsWith("save")), [`save ${SERVER_TAG}`, `save ${PROXY_TAG}`], "the app's image is saved first");
    assert.deepEqual(events.filter((e) => e.startsWith("load ")), ["load app", "load proxy"], "and loaded first");
    assert.ok(events.indexOf("loaded app") < events.indexOf("load proxy"), `the proxy's goes after the app's load: ${events.join(", ")}`);
    assert.deepEqual(await sentLayers(archives.app[0], appLayers), appLayers, "the app's archive carries the base and its code");
    assert.deepEqual(await sentLayers(archives.proxy[0], proxyLayers), [proxyLayers[1]], "the proxy's only its own layer");
    assert.equal(shipped.app.action, "copied", "the app's image was copied");
    assert.equal(shipped.proxy?.action, "copied", "so was the proxy's");
    assert.deepEqual([shipped.app.bytesSent, shipped.proxy!.bytesSent], [archives.app[0].length, archives.proxy[0].length], "each counts its own archive");
    assert.ok(lines.includes(`${PROXY_TAG}: sending 1 of 2 layers (0.0 MB before compression); the host has the first 1`), lines.join("\n"));
  });

  test("with the base from the host's mirror, the proxy's layers go as soon as the base is there, beside the app's", async () => {
    const { deployer, host, spec, events, archives, appLayers, proxyLayers } = setUpBoth({ app: ["ok"], proxy: ["ok"] }, { loadMs: 200 });
    deployer.addImage({ tag: BASE, app: "base", labels: {}, layers: [appLayers[0]] });
    host.registryMirrors = ["https://abc123.mirror.aliyuncs.com/"];
    host.mirrorImages.set(BASE, [appLayers[0]]);
    const withBase: ShipSpec = { ...spec, image: { ...spec.image, base: BASE }, proxyImage: { ...spec.proxyImage!, base: BASE } };
    const shipped = await shipImages(host, deployer as unknown as LocalHost, withBase, {}, () => undefined);
    assert.ok(events.indexOf("load proxy") < events.indexOf("loaded app"), `both loads at once: ${events.join(", ")}`);
    assert.deepEqual(await sentLayers(archives.app[0], appLayers), [appLayers[1]], "the app's archive carries only its code");
    assert.deepEqual(await sentLayers(archives.proxy[0], proxyLayers), [proxyLayers[1]], "the proxy's only its own layer");
    assert.deepEqual([shipped.app.bytesSent, shipped.proxy!.bytesSent], [archives.app[0].length, archives.proxy[0].length], "each counts its own archive, though they went at once");
    assert.equal(host.history.filter((a) => a[0] === "timeout").length, 1, "the base was pulled once");
  });

  test("an app image that fails to load stops the proxy's: the app's error, nothing of the proxy sent", async () => {
    const { deployer, host, spec, events } = setUpBoth({ app: ["fail"], proxy: [] });
    await assert.rejects(shipImages(host, deployer as unknown as LocalHost, spec, {}, () => undefined), { message: "docker load on the fake Docker host exited 1" }, "the app's error");
    assert.deepEqual(events.filter((e) => e.startsWith("load ")), ["load app"], "one load: the app's");
    assert.deepEqual(tagsOn(deployer), [BUILT, PROXY_BUILT].sort(), "both temporary tags are gone");
  });

  test("the proxy's image already on the host and the app's failing: the app's error alone", async () => {
    // The partial load (the host has the base) fails, then the load of every layer.
    const { deployer, host, spec, proxyLayers } = setUpBoth({ app: ["fail", "fail"], proxy: [] });
    host.addImage({ tag: PROXY_TAG, app: "demo", layers: proxyLayers });
    await assert.rejects(shipImages(host, deployer as unknown as LocalHost, spec, {}, () => undefined), { message: "docker load on the fake Docker host exited 1" }, "the app's error, and no unhandled rejection fails this process");
  });

  test("without a proxy image, only the app's", async () => {
    const { deployer, host, spec } = setUpBoth({ app: ["ok"], proxy: [] });
    const shipped = await shipImages(host, deployer as unknown as LocalHost, { ...spec, proxyImage: undefined }, {}, () => undefined);
    assert.deepEqual(Object.keys(shipped), ["app"], "no proxy result");
  });
});
