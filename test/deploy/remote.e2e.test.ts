// End to end: the exact command strings of remotePlan() (the component's plan), run over real SSH (ssh2, like
// @pulumi/command) against a Docker-in-Docker test server, in plan order; destroy runs the
// delete commands in reverse. The tests share one server and run in order: each starts from
// the state the previous one left, like successive `pulumi up`s.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { AppConfig, DeployConfig } from "../../components/config/schema";
import { appLayout, PlannedStep, prepareHost, waitForServer } from "../../components/deploy/commands";
import { containerName, ReleaseSpec, renderEnvFile } from "../../components/deploy/containerSpec";
import { ensureImageArchive } from "../../components/deploy/imageArchive";
import { operatorCommands } from "../../components/deploy/operatorCommands";
import { envFingerprint, remotePlan, RemotePlanInput } from "../../components/deploy/remotePlan";
import { roleSpecs } from "../../components/deploy/roles";
import { dockerInstallScript } from "../../components/server/dockerInstall";
import { docker, ensureBaseImage, httpGet, run, RunResult, uniqueName, waitFor, waitForHttp200 } from "../support/docker";
import { BuiltImage, buildExampleImage } from "../support/images";
import { serverExec, sftpUpload, SshConnection, sshExec, startTestServer, stopTestServer, TestServer } from "../support/sshServer";
import { exampleStack, StackOverrides } from "../support/stack";

const APP = "demo";
const WEB_PORT = 8080;
// Awkward on purpose: quotes, $, a backslash, a trailing space; the env file carries it verbatim.
const SECRET = `tok-${randomBytes(6).toString("hex")}-it's "$HOME" \\n `;
const REGISTRY_USER = "deployer";
const REGISTRY_PASSWORD = `pw-${randomBytes(9).toString("hex")}`;
const REGISTRY = "127.0.0.1:5000";
const INSTALL_SNIPPET = dockerInstallScript({ mirror: "https://mirrors.aliyun.com/docker-ce", registryMirrors: [] });
// Stands in for the SSH private key the component keys the env fingerprint with.
const FINGERPRINT_KEY = randomBytes(32).toString("hex");

const localRepo = `${uniqueName("pydeploy-e2e")}/${APP}`;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-archives-"));
const images: Record<"v1" | "v2" | "broken", BuiltImage> = {} as never;
let server: TestServer;
let root: SshConnection;
/** Every plan the tests ran, for the secret check. */
const plansRun: PlannedStep[][] = [];
/** The last plan applied for APP: what `pulumi destroy` would delete. */
let lastApplied: PlannedStep[] | undefined;

/** The example's stack as the E2E deploys it: through the real schema, then the real plan. */
const WEB_ROLE = {
  command: ["python", "-m", "demo.web"],
  port: 8000,
  publish: WEB_PORT,
  healthcheck: { path: "/health", intervalSeconds: 5, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 2 },
};
const WORKER_ROLE = { command: ["python", "-m", "demo.worker"] };
function stack(o: StackOverrides = {}) {
  return exampleStack({
    app: { env: { APP_NAME: APP, WORKER_INTERVAL: "1" }, roles: { web: WEB_ROLE, worker: WORKER_ROLE }, ...o.app },
    deploy: { logMaxSize: "5m", logMaxFiles: 2, keepImages: 2, ...o.deploy },
    secretEnv: { DEMO_SECRET_TOKEN: SECRET },
  });
}
const appConfig = (o: StackOverrides = {}): AppConfig => stack(o).app;
const deployConfig = (o: StackOverrides = {}): DeployConfig => stack(o).deploy;

function envFile(): string {
  return renderEnvFile(stack().secrets.env);
}

function planFor(img: BuiltImage, o: StackOverrides = {}, extra: Partial<RemotePlanInput> = {}) {
  return remotePlan({
    app: appConfig(o),
    deploy: deployConfig(o),
    imageName: img.image,
    repoDigest: img.imageId,
    dockerInstallScript: INSTALL_SNIPPET,
    envFingerprint: envFingerprint(envFile(), FINGERPRINT_KEY),
    ...extra,
  });
}
function releaseFor(img: BuiltImage, o: StackOverrides = {}): ReleaseSpec {
  return planFor(img, o).release;
}
function copyPlan(img: BuiltImage, o: StackOverrides = {}): PlannedStep[] {
  return planFor(img, o).steps;
}

