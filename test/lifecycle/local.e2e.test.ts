// The README's main job, the `local` target, through the engine harness with this machine's
// Docker engine (S12 of issue 7, and issue 8's local-target points): first up, code change,
// no-change up, a failed health gate that fails every up until fixed, destroy.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { docker, ensureBaseImage, waitForHttp200 } from "../support/docker/localEngine";
import { appValue, assertSteps, ExampleProject, mustSucceed, ops, programStack, ran, removeAppImages, stepOutput, uniqueApp, WEB_ROLE, WORKER_ROLE } from "../support/lifecycle/exampleProject";

const APP = uniqueApp("loc");
const PORT = randomInt(20_000, 30_000);
let project: ExampleProject;
let stateDir: string;
let appDir: string;

const stack = (extra?: Record<string, unknown>) =>
  programStack({
    stateDir,
    stack: "local",
    config: {
      "pydeploy:target": "local",
      "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT, extra }),
      // The app's folder (env file, salt) in a temp dir instead of ~/.pydeploy.
      "pydeploy:deploy": { remoteDir: appDir, healthTimeoutSeconds: 20, stopGraceSeconds: 7 },
    },
  });

async function containers(): Promise<Record<string, string>> {
  const out = (await docker(["ps", "-a", "--filter", `label=pydeploy.app=${APP}`, "--format", "{{.Names}} {{.State}}"])).stdout.trim();
  return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => l.split(" ")));
}
const url = `http://127.0.0.1:${PORT}/`;
const stepOutputOf = (r: Parameters<typeof stepOutput>[0]) => stepOutput(r, `${APP}-host`);

