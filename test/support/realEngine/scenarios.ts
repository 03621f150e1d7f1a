// The scenarios every real-engine target runs, in order, each `pulumi` command starting from the
// state the one before left: the real CLI, engine, language host, state, secrets and config run
// index.ts; what the engine reports, what serves and what is left on the host are asserted.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { appValue, ExampleProject, removeAppImages, removeLocalImage, uniqueApp } from "../lifecycle/exampleProject";
import { docker, ensureBaseImage, httpGet, waitFor, waitForHttp200 } from "../docker/localEngine";
import { CliRun, CliStack, secretInOutput } from "./cliStack";

const execFileAsync = promisify(execFile);
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Where a scenario deploys: this machine's engine, or a server over SSH. */
export interface TargetUnderTest {
  /** The stack name; also the image tag. */
  stack: string;
  /** Starts what the target needs (a server); returns the base URL of the published port. */
  start(port: number): Promise<void>;
  stop(): Promise<void>;
  /** The plain config keys of the target (pydeploy:target, pydeploy:host). */
  config(): Record<string, unknown>;
  /** The target's secret config (the SSH key). */
  secrets(): Record<string, unknown>;
  /** Where the published port answers. */
  url(port: number, p: string): string;
  /** The engine docker.Image builds on is the host: its build results stay (the provider deletes no image). */
  buildsOnHost: boolean;
  /** A shell line on the Docker host, as root. */
  onHost(script: string): Promise<string>;
  /** A second host to move the app to (remote targets only). */
  moveToNewHost?(): Promise<{ config: Record<string, unknown>; old: (script: string) => Promise<string> }>;
  /** Runs a pasted `commands` line as the user would, with what a user has set up (key file, known host). */
  paste(line: string, o: { app: string; stack: string }): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function mustSucceed(r: CliRun, what: string): CliRun {
  if (!r.ok) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-6000)}`);
  return r;
}

/** The ops of the run, as a sorted set, equal to the expected ones. */
function assertOps(r: CliRun, expected: string[], what: string): void {
  assert.deepEqual([...r.ops].sort(), [...expected].sort(), `${what}: the engine reported ${JSON.stringify(r.ops)}`);
}

/**
 * The engine could run a and b at once: neither depends on the other in the state it wrote.
 * Whether they did overlap is timing (a build from a warm cache ends before the program has
 * registered b), so the timeline is not asserted: a run failed on it.
 */
function assertIndependent(r: CliRun, state: string, a: string, b: string): void {
  const resources = (JSON.parse(state) as { deployment: { resources: { urn: string; dependencies?: string[] }[] } }).deployment.resources;
  const urnOf = (name: string) => resources.find((x) => x.urn.endsWith(`::${name}`))?.urn;
  const deps = (name: string) => resources.find((x) => x.urn === urnOf(name))?.dependencies ?? [];
  assert.ok(urnOf(a) && urnOf(b), `${a} and ${b} are in the state`);
  assert.ok(!deps(b).includes(urnOf(a)!) && !deps(a).includes(urnOf(b)!), `${a} and ${b} do not depend on each other: ${JSON.stringify([deps(a), deps(b)])}`);
  const at = (event: string) => r.timeline.indexOf(event);
  assert.ok(at(`start:${a}`) >= 0 && at(`start:${b}`) >= 0, `both ran: ${JSON.stringify(r.timeline)}`);
}

function assertBefore(r: CliRun, a: string, b: string): void {
  const ia = r.ops.findIndex((o) => o.startsWith(`${a}:`));
  const ib = r.ops.findIndex((o) => o.startsWith(`${b}:`));
  assert.ok(ia >= 0 && ib >= 0 && ia < ib, `${a} finishes before ${b}: ${JSON.stringify(r.ops)}`);
}

/** Registers the scenarios as tests of the enclosing describe block. */
export function realEngineScenarios(target: TargetUnderTest): void {
  const APP = uniqueApp("re");
  const SECRET_1 = `tok-${randomBytes(6).toString("hex")}-it's "$HOME"`;
  const SECRET_2 = `tok-${randomBytes(6).toString("hex")}-rotated`;
  const r = (name: string) => `${APP}-${name}`;
  let port: number;
  let project: ExampleProject;
  let stack: CliStack;
  let secret = SECRET_1;
  const localTag = () => `pydeploy/${APP}:${target.stack}`;
  const url = (p = "/") => target.url(port, p);
  const containers = async (host: (s: string) => Promise<string> = (s) => target.onHost(s)): Promise<Record<string, string>> => {
    const out = await host(`docker ps -a --filter label=pydeploy.app=${APP} --format '{{.Names}} {{.State}}'`);
    return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => l.split(" ")));
  };
  const appConfig = () => ({
    ...target.config(),
    "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: port }),
    "pydeploy:deploy": { keepImages: 2, healthTimeoutSeconds: 30, stopGraceSeconds: 5 },
  });
  const secrets = () => ({ ...target.secrets(), "pydeploy:secretEnv": { DEMO_SECRET_TOKEN: secret } });

  before(async () => {
    ensureBaseImage();
    port = 20000 + Math.floor(Math.random() * 20000);
    project = new ExampleProject();
    await target.start(port);
    stack = await CliStack.create({ stack: target.stack, config: appConfig(), secrets: secrets() });
  });

  after(async () => {
    if (stack) {
      const left = await stack.destroy().catch(() => undefined);
      if (left && !left.ok) process.stderr.write(`cleanup destroy failed:\n${left.stdout.slice(-2000)}\n`);
      stack.cleanup();
    }
    await target.stop();
    project?.cleanup();
    await removeAppImages(APP);
  });

  const created = [r("image"), r("proxy-image"), r("host"), r("ship"), r("release")];

  test("the first preview plans every create and runs nothing", async () => {
    const run = mustSucceed(await stack.preview(), "first preview");
    assertOps(run, created.map((n) => `${n}:create`), "first preview");
    assert.equal((await docker(["image", "inspect", localTag()], { allowFailure: true })).code, 1, "no image was built");
    assert.deepEqual(await containers(), {}, "nothing runs on the host");
  });

  test("the first up creates everything in dependency order and serves with the secret", async () => {
    const run = mustSucceed(await stack.up(), "first up");
    assertOps(run, created.map((n) => `${n}:create`), "first up");
    for (const [a, b] of [["image", "ship"], ["proxy-image", "ship"], ["host", "ship"], ["ship", "release"]]) assertBefore(run, r(a), r(b));
    // Issue 17: the images build while the host step runs (no dependency between them).
    const state = await stack.exportState();
    for (const image of ["image", "proxy-image"]) assertIndependent(run, state, r(image), r("host"));
    const home = await httpGet(url("/"));
    assert.deepEqual([home.status, home.body], [200, `hello from ${APP} 1.0.0\n`], "the web answers");
    assert.equal(JSON.parse((await httpGet(url("/config"))).body).secret_token_sha256, sha256(SECRET_1), "the secret reached the app");
    assert.deepEqual(Object.values(await containers()).sort(), ["running", "running"], "web and worker run");
    const release = run.diagnostics.filter((d) => d.name === APP && d.severity === "info").map((d) => d.message).join("");
    assert.match(release, /release log \(its last run\):\n.*pydeploy: /s, `the release log is shown as a diagnostic after the run: ${JSON.stringify(run.diagnostics)}`);
    assert.ok(!state.includes(secret), "the secret is not in the state in plain text");
    assert.deepEqual(secretInOutput(run, secret).elsewhere, [], "nor in what the CLI printed (as written or JSON-escaped), but for the SDK's debug events");
  });

  test("a no-change preview and up report every resource the same, also after the local image is removed", async () => {
    const before = await containers();
    for (const round of ["with the image", "without the local image"]) {
      for (const run of [await stack.preview(), await stack.up()]) {
        mustSucceed(run, `no-change run ${round}`);
        assertOps(run, created.map((n) => `${n}:same`), `no-change ${round}`);
      }
      // On the local target the containers run that image: only the build's tag can go.
      if (round === "with the image") await (target.buildsOnHost ? docker(["image", "rm", localTag()]) : removeLocalImage(localTag()));
    }
    assert.deepEqual(await containers(), before, "the same containers run");
  });

  test("a code change updates image, ship and release in place and serves the new version", async () => {
    project.setVersion("2.0.0");
    const run = mustSucceed(await stack.up(), "code change");
    assertOps(run, [`${r("image")}:update`, `${r("proxy-image")}:same`, `${r("host")}:same`, `${r("ship")}:update`, `${r("release")}:update`], "code change");
    assert.match(await waitForHttp200(url("/")), /2\.0\.0/, "v2 serves");
  });

  test("a secret change updates the release only; a code change after it keeps the new secret", async () => {
    secret = SECRET_2;
    await stack.setConfig({}, { "pydeploy:secretEnv": { DEMO_SECRET_TOKEN: secret } });
    const rotated = mustSucceed(await stack.up(), "secret change");
    assertOps(rotated, [`${r("image")}:same`, `${r("proxy-image")}:same`, `${r("host")}:same`, `${r("ship")}:same`, `${r("release")}:update`], "secret change");
    assert.equal(JSON.parse((await httpGet(url("/config"))).body).secret_token_sha256, sha256(SECRET_2), "the new secret is live");
    project.setVersion("2.1.0");
    const code = mustSucceed(await stack.up(), "code change after the secret change");
    assertOps(code, [`${r("image")}:update`, `${r("proxy-image")}:same`, `${r("host")}:same`, `${r("ship")}:update`, `${r("release")}:update`], "code change");
    const config = JSON.parse((await httpGet(url("/config"))).body);
    assert.deepEqual([config.version, config.secret_token_sha256], ["2.1.0", sha256(SECRET_2)], "the new code runs with the new secret");
  });

  test("a failing release fails the up and keeps the old version serving; its fix deploys", async () => {
    project.setVersion("3.0.0");
    project.setHealthStatus(503);
    const failed = await stack.up();
    assert.equal(failed.ok, false, "the up fails");
    assert.match(`${failed.stdout}${failed.stderr}`, /health/i, "the error says the health gate failed");
    assert.match((await httpGet(url("/"))).body, /2\.1\.0/, "the old version still serves");
    project.setHealthStatus(200);
    const fixed = mustSucceed(await stack.up(), "the fix");
    assert.ok(fixed.ops.includes(`${r("release")}:update`), `the release runs again: ${fixed.ops}`);
    assert.match(await waitForHttp200(url("/")), /3\.0\.0/, "the fixed version serves");
  });

  if (target.moveToNewHost) {
    test("a new host address replaces the host step: the app moves and the old host is emptied", async () => {
      const moved = await target.moveToNewHost!();
      await stack.setConfig(moved.config);
      const run = mustSucceed(await stack.up(), "new host");
      assert.ok(run.ops.includes(`${r("host")}:create-replacement`) && run.ops.includes(`${r("host")}:delete-replaced`), `the host step is replaced: ${run.ops}`);
      assert.ok(run.ops.includes(`${r("ship")}:update`) && run.ops.includes(`${r("release")}:update`), `ship and release run on the new host: ${run.ops}`);
      assert.match(await waitForHttp200(url("/")), /3\.0\.0/, "the app serves from the new host");
      assert.deepEqual(await containers(moved.old), {}, "nothing of the app is left on the old host");
    });
  }

  test("pulumi refresh changes nothing", async () => {
    const run = mustSucceed(await stack.refresh(), "refresh");
    assert.ok(run.ops.every((o) => /:(same|refresh)$/.test(o)), `refresh reports no change: ${run.ops}`);
    const after = mustSucceed(await stack.preview(), "preview after refresh");
    assertOps(after, created.map((n) => `${n}:same`), "preview after refresh");
  });

  test("`pulumi stack output commands` gives commands that work when pasted", async () => {
    const commands = (await stack.outputs()).commands as { ps: string; logs: Record<string, string>; ports: string; shell: string };
    const ps = await target.paste(commands.ps, { app: APP, stack: target.stack });
    assert.equal(ps.code, 0, `ps runs: ${ps.stderr}`);
    assert.match(ps.stdout, new RegExp(`${APP}-web-`), "ps lists the app's containers");
    const ports = await target.paste(commands.ports, { app: APP, stack: target.stack });
    assert.match(ports.stdout, /:8000|:1F40 /i, `ports shows the web's port: ${ports.stdout} ${ports.stderr}`);
    const logs = await target.paste(`timeout 5 ${commands.logs.web.replace(" -f ", " ")}`, { app: APP, stack: target.stack });
    assert.match(`${logs.stdout}${logs.stderr}`, /web: .*GET/, "logs show the web's requests");
  });

  test("destroy deletes every resource and leaves nothing of the app running on the host", async () => {
    const run = mustSucceed(await stack.destroy(), "destroy");
    assertOps(run, created.map((n) => `${n}:delete`), "destroy");
    assert.deepEqual(await containers(), {}, "no container of the app is left");
    const images = (await target.onHost(`docker image ls --filter label=pydeploy.app=${APP} --format '{{.Repository}}:{{.Tag}}'`)).split("\n").filter(Boolean);
    const builds = [`pydeploy/${APP}:${target.stack}`, `pydeploy/${APP}-proxy:${target.stack}`];
    assert.deepEqual(images.filter((i) => !(target.buildsOnHost && builds.includes(i))), [], "no image of the app is left on the host but docker.Image's own builds");
  });
}

/** A line of `commands` pasted into a shell on this machine (HOME set up as the user's). */
export async function pasteLocally(line: string, home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileAsync("sh", ["-c", line], { env: { ...process.env, HOME: home }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err: any) {
    return { code: err.code ?? 1, stdout: err.stdout ?? "", stderr: err.stderr ?? String(err) };
  }
}

/** A HOME folder with the deploy key where `commands` says it is, and the server's host key known. */
export function userHome(o: { app: string; stack: string; privateKey: string; knownHosts?: string }): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-user-home-"));
  fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
  fs.writeFileSync(path.join(home, ".ssh", `pydeploy-${o.app}-${o.stack}`), o.privateKey, { mode: 0o600 });
  if (o.knownHosts) fs.writeFileSync(path.join(home, ".ssh", "known_hosts"), o.knownHosts);
  return home;
}

export { waitFor };