interface PlanRun {
  outputs: Partial<Record<PlannedStep["name"], RunResult>>;
  uploaded: boolean;
  failed?: { name: string; result: RunResult };
}

/** Runs the plan's create commands in order as the component would; stops at the first failure. */
async function runPlan(plan: PlannedStep[], o: { local?: BuiltImage; conn?: SshConnection } = {}): Promise<PlanRun> {
  plansRun.push(plan);
  const conn = o.conn ?? root;
  const run: PlanRun = { outputs: {}, uploaded: false };
  for (const planned of plan) {
    if (planned.name === "upload") {
      // CopyToRemote of the archive, skipped when the server has the image.
      if (run.outputs.probe?.stdout === "missing") {
        assert.ok(o.local, "a copy plan needs the local image");
        const archive = ensureImageArchive({ image: o.local.image, imageId: o.local.imageId, cacheDir });
        await sftpUpload(conn, archive, planned.upload.remotePath);
        run.uploaded = true;
      }
      continue;
    }
    const { step } = planned;
    const stdin = step.stdin === "envFile" ? envFile() : step.stdin === "registryPassword" ? REGISTRY_PASSWORD : undefined;
    const result = await sshExec(conn, step.create, { stdin, timeoutMs: 5 * 60_000 });
    run.outputs[planned.name] = result;
    if (process.env.PYDEPLOY_E2E_VERBOSE) console.log(`--- ${planned.name} (exit ${result.code})\n${result.stdout}${result.stderr}`);
    if (result.code !== 0) {
      run.failed = { name: planned.name, result };
      return run;
    }
  }
  return run;
}

function assertOk(run: PlanRun): void {
  if (run.failed) {
    assert.fail(`step ${run.failed.name} exited ${run.failed.result.code}\n${run.failed.result.stdout}\n${run.failed.result.stderr}`);
  }
}

/** `pulumi destroy`: the delete commands in reverse plan order. */
async function destroy(plan: PlannedStep[], conn: SshConnection = root): Promise<void> {
  for (const planned of [...plan].reverse()) {
    if (planned.name === "upload" || !planned.step.delete) continue;
    const r = await sshExec(conn, planned.step.delete);
    assert.equal(r.code, 0, `delete of ${planned.name} failed:\n${r.stdout}\n${r.stderr}`);
  }
}