describe("lifecycle, target local (this machine's Docker engine)", { timeout: 20 * 60_000 }, () => {
  before(() => {
    ensureBaseImage();
    project = new ExampleProject();
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-lifecycle-local-"));
    appDir = path.join(stateDir, "apps");
  });

  after(async () => {
    const ids = (await docker(["ps", "-aq", "--filter", `label=pydeploy.app=${APP}`])).stdout.split("\n").filter(Boolean);
    if (ids.length) await docker(["rm", "--force", ...ids], { allowFailure: true });
    await removeAppImages(APP);
    project?.cleanup();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test("the first up serves; containers stop gracefully", async () => {
    const r = mustSucceed(await stack().up(), "first up");
    assertSteps(r, [`${APP}-image:create`, `${APP}-proxy-image:create`, `${APP}-host:create`, `${APP}-ship:create`, `${APP}-release:create`], [[`${APP}-image`, `${APP}-ship`], [`${APP}-proxy-image`, `${APP}-ship`], [`${APP}-host`, `${APP}-ship`], [`${APP}-ship`, `${APP}-release`]], "created after what they need");
    assert.match(await waitForHttp200(url), new RegExp(`hello from ${APP} 1\\.0\\.0`), "the app serves");
    const web = Object.keys(await containers()).find((n) => n.includes("-web-"))!;
    assert.equal((await docker(["inspect", "--format", "{{.Config.StopTimeout}}", web])).stdout.trim(), "7", "docker stop waits deploy.stopGraceSeconds");
  });

  test("a code change serves the new version and keeps the previous containers stopped; a no-change up does nothing", async () => {
    const v1 = await containers();
    project.setVersion("2.0.0");
    mustSucceed(await stack().up(), "code change");
    assert.match(await waitForHttp200(url), /2\.0\.0/, "v2 serves");
    const now = await containers();
    for (const name of Object.keys(v1)) assert.equal(now[name], "exited", `${name} kept for rollback`);
    const same = mustSucceed(await stack().up(), "no-change up");
    assert.deepEqual(ran(same), [], "nothing ran");
    assert.deepEqual(await containers(), now, "nothing changed");
  });

  test("a stack whose steps an earlier pydeploy stored (main.ts under tsx) updates each step once to the launcher, and restarts nothing", async () => {
    const file = path.join(stateDir, "local.json");
    const state = fs.readFileSync(file, "utf8");
    const earlier = state.replaceAll("node components/deploy/runner/launch.cjs", "node --import tsx components/deploy/runner/main.ts");
    assert.notEqual(earlier, state, "the state holds the steps' commands");
    fs.writeFileSync(file, earlier, { mode: 0o600 });
    const before = await containers();
    const r = mustSucceed(await stack().up(), "up after the upgrade");
    assert.deepEqual(ops(r).filter((o) => !o.endsWith(":same")).sort(), [`${APP}-host:update`, `${APP}-release:update`, `${APP}-ship:update`], "the three steps update");
    assert.match(stepOutput(r, `${APP}-ship`), /image \S+ is already on /, "the ship finds the image there");
    assert.match(stepOutput(r, `${APP}-release`), /web: \S+ already runs/, "the release starts nothing");
    assert.deepEqual(await containers(), before, "no container changed");
    assert.doesNotMatch(fs.readFileSync(file, "utf8"), /--import tsx/, "the state now holds the launcher's commands");
    assert.match(await waitForHttp200(url), /2\.0\.0/, "v2 still serves");
  });

  test("a change to the worker's settings alone restarts the worker only: the web's container runs on", async () => {
    const before = await containers();
    const web = Object.keys(before).find((n) => n.includes("-web-") && before[n] === "running")!;
    const startedAt = async (name: string) => (await docker(["inspect", "--format", "{{.State.StartedAt}}", name])).stdout.trim();
    const webStarted = await startedAt(web);
    const r = mustSucceed(await stack({ roles: { web: { ...WEB_ROLE, publish: PORT }, worker: { command: ["python", "-u", "-m", "demo.worker"] } } }).up(), "worker change");
    assert.deepEqual(ran(r), [`${APP}-release`], "only the release step runs");
    assert.match(stepOutput(r, `${APP}-release`), new RegExp(`role web: ${web} keeps running: its image, env and settings did not change`), "the release says it keeps the web");
    const now = await containers();
    assert.equal(now[web], "running", "the same web container runs");
    assert.equal(await startedAt(web), webStarted, "it was not restarted");
    const worker = Object.keys(now).filter((n) => n.includes("-worker-") && now[n] === "running");
    assert.equal(worker.length, 1, `one worker runs: ${JSON.stringify(now)}`);
    assert.equal(before[worker[0]], undefined, "a new worker container");
    assert.deepEqual((await docker(["inspect", "--format", "{{json .Config.Cmd}}", worker[0]])).stdout.trim(), JSON.stringify(["python", "-u", "-m", "demo.worker"]), "it runs the new command");
    assert.match(await waitForHttp200(url), /2\.0\.0/, "v2 still serves");
    mustSucceed(await stack({ roles: { web: { ...WEB_ROLE, publish: PORT }, worker: WORKER_ROLE } }).up(), "worker change back");
  });

  test("a failed health gate fails this up and the next one, and v2 keeps serving, until the code is fixed", async () => {
    project.setVersion("3.0.0-broken");
    project.setHealthStatus(503);
    for (const attempt of ["first", "second"]) {
      const r = await stack().up();
      assert.equal(r.ok, false, `the ${attempt} up fails`);
      assert.match(r.error ?? "", /role web did not become healthy/, `the ${attempt} error names the gate`);
      assert.match(await waitForHttp200(url), /2\.0\.0/, `v2 serves after the ${attempt} failure`);
    }
    project.setVersion("4.0.0");
    project.setHealthStatus(200);
    mustSucceed(await stack().up(), "fixed up");
    assert.match(await waitForHttp200(url), /4\.0\.0/, "v4 serves");
  });

  test("destroy removes the containers", async () => {
    const r = mustSucceed(await stack().destroy(), "destroy");
    assertSteps(r, [`${APP}-release:delete`, `${APP}-ship:delete`, `${APP}-host:delete`, `${APP}-image:delete`, `${APP}-proxy-image:delete`], [[`${APP}-release`, `${APP}-ship`], [`${APP}-ship`, `${APP}-host`], [`${APP}-ship`, `${APP}-image`]], "reverse dependency order");
    assert.deepEqual(await containers(), {}, "no container of the app");
    assert.equal(fs.existsSync(path.join(appDir, APP)), false, "no app folder");
    assert.notEqual((await docker(["container", "inspect", `${APP}-proxy`], { allowFailure: true })).code, 0, "no proxy container");
    assert.notEqual((await docker(["network", "inspect", `${APP}-proxy`], { allowFailure: true })).code, 0, "no proxy network");
    assert.notEqual((await docker(["volume", "inspect", `${APP}-proxy-data`], { allowFailure: true })).code, 0, "no proxy volume: without a domain it holds no certificate");
    assert.match(stepOutputOf(r), new RegExp(`removing volume ${APP}-proxy-data: it holds no certificate`), "and destroy says why");
  });
});
