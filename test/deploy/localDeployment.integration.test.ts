// The local target's container settings against the real Docker engine: the example image built
// from the generated files, started with exactly localContainerSettings(...) for web and worker.
// There is no Pulumi docker provider here, so a small translation below turns the settings into
// `docker run` flags; its health gate is the one the provider's `wait` polls for.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { quote } from "shell-quote";
import { parseStackConfig, type StackConfig } from "../../components/config/schema";
import { readStackFile } from "../../components/config/stackFile";
import { localContainerSettings, type LocalContainerSettings } from "../../components/deploy/localContainer";
import { roleSpecs } from "../../components/deploy/roles";
import { renderBuildFiles, writeBuildFiles } from "../../components/image/buildFiles";
import { BASE_IMAGE, EXAMPLE_DIR, REPO_ROOT, docker, ensureBaseImage, uniqueName, waitFor, waitForHttp200 } from "../support/docker";

const RUN_ID = uniqueName("pydeploy-local-it");
const TAGS = { good: `pydeploy-test/${RUN_ID}:good`, broken: `pydeploy-test/${RUN_ID}:broken` };
const HEALTHY_REPLY = 'self._reply(200, "ok\\n")';

/**
 * docker.Container's fields as `docker run` flags, after the provider's documented semantics
 * (ports internal/external -> -p external:internal on all addresses, tcp; restart; init; labels;
 * logDriver/logOpts; healthcheck tests ["CMD", argv...] / ["NONE"]; command after the image).
 * The CLI has no exec-form --health-cmd, so the CMD argv is quoted for the container's /bin/sh.
 * Only the container name differs: a per-run name instead of settings.name, so nothing a real
 * `pulumi up --stack local` created on this machine is touched.
 */