/** A shell command over SSH as root that must succeed; returns stdout. */
async function onServer(command: string): Promise<string> {
  const r = await sshExec(root, command);
  assert.equal(r.code, 0, `${command}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function inspect(name: string): Promise<any> {
  return JSON.parse(await onServer(`docker inspect ${name}`))[0];
}

/** name -> {id, status} of every container on the server. */
async function containers(): Promise<Map<string, { id: string; state: string; startedAt: string; restarts: number }>> {
  const ids = (await onServer("docker ps --all --quiet --no-trunc")).split("\n").filter(Boolean);
  const map = new Map();
  if (ids.length === 0) return map;
  const all = JSON.parse(await onServer(`docker inspect ${ids.join(" ")}`)) as any[];
  for (const c of all) {
    map.set(c.Name.replace(/^\//, ""), { id: c.Id, state: c.State.Status, startedAt: c.State.StartedAt, restarts: c.RestartCount });
  }
  return map;
}

const url = (p = "/", port = WEB_PORT) => `http://${server.host}:${port}${p}`;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const sha256File = (f: string) => createHash("sha256").update(fs.readFileSync(f)).digest("hex");

describe("remote deployment over SSH (Docker-in-Docker server)", { timeout: 30 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    const [srv, v1, v2, broken] = await Promise.all([
      startTestServer(),
      buildExampleImage({ tag: `${localRepo}:v1`, app: appConfig() }),
      buildExampleImage({ tag: `${localRepo}:v2`, app: appConfig(), version: "2.0.0" }),
      buildExampleImage({ tag: `${localRepo}:broken`, app: appConfig(), version: "3.0.0-broken", healthStatus: 503 }),
    ]);
    server = srv;
    root = server.as("root");
    Object.assign(images, { v1, v2, broken });
  });

  after(async () => {
    if (server) await stopTestServer(server);
    for (const tag of ["v1", "v2", "broken"]) await docker(["image", "rm", `${localRepo}:${tag}`], { allowFailure: true });
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  test("wait step: accepts cloud-init done or degraded (exit 2), fails on error", async () => {
    const wait = waitForServer().create;
    const done = await sshExec(root, wait);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /status: done/);
    assert.match(done.stdout, /server ready: Linux .*, user root/);
    await serverExec(server, ["sh", "-c", "echo '2 degraded done' >/etc/fake-cloud-init-status"]);
    const degraded = await sshExec(root, wait);
    assert.equal(degraded.code, 0, degraded.stderr);
    assert.match(degraded.stdout, /recoverable errors/);
    await serverExec(server, ["sh", "-c", "echo '1 error' >/etc/fake-cloud-init-status"]);
    const failed = await sshExec(root, wait);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /cloud-init failed \(exit 1\)/);
    await serverExec(server, ["rm", "-f", "/etc/fake-cloud-init-status"]);
  });

  test("first deploy (copy): the web answers from outside the server and received the secret", async () => {
    const plan = copyPlan(images.v1);
    const run = await runPlan(plan, { local: images.v1 });
    assertOk(run);
    lastApplied = plan;
    assert.equal(run.outputs.probe?.stdout, "missing");
    assert.ok(run.uploaded);
    assert.match(run.outputs.host!.stdout, /docker is already installed/); // the real install snippet ran
    assert.match(run.outputs.release!.stdout, /release \w+ of demo is live/);
    // The archive is gone once loaded.
    assert.equal(await onServer(`ls -A .pydeploy/${APP}/incoming`), "");

    const home = await httpGet(url("/"));
    assert.equal(home.status, 200);
    assert.match(home.body, /hello from demo 1\.0\.0/);
    const config = JSON.parse((await httpGet(url("/config"))).body);
    assert.equal(config.secret_token_sha256, sha256(SECRET));
    assert.equal(config.version, "1.0.0");
  });

  test("the worker role runs and its heartbeat advances", async () => {
    const release = releaseFor(images.v1);
    const worker = containerName(APP, "worker", release.version);
    const tick = async () => Number((await onServer(`docker exec ${worker} cat /tmp/worker-heartbeat`)).split(" ")[0]);
    const first = await tick();
    await waitFor("a later heartbeat", async () => ((await tick()) > first ? true : undefined), { timeoutMs: 15_000, intervalMs: 500 });
    assert.match(await onServer(`docker logs ${worker} 2>&1`), /worker: tick \d+/);
  });

  test("the ready-made operator commands (docker ps, logs, ports) work through the OpenSSH client", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-ssh-"));
    try {
      const keyFile = path.join(dir, "key");
      fs.writeFileSync(keyFile, server.privateKey, { mode: 0o600 });
      // A test seam for host-key checking only: the generated command line runs as it is.
      fs.writeFileSync(path.join(dir, "ssh"), '#!/bin/sh\nexec /usr/bin/ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes "$@"\n', { mode: 0o755 });
      const commands = operatorCommands({ app: APP, roles: roleSpecs(appConfig()), hasLsof: true, ssh: { user: "root", host: server.host, port: 22, keyFile } });
      const sh = (cmd: string, timeoutMs = 30_000) => run("bash", ["-c", cmd], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, timeoutMs, allowFailure: true });
      const release = releaseFor(images.v1);

      const ps = await sh(commands.ps);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, new RegExp(containerName(APP, "web", release.version)));
      assert.match(ps.stdout, new RegExp(containerName(APP, "worker", release.version)));

      const ports = await sh(commands.ports);
      assert.equal(ports.code, 0, ports.stderr);
      assert.match(ports.stdout, /python.*TCP \*:8000 \(LISTEN\)/, "the post's `lsof -i:port`, inside the web container");

      // `docker logs -f` follows forever: stop it after a few seconds.
      const logs = await sh(`timeout 4 ${commands.logs.worker}`);
      assert.match(logs.stdout + logs.stderr, /worker: tick \d+/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("env file is 0600 and owned by the SSH user; containers have the restart policy, log options and labels", async () => {
    const release = releaseFor(images.v1);
    assert.equal((await onServer(`stat -c '%a %U' ${release.envFile}`)).trim(), "600 root");
    assert.equal((await onServer(`stat -c '%a' .pydeploy/${APP} .pydeploy/${APP}/incoming`)).trim(), "700\n700");
    for (const role of ["web", "worker"]) {
      const c = await inspect(containerName(APP, role, release.version));
      assert.equal(c.State.Running, true);
      assert.equal(c.HostConfig.RestartPolicy.Name, "unless-stopped");
      assert.equal(c.HostConfig.Init, true);
      assert.deepEqual(c.HostConfig.LogConfig.Config, { "max-size": "5m", "max-file": "2" });
      assert.equal(c.Config.Labels["pydeploy.app"], APP);
      assert.equal(c.Config.Labels["pydeploy.role"], role);
      assert.equal(c.Config.Labels["pydeploy.version"], release.version);
      assert.equal(c.Config.Labels["pydeploy.image"], images.v1.imageId);
      assert.equal(c.Image, images.v1.imageId);
      if (role === "web") {
        assert.equal(c.Config.Healthcheck.Test[0], "CMD-SHELL");
        assert.deepEqual(c.HostConfig.PortBindings["8000/tcp"], [{ HostIp: "", HostPort: String(WEB_PORT) }]);
      } else {
        assert.deepEqual(c.Config.Healthcheck.Test, ["NONE"]);
      }
    }
    // The docker healthcheck (exec argv turned into a shell command) works too.
    const web = containerName(APP, "web", release.version);
    await waitFor("web healthy", async () => ((await inspect(web)).State.Health.Status === "healthy" ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
  });

  test("running the same plan again changes nothing: the probe finds the image, no upload, same containers", async () => {
    const before = await containers();
    const run = await runPlan(copyPlan(images.v1), { local: images.v1 });
    assertOk(run);
    assert.equal(run.outputs.probe?.stdout, "present");
    assert.equal(run.uploaded, false);
    assert.match(run.outputs.release!.stdout, /already runs/);
    assert.deepEqual(await containers(), before);
  });

  test("a redeploy of a changed app serves the new version and keeps the previous container stopped", async () => {
    const previous = releaseFor(images.v1);
    const plan = copyPlan(images.v2);
    const run = await runPlan(plan, { local: images.v2 });
    assertOk(run);
    lastApplied = plan;
    assert.equal(run.outputs.probe?.stdout, "missing");
    assert.ok(run.uploaded);
    assert.match((await waitForHttp200(url("/"))), /hello from demo 2\.0\.0/);
    const all = await containers();
    const next = releaseFor(images.v2);
    for (const role of ["web", "worker"]) {
      assert.equal(all.get(containerName(APP, role, next.version))?.state, "running");
      assert.equal(all.get(containerName(APP, role, previous.version))?.state, "exited", `${role} v1 kept for rollback`);
    }
  });

  test("a release that fails its health gate fails clearly, shows the new container's logs, and the old version still serves", async () => {
    const current = releaseFor(images.v2);
    const before = await containers();
    const broken = releaseFor(images.broken, { deploy: { healthTimeoutSeconds: 8 } });
    const run = await runPlan(copyPlan(images.broken, { deploy: { healthTimeoutSeconds: 8 } }), { local: images.broken });
    assert.equal(run.failed?.name, "release");
    const out = run.failed!.result.stdout + run.failed!.result.stderr;
    assert.match(out, /role web did not become healthy: timed out, last answer: HTTP\/1\.0 503 Service Unavailable \(gate GET :8080\/health, timeout 8s\)/);
    assert.match(out, /web: demo 3\.0\.0-broken listening on :8000/); // the new container's own log
    assert.match(out, /"GET \/health HTTP\/1\.0" 503/);
    assert.match(out, /the previous version runs again/);

    const home = await waitForHttp200(url("/"));
    assert.match(home, /hello from demo 2\.0\.0/);
    const after = await containers();
    assert.ok(![...after.keys()].some((n) => n.endsWith(broken.version)), "the failed release's containers are removed");
    for (const role of ["web", "worker"]) {
      const name = containerName(APP, role, current.version);
      assert.equal(after.get(name)?.state, "running");
      // The worker was never touched (the web gate failed first); the web is the same container.
      assert.equal(after.get(name)?.id, before.get(name)?.id);
    }
  });

  test("deploying the previous release again starts its kept container; unused images beyond keepImages are pruned", async () => {
    const plan = copyPlan(images.v1);
    const run = await runPlan(plan, { local: images.v1 });
    assertOk(run);
    lastApplied = plan;
    assert.equal(run.outputs.probe?.stdout, "present");
    assert.match(run.outputs.release!.stdout, /starting the existing container demo-web-\w+ again/);
    assert.match(await waitForHttp200(url("/")), /hello from demo 1\.0\.0/);
    const all = await containers();
    const v1 = releaseFor(images.v1);
    const v2 = releaseFor(images.v2);
    for (const role of ["web", "worker"]) {
      assert.equal(all.get(containerName(APP, role, v1.version))?.state, "running");
      assert.equal(all.get(containerName(APP, role, v2.version))?.state, "exited");
    }
    assert.equal(all.size, 4, `one running and one stopped container per role: ${[...all.keys()]}`);
    const ids = (await onServer(`docker image ls --quiet --no-trunc --filter label=pydeploy.app=${APP}`)).split("\n").filter(Boolean);
    assert.deepEqual(new Set(ids), new Set([images.v1.imageId, images.v2.imageId]), "the broken image is pruned; v1 (running) and v2 (rollback) stay");
  });

  test("after the server's dockerd restarts, the app is back without any deploy step", async () => {
    const v1 = releaseFor(images.v1);
    const v2 = releaseFor(images.v2);
    await serverExec(server, ["restart-dockerd.sh"]);
    assert.match(await waitForHttp200(url("/"), 60_000), /hello from demo 1\.0\.0/);
    const all = await waitFor("the worker running again", async () => {
      const c = await containers();
      return c.get(containerName(APP, "worker", v1.version))?.state === "running" ? c : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    // Stopped rollback containers stay stopped.
    assert.equal(all.get(containerName(APP, "web", v2.version))?.state, "exited");
  });

  test("a config-only change (same image, worker role dropped): no upload, the dropped role stops, one stopped container per role stays", async () => {
    const v1 = releaseFor(images.v1);
    const v2 = releaseFor(images.v2);
    const webOnly = { app: { roles: { web: WEB_ROLE } } };
    const next = releaseFor(images.v1, webOnly);
    const plan = copyPlan(images.v1, webOnly);
    const run = await runPlan(plan, { local: images.v1 });
    assertOk(run);
    lastApplied = plan;
    assert.equal(run.outputs.probe?.stdout, "present");
    assert.equal(run.uploaded, false);
    const out = run.outputs.release!.stdout;
    assert.match(out, /role worker is no longer part of the app/);
    assert.match(out, new RegExp(`removing old container ${containerName(APP, "web", v2.version)}`));
    assert.match(out, new RegExp(`removing old container ${containerName(APP, "worker", v2.version)}`));
    assert.match(await waitForHttp200(url("/")), /hello from demo 1\.0\.0/);
    const states = Object.fromEntries([...(await containers())].map(([name, c]) => [name, c.state]));
    assert.deepEqual(states, {
      [containerName(APP, "web", next.version)]: "running",
      [containerName(APP, "web", v1.version)]: "exited",
      [containerName(APP, "worker", v1.version)]: "exited",
    });
  });

  test("registry mode: login through stdin, pull by digest, no credential left on the server", async () => {
    // A registry with htpasswd auth inside the server, holding the v2 image.
    await serverExec(server, ["sh", "-c", [
      "mkdir -p /etc/pydeploy-registry",
      `htpasswd -Bbn ${REGISTRY_USER} ${REGISTRY_PASSWORD} >/etc/pydeploy-registry/htpasswd`,
      "printf 'version: 0.1\\nstorage:\\n  filesystem:\\n    rootdirectory: /var/lib/pydeploy-registry\\nhttp:\\n  addr: 127.0.0.1:5000\\nauth:\\n  htpasswd:\\n    realm: test\\n    path: /etc/pydeploy-registry/htpasswd\\n' >/etc/pydeploy-registry/config.yml",
      "nohup docker-registry serve /etc/pydeploy-registry/config.yml >/var/log/pydeploy-registry.log 2>&1 &",
    ].join(" && ")]);
    const pushed = `${REGISTRY}/team/${APP}:v2`;
    await waitFor("the registry", async () => ((await serverExec(server, ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5000"], { allowFailure: true })).code === 0 ? true : undefined));
    const push = await serverExec(server, ["sh", "-c", [
      `echo "$0" | docker login --username ${REGISTRY_USER} --password-stdin ${REGISTRY} >/dev/null`,
      `docker tag ${images.v2.imageId} ${pushed}`,
      `docker push ${pushed} >/dev/null`,
      `docker inspect --format '{{index .RepoDigests 0}}' ${pushed}`,
      `docker rmi ${pushed} >/dev/null`,
      `docker logout ${REGISTRY} >/dev/null`,
    ].join(" && "), REGISTRY_PASSWORD]);
    const imageRef = push.stdout.trim();
    assert.match(imageRef, /^127\.0\.0\.1:5000\/team\/demo@sha256:[0-9a-f]{64}$/);

    const app = "demo-reg";
    // A TCP gate here (no healthcheck path): it connects to the container behind the host port.
    const { release, steps: plan } = planFor(
      { image: `${REGISTRY}/team/${APP}:v2`, imageId: imageRef },
      { app: { name: app, roles: { web: { command: WEB_ROLE.command, port: 8000, publish: 8081 } } } },
      { registry: { server: REGISTRY, username: REGISTRY_USER } },
    );
    assert.deepEqual(plan.map((p) => p.name), ["wait", "host", "pull", "env", "release"]);
    const run = await runPlan(plan);
    assertOk(run);
    assert.match(run.outputs.release!.stdout, /passed TCP :8081/);
    const pull = run.outputs.pull!;
    assert.ok(!(pull.stdout + pull.stderr).includes(REGISTRY_PASSWORD));
    assert.match(await waitForHttp200(url("/", 8081)), /hello from demo 2\.0\.0/);
    assert.equal((await onServer(`docker image inspect --format '{{.Id}}' ${release.image}`)).trim(), images.v2.imageId);
    // The login used a throwaway config: root's Docker config holds no credential for it.
    const dockerConfig = await sshExec(root, "cat .docker/config.json");
    assert.ok(!dockerConfig.stdout.includes(REGISTRY), dockerConfig.stdout);
    assert.equal((await onServer("ls /tmp | grep -c '^tmp' || true")).trim(), "0", "the throwaway Docker config is removed");

    await destroy(plan);
    assert.equal((await onServer(`docker ps --all --quiet --filter label=pydeploy.app=${app}`)).trim(), "");
    assert.equal((await sshExec(root, `docker image inspect ${release.image}`)).code, 1, "the app's tag is removed");
    assert.equal((await sshExec(root, `test -e .pydeploy/${app}`)).code, 1);
    // The other app on the server is untouched.
    assert.match(await waitForHttp200(url("/")), /hello from demo 1\.0\.0/);
  });

  test("non-root users: a docker-group user gets the app folder in its home; one without Docker access gets a clear message", async () => {
    const layout = appLayout("demo-user");
    // The real install snippet: a docker-group user without sudo needs no root when Docker runs.
    const host = prepareHost({ layout, dockerInstallScript: INSTALL_SNIPPET });
    const deploy = await sshExec(server.as("deploy"), host.create);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /docker is already installed/);
    assert.match(deploy.stdout, /docker is running/);
    assert.match(deploy.stdout, /app folder \/home\/deploy\/\.pydeploy\/demo-user ready/);
    assert.equal((await onServer("stat -c '%a %U' /home/deploy/.pydeploy/demo-user")).trim(), "700 deploy");
    assert.equal((await sshExec(server.as("deploy"), host.delete!)).code, 0);
    assert.equal((await sshExec(root, "test -e /home/deploy/.pydeploy/demo-user")).code, 1);

    const denied = await sshExec(server.as("nodocker"), host.create);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /user nodocker cannot use Docker: add it to the docker group or connect as root/);
  });

  test("destroy (delete commands in reverse plan order) leaves no container, env file, app folder or app image", async () => {
    assert.ok(lastApplied);
    await destroy(lastApplied);
    assert.equal((await onServer("docker ps --all --quiet")).trim(), "");
    assert.equal((await onServer(`docker image ls --quiet --filter label=pydeploy.app=${APP}`)).trim(), "");
    assert.equal((await onServer(`docker image ls --quiet ${localRepo}`)).trim(), "", "the app's server tags are removed");
    assert.equal((await sshExec(root, `test -e .pydeploy/${APP}/app.env || test -e .pydeploy/${APP}`)).code, 1);
    // Idempotent: a second destroy succeeds on the empty server.
    await destroy(lastApplied);
  });

  test("ensureImageArchive: the same image gives the same bytes; reused; newest archives per repository kept; wrong id refused", () => {
    const file = (img: BuiltImage, dir = cacheDir) => path.join(dir, `${img.imageId.slice(7)}.tar.gz`);
    // The runs above archived v1, v2 and broken (in that order): keep=2 dropped v1.
    assert.ok(!fs.existsSync(file(images.v1)));
    assert.ok(fs.existsSync(file(images.v2)) && fs.existsSync(file(images.broken)));
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-archives-"));
    try {
      const again = ensureImageArchive({ image: images.broken.image, imageId: images.broken.imageId, cacheDir: fresh });
      assert.equal(sha256File(again), sha256File(file(images.broken)), "deterministic bytes");
      // Another repository's archive is not this app's to prune.
      const foreign = path.join(fresh, `${"f".repeat(64)}.tar.gz`);
      fs.writeFileSync(foreign, "x");
      fs.writeFileSync(foreign.replace(/\.tar\.gz$/, ".json"), JSON.stringify({ repository: "other/app" }));
      const inode = fs.statSync(again).ino;
      assert.equal(ensureImageArchive({ image: images.broken.image, imageId: images.broken.imageId, cacheDir: fresh, keep: 1 }), again);
      assert.equal(fs.statSync(again).ino, inode, "reused, not rewritten");
      assert.ok(fs.existsSync(foreign));
      assert.throws(
        () => ensureImageArchive({ image: images.v1.image, imageId: images.v2.imageId, cacheDir: fresh }),
        new RegExp(`local image ${images.v1.image} has id ${images.v1.imageId}, not ${images.v2.imageId}`),
      );
      assert.throws(() => ensureImageArchive({ image: `${localRepo}:nope`, imageId: images.v2.imageId, cacheDir: fresh }), /local image .*:nope not found/);
      assert.deepEqual(fs.readdirSync(fresh).filter((n) => n.endsWith(".tmp")), [], "no temp files left");
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  test("no secret (env value, registry password) appears in any create or delete command of either ship mode", () => {
    const registryPlan = planFor(
      { image: `${REGISTRY}/team/demo:v1`, imageId: `${REGISTRY}/team/demo@${images.v1.imageId}` },
      {},
      { registry: { server: REGISTRY, username: REGISTRY_USER } },
    ).steps;
    for (const plan of [...plansRun, copyPlan(images.v1), registryPlan]) {
      for (const planned of plan) {
        if (planned.name === "upload") continue;
        for (const text of [planned.step.create, planned.step.delete ?? ""]) {
          assert.ok(!text.includes(SECRET.trim()), `${planned.name} contains the env secret`);
          assert.ok(!text.includes(REGISTRY_PASSWORD), `${planned.name} contains the registry password`);
        }
      }
    }
  });
});
