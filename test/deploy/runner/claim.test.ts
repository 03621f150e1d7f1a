// Whose app it is (components/deploy/runner/claim.ts): the host step's owner token, in the
// user's app folder and on the Docker daemon. A replaced host step's `remove` runs at the end of
// the up with the OLD spec: it must leave an app another host step has claimed since, even when
// that one runs as another user (whose app folder is in another home).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claimApp, removalScope } from "../../../components/deploy/runner/claim";
import { removeApp } from "../../../components/deploy/runner/remove";
import type { RemoveSpec } from "../../../components/deploy/spec";
import { FakeContainer, FakeDockerHost } from "../../support/docker/fakeDocker";

const MINE = "a".repeat(32);
const OTHER = "b".repeat(32);
const SPEC: RemoveSpec = { target: { kind: "ssh", host: "203.0.113.7", port: 22, user: "root" }, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 30, removeVolumes: false };

/** A running container of the app on the fake host. */
function appContainer(host: FakeDockerHost, name: string): void {
  const c: FakeContainer = {
    id: name, name, image: "pydeploy/demo:abababababab", labels: { "pydeploy.app": "demo", "pydeploy.role": "web" }, argv: [], status: "running",
    restartCount: 0, finishedAt: "0001-01-01T00:00:00Z", behaviour: { kind: "healthy" }, probes: 0, networks: new Map(),
  };
  host.containers.set(c.id, c);
}

describe("removalScope: what a host step's remove may take", () => {
  test("everything while the app is its own, or when it cannot tell", () => {
    assert.equal(removalScope({ folder: MINE, daemon: [MINE], volumes: [] }, MINE), "everything", "its folder and its daemon claim");
    assert.equal(removalScope({ folder: MINE, daemon: [], volumes: [] }, MINE), "everything", "no daemon claim (deployed before daemon claims)");
    assert.equal(removalScope({ folder: undefined, daemon: [MINE], volumes: [] }, MINE), "everything", "its folder is gone");
    assert.equal(removalScope({ folder: OTHER, daemon: [OTHER], volumes: [] }, undefined), "everything", "its host step printed no token");
  });
  test("only its folder when another user's host step claimed the app on the same daemon", () => {
    assert.equal(removalScope({ folder: MINE, daemon: [OTHER], volumes: [] }, MINE), "folder", "the user changed");
    assert.equal(removalScope({ folder: undefined, daemon: [OTHER], volumes: [] }, MINE), "folder", "and its folder is gone");
  });
  test("nothing when a newer host step claimed this very folder", () => {
    assert.equal(removalScope({ folder: OTHER, daemon: [OTHER], volumes: [] }, MINE), "nothing", "same user, newer claim");
    assert.equal(removalScope({ folder: OTHER, daemon: [], volumes: [] }, MINE), "nothing", "same user, before daemon claims");
  });
});

describe("claimApp and removeApp on a Docker host", () => {
  test("the first claim on a daemon removes no volume", async () => {
    const host = new FakeDockerHost();
    const owner = await claimApp(host, "demo", ".pydeploy/demo");
    assert.deepEqual([...host.volumes.keys()], [`demo.claim.${owner}`], "one claim");
    assert.ok(!host.history.some((a) => a[1] === "volume" && a[2] === "rm"), "no volume rm");
  });

  test("a claim writes the token to the folder and replaces the daemon's claim", async () => {
    const host = new FakeDockerHost();
    const first = await claimApp(host, "demo", ".pydeploy/demo");
    const second = await claimApp(host, "demo", ".pydeploy/demo");
    assert.match(second, /^[0-9a-f]{32}$/, "a fresh token");
    assert.notEqual(first, second, "each claim is new");
    assert.equal(host.files.get(".pydeploy/demo/owner"), `${second}\n`, "the folder holds the newest token");
    assert.deepEqual([...host.volumes.keys()], [`demo.claim.${second}`], "the daemon holds only the newest claim");
  });

  test("the old user's remove after another user claimed the app: only its folder goes, the containers stay", async () => {
    const host = new FakeDockerHost();
    appContainer(host, "demo-web-0123456789ab");
    host.files.set(".pydeploy/demo/owner", `${MINE}\n`);
    host.addVolume(`demo.claim.${OTHER}`, { "pydeploy.claim": "demo" });
    const lines: string[] = [];
    await removeApp(host, SPEC, { owner: MINE }, (l) => lines.push(l));
    assert.deepEqual(host.states(), { "demo-web-0123456789ab": "running" }, "the app keeps running");
    assert.deepEqual(host.history.filter((a) => a[0] !== "cat" && !(a[1] === "volume" && a[2] === "ls")), [["rm", "-rf", "--", ".pydeploy/demo"]], "it removed only its folder");
    assert.match(lines.join("\n"), /now belongs to another deployment \(a newer host step claimed it on this Docker daemon\): removed only \.pydeploy\/demo, the app keeps running/, "and says so");
  });

  test("its own claim: the containers and the claim go", async () => {
    const host = new FakeDockerHost();
    appContainer(host, "demo-web-0123456789ab");
    host.files.set(".pydeploy/demo/owner", `${MINE}\n`);
    host.addVolume(`demo.claim.${MINE}`, { "pydeploy.claim": "demo" });
    await removeApp(host, SPEC, { owner: MINE }, () => undefined);
    assert.deepEqual(host.states(), {}, "no container left");
    assert.ok(!host.volumes.has(`demo.claim.${MINE}`), "the claim is gone");
  });
});