function dockerRunFlags(s: LocalContainerSettings, name: string, image: string): string[] {
  const h = s.healthcheck;
  let health: string[];
  if (h.tests[0] === "NONE") health = ["--no-healthcheck"];
  else {
    assert.equal(h.tests[0], "CMD", "the settings use the exec form");
    health = ["--health-cmd", quote(h.tests.slice(1))];
    if (h.interval) health.push("--health-interval", h.interval);
    if (h.timeout) health.push("--health-timeout", h.timeout);
    if (h.retries !== undefined) health.push("--health-retries", String(h.retries));
    if (h.startPeriod) health.push("--health-start-period", h.startPeriod);
  }
  return [
    "run", "--detach", "--name", name,
    ...s.ports.flatMap((p) => ["-p", `${p.external}:${p.internal}`]),
    "--restart", s.restart,
    ...(s.init ? ["--init"] : []),
    ...s.labels.flatMap((l) => ["--label", `${l.label}=${l.value}`]),
    "--log-driver", s.logDriver,
    ...Object.entries(s.logOpts).flatMap(([k, v]) => ["--log-opt", `${k}=${v}`]),
    ...health,
    image,
    ...(s.command ?? []),
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A copy of example/ (without generated files) and the local stack's config for it. */
function project(publish: number, edit?: (dir: string) => void): { dir: string; config: StackConfig } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${RUN_ID}-`));
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !/[\\/]\.pydeploy$|[\\/]\.dockerignore$/.test(src) });
  edit?.(dir);
  const raw = readStackFile(REPO_ROOT, "local");
  const app = raw.values.app as { roles: Record<string, Record<string, unknown>> };
  raw.values.app = { ...app, path: dir, baseImage: BASE_IMAGE, roles: { ...app.roles, web: { ...app.roles.web, publish } } };
  const config = parseStackConfig(raw);
  writeBuildFiles(dir, renderBuildFiles(config.app));
  return { dir, config };
}

function settingsFor(config: StackConfig, role: string): LocalContainerSettings {
  const spec = roleSpecs(config.app).find((r) => r.role === role);
  assert.ok(spec, `role ${role}`);
  const { logMaxSize, logMaxFiles, healthTimeoutSeconds } = config.deploy;
  return localContainerSettings({ app: config.app.name, logMaxSize, logMaxFiles, healthTimeoutSeconds }, spec);
}

const RUN_STARTED = Date.now();
/** Every image ID the legacy builder printed (" ---> <id>"), for the cleanup of stage images. */
const builtIds = new Set<string>();

async function build(dir: string, tag: string): Promise<void> {
  const { stdout } = await docker(["build", "-t", tag, "-f", path.join(dir, ".pydeploy", "Dockerfile"), dir], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 10 * 60_000,
  });
  for (const m of stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)) builtIds.add(m[1]);
}

/** The builder stage's image stays behind untagged: remove the ones this run created. */
async function removeOwnStageImages(): Promise<void> {
  const dangling = (await docker(["images", "--filter", "dangling=true", "--quiet"])).stdout.split("\n").filter(Boolean);
  for (const id of dangling.filter((d) => builtIds.has(d))) {
    const created = Date.parse((await docker(["image", "inspect", "--format", "{{.Created}}", id])).stdout.trim());
    if (created >= RUN_STARTED - 1000) await docker(["rmi", id], { allowFailure: true });
  }
}

async function inspect<T>(what: string, format: string): Promise<T> {
  const { stdout } = await docker(["inspect", "--format", `{{json ${format}}}`, what]);
  return JSON.parse(stdout) as T;
}

const healthOf = (name: string) => inspect<{ Status: string } | null>(name, ".State.Health");

/** The provider's `wait`: poll until healthy, for at most waitTimeout seconds. */
async function waitHealthy(name: string, waitTimeout: number): Promise<void> {
  await waitFor(`${name} healthy`, async () => ((await healthOf(name))?.Status === "healthy" ? true : undefined), {
    timeoutMs: waitTimeout * 1000,
    intervalMs: 500,
  });
}

describe("local target container settings on the real engine", { timeout: 20 * 60_000 }, () => {
  const containers: string[] = [];
  const dirs: string[] = [];
  let good: { dir: string; config: StackConfig };
  let broken: { dir: string; config: StackConfig };
  let webPort: number;
  const names = { web: `${RUN_ID}-web`, worker: `${RUN_ID}-worker`, broken: `${RUN_ID}-broken` };

  async function start(settings: LocalContainerSettings, name: string, image: string): Promise<void> {
    containers.push(name);
    await docker(dockerRunFlags(settings, name, image));
  }

  before(async () => {
    ensureBaseImage();
    webPort = await freePort();
    good = project(webPort);
    dirs.push(good.dir);
    broken = project(await freePort(), (dir) => {
      const web = path.join(dir, "demo", "web.py");
      const code = fs.readFileSync(web, "utf8");
      assert.ok(code.includes(HEALTHY_REPLY), "example/demo/web.py answers /health as expected");
      fs.writeFileSync(web, code.replace(HEALTHY_REPLY, 'self._reply(503, "broken\\n")'));
    });
    dirs.push(broken.dir);
    await build(good.dir, TAGS.good);
    await build(broken.dir, TAGS.broken);
    await start(settingsFor(good.config, "web"), names.web, TAGS.good);
    await start(settingsFor(good.config, "worker"), names.worker, TAGS.good);
    await start(settingsFor(broken.config, "web"), names.broken, TAGS.broken);
  }, { timeout: 15 * 60_000 });

  after(async () => {
    for (const c of containers) await docker(["rm", "-f", c], { allowFailure: true });
    for (const t of Object.values(TAGS)) await docker(["rmi", "-f", t], { allowFailure: true });
    await removeOwnStageImages();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test("the web answers HTTP 200 on the published host port", { timeout: 60_000 }, async () => {
    assert.deepEqual(settingsFor(good.config, "web").ports, [{ internal: 8000, external: webPort }]);
    const body = await waitForHttp200(`http://127.0.0.1:${webPort}/`, 30_000);
    assert.equal(body, "hello from demo 1.0.0\n");
  });

  test("restart policy, init, labels and log rotation are what the engine runs", async () => {
    for (const [role, name] of [["web", names.web], ["worker", names.worker]] as const) {
      const host = await inspect<{ RestartPolicy: { Name: string }; Init: boolean; LogConfig: { Type: string; Config: Record<string, string> } }>(name, ".HostConfig");
      assert.equal(host.RestartPolicy.Name, "unless-stopped", role);
      assert.equal(host.Init, true, role);
      assert.deepEqual(host.LogConfig, { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } }, role);
      const labels = await inspect<Record<string, string>>(name, ".Config.Labels");
      assert.equal(labels["pydeploy.app"], "demo", role);
      assert.equal(labels["pydeploy.role"], role, role);
      assert.deepEqual(await inspect<string[]>(name, ".Config.Cmd"), ["python", "-m", `demo.${role}`]);
    }
    const bindings = await inspect<Record<string, { HostPort: string }[]>>(names.web, ".HostConfig.PortBindings");
    assert.deepEqual(Object.keys(bindings), ["8000/tcp"]);
    assert.equal(bindings["8000/tcp"][0].HostPort, String(webPort));
    assert.deepEqual(await inspect<unknown>(names.worker, ".HostConfig.PortBindings"), {}, "the worker publishes nothing");
  });

  test("the web becomes healthy within waitTimeout; the worker has no healthcheck and keeps running", { timeout: 120_000 }, async () => {
    const web = settingsFor(good.config, "web");
    assert.equal(web.wait, true);
    await waitHealthy(names.web, web.waitTimeout);
    const probe = await inspect<{ Test: string[]; Interval: number; Retries: number }>(names.web, ".Config.Healthcheck");
    assert.equal(probe.Test[0], "CMD-SHELL");
    assert.equal(probe.Test[1], quote(web.healthcheck.tests.slice(1)));
    assert.deepEqual([probe.Interval, probe.Retries], [10e9, 3]);

    const worker = settingsFor(good.config, "worker");
    assert.equal(worker.wait, false, "the provider must not wait for a health status that never comes");
    // The image's timings stay merged in; the test NONE switches its HEALTHCHECK off.
    assert.deepEqual((await inspect<{ Test: string[] }>(names.worker, ".Config.Healthcheck")).Test, ["NONE"]);
    assert.equal(await healthOf(names.worker), null);
    const state = await inspect<{ Running: boolean; Restarting: boolean }>(names.worker, ".State");
    assert.deepEqual([state.Running, state.Restarting], [true, false]);
    assert.equal(await inspect<number>(names.worker, ".RestartCount"), 0);
  });

  test("a web whose /health answers 503 becomes unhealthy, the status the provider's wait fails on", { timeout: 180_000 }, async () => {
    const s = settingsFor(broken.config, "web");
    const status = await waitFor(
      `${names.broken} health verdict`,
      async () => {
        const st = (await healthOf(names.broken))?.Status;
        return st === "healthy" || st === "unhealthy" ? st : undefined;
      },
      { timeoutMs: s.waitTimeout * 1000, intervalMs: 500 },
    );
    assert.equal(status, "unhealthy");
    // The process itself is up: only the health gate tells the broken build apart.
    assert.equal(await inspect<boolean>(names.broken, ".State.Running"), true);
  });
});
