// The generated Dockerfile, .dockerignore and entrypoint against the real Docker engine, built
// with the legacy builder (no BuildKit here). Images are built once and shared by the tests.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { AppConfig } from "../../components/config/schema";
import { renderBuildFiles, writeBuildFiles } from "../../components/image/buildFiles";
import type { EntrypointProcess } from "../../components/image/entrypoint";
import {
  EXAMPLE_DIR,
  docker,
  ensureBaseImage,
  httpGet,
  run,
  uniqueName,
  waitFor,
  waitForHttp200,
} from "../support/docker/localEngine";
import { exampleStack } from "../support/config/exampleStack";
import { type BuildStep, parseSteps } from "../support/docker/legacyBuild";

const RUN_ID = uniqueName("pydeploy-image-it");
const TRICKY = `say "hi" to $USER \\o/ \${X} it's  two  spaces`;
const ENTRYPOINT = ".pydeploy/entrypoint.sh";
const PROCESSES: EntrypointProcess[] = [
  { name: "web", command: ["python", "-m", "demo.web"] },
  { name: "worker", command: ["python", "-m", "demo.worker"] },
];

// Like the example's stack; the test label lets `after` prune exactly this run's images.
// The example's stack config, rendered by the product's own path (renderBuildFiles). A
// per-run app name labels the images, so `after` prunes exactly this run's builder stages.
const APP_NAME = uniqueName("demo");
function exampleApp(mode: "roles" | "single"): AppConfig {
  return exampleStack({
    app: {
      name: APP_NAME,
      mode,
      env: { APP_NAME: "demo", PYDEPLOY_TEST_TRICKY: TRICKY },
      roles: {
        web: { command: PROCESSES[0].command, port: 8000, healthcheck: { path: "/health", intervalSeconds: 2, startPeriodSeconds: 5 } },
        worker: { command: PROCESSES[1].command },
      },
    },
  }).app;
}

function writeProject(dir: string, mode: "roles" | "single"): void {
  // A stale entrypoint from single mode is not the generator's to remove.
  if (mode === "roles") fs.rmSync(path.join(dir, ENTRYPOINT), { force: true });
  writeBuildFiles(dir, renderBuildFiles({ ...exampleApp(mode), path: dir }));
}

async function build(dir: string, tag: string): Promise<{ steps: BuildStep[]; ms: number }> {
  const started = Date.now();
  const r = await docker(["build", "-t", tag, "-f", path.join(dir, ".pydeploy", "Dockerfile"), dir], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 10 * 60_000,
  });
  return { steps: parseSteps(r.stdout), ms: Date.now() - started };
}

async function layers(image: string): Promise<string[]> {
  const { stdout } = await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image]);
  return JSON.parse(stdout) as string[];
}

async function inspect<T>(what: string, format: string): Promise<T> {
  const { stdout } = await docker(["inspect", "--format", `{{json ${format}}}`, what]);
  return JSON.parse(stdout) as T;
}

async function hostPort(container: string): Promise<number> {
  const { stdout } = await docker(["port", container, "8000/tcp"]);
  const m = /^127\.0\.0\.1:(\d+)$/m.exec(stdout);
  assert.ok(m, `no 127.0.0.1 mapping in: ${stdout}`);
  return Number(m[1]);
}

async function exec(container: string, script: string): Promise<string> {
  return (await docker(["exec", container, "bash", "-c", script])).stdout;
}

/** The pid, inside the container, of the process whose argv is exactly `argv`. */
async function pidOf(container: string, argv: string[]): Promise<number> {
  const wanted = argv.join(" ") + " ";
  const out = await exec(
    container,
    `for p in /proc/[0-9]*; do [ "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" = ${JSON.stringify(wanted)} ] && echo "\${p#/proc/}"; done; true`,
  );
  const pids = out.trim().split("\n").filter(Boolean);
  assert.equal(pids.length, 1, `exactly one "${wanted}" in ${container}: ${out}`);
  return Number(pids[0]);
}

describe("generated image on the real engine", { timeout: 30 * 60_000 }, () => {
  const containers: string[] = [];
  const tags = { v1: `pydeploy-test/${RUN_ID}:v1`, v2: `pydeploy-test/${RUN_ID}:v2`, single: `pydeploy-test/${RUN_ID}:single` };
  let project: string;
  let v1: { steps: BuildStep[]; ms: number };
  let web: string;

  async function start(image: string, extra: string[] = []): Promise<string> {
    const name = uniqueName(RUN_ID);
    containers.push(name);
    // No --init: the image's own PID 1 must handle signals.
    await docker(["run", "-d", "--name", name, "-p", "127.0.0.1::8000", ...extra, image]);
    return name;
  }

  before(async () => {
    ensureBaseImage();
    project = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-image-it-"));
    fs.cpSync(EXAMPLE_DIR, project, { recursive: true });
    // Things a real checkout has that must not reach the image.
    const junk: Record<string, string> = {
      ".env": "DEMO_SECRET_TOKEN=leaked\n",
      ".env.production": "DEMO_SECRET_TOKEN=leaked\n",
      ".git/HEAD": "ref: refs/heads/main\n",
      ".venv/pyvenv.cfg": "home = /usr/bin\n",
      "venv/pyvenv.cfg": "home = /usr/bin\n",
      "demo/__pycache__/web.cpython-311.pyc": "x",
      "demo/stale.pyc": "x",
      ".pytest_cache/README.md": "x",
      "Dockerfile": "FROM python:3.6.3\n",
      ".pydeploy/old.txt": "x",
      // Code in a package named `env` below the root must stay.
      "demo/env/settings.py": "DEBUG = False\n",
    };
    for (const [file, content] of Object.entries(junk)) {
      fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
      fs.writeFileSync(path.join(project, file), content);
    }
    writeProject(project, "roles");
    v1 = await build(project, tags.v1);
  }, { timeout: 15 * 60_000 });

  after(async () => {
    for (const c of containers) await docker(["rm", "-f", c], { allowFailure: true });
    for (const t of Object.values(tags)) await docker(["rmi", "-f", t], { allowFailure: true });
    // The builder stages' images are untagged; they carry the run's label.
    await docker(["image", "prune", "-f", "--filter", `label=pydeploy.app=${APP_NAME}`], { allowFailure: true });
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it("builds, runs and answers HTTP 200 on a random host port", { timeout: 120_000 }, async () => {
    assert.ok(v1.steps.length > 0, "legacy builder output parsed");
    web = await start(tags.v1);
    const port = await hostPort(web);
    const body = await waitForHttp200(`http://127.0.0.1:${port}/`, 30_000);
    assert.equal(body, "hello from demo 1.0.0\n");
  });

  it("runs the app as uid 10001 over root-owned code", async () => {
    assert.equal((await exec(web, "id -u")).trim(), "10001");
    const config = JSON.parse((await httpGet(`http://127.0.0.1:${await hostPort(web)}/config`)).body);
    assert.equal(config.uid, 10001);
    assert.equal((await exec(web, "stat -c %u /app /app/demo/web.py /opt/venv/bin/python3")).trim(), "0\n0\n0");
    const touch = await docker(["exec", web, "touch", "/app/demo/web.py"], { allowFailure: true });
    assert.notEqual(touch.code, 0, "the app cannot rewrite its code");
  });

  it("has python from the venv, the apt packages, and no apt lists or pip cache", async () => {
    const out = await exec(
      web,
      "command -v python; command -v lsof; ls -A /var/lib/apt/lists | wc -l; ls /var/cache/apt/archives/*.deb 2>/dev/null | wc -l; " +
        "ls -d /root/.cache/pip 2>/dev/null | wc -l; pip --version >/dev/null && echo pip-ok",
    );
    assert.deepEqual(out.trim().split("\n"), ["/opt/venv/bin/python", "/usr/bin/lsof", "0", "0", "0", "pip-ok"]);
  });

  it("bakes ENV and LABEL values exactly as given", async () => {
    const env = await inspect<string[]>(tags.v1, ".Config.Env");
    assert.ok(env.includes(`PYDEPLOY_TEST_TRICKY=${TRICKY}`), JSON.stringify(env));
    assert.ok(env.includes("APP_NAME=demo"), "app env baked");
    assert.ok(env.includes("PYTHONDONTWRITEBYTECODE=1") && env.includes("PYTHONUNBUFFERED=1"), "python env baked");
    const labels = await inspect<Record<string, string>>(tags.v1, ".Config.Labels");
    assert.equal(labels["pydeploy.app"], APP_NAME);
    assert.equal(await inspect<string>(tags.v1, ".Config.User"), "10001:10001");
    assert.deepEqual(await inspect<Record<string, unknown>>(tags.v1, ".Config.ExposedPorts"), { "8000/tcp": {} });
  });

  it("sends only the project's code, not secrets, VCS data, venvs, caches or Docker files", async () => {
    const out = await exec(web, "cd /app && find . | sort");
    const files = out.trim().split("\n");
    for (const present of ["./requirements.txt", "./README.md", "./demo/web.py", "./demo/worker.py", "./demo/env/settings.py"]) {
      assert.ok(files.includes(present), `${present} missing: ${files.join(" ")}`);
    }
    for (const absent of [".env", ".env.production", ".git", ".venv", "venv", "__pycache__", ".pyc", ".pytest_cache", "Dockerfile", ".dockerignore", "old.txt"]) {
      assert.ok(!files.some((f) => f.split("/").includes(absent) || f.endsWith(absent)), `${absent} leaked: ${files.join(" ")}`);
    }
  });

  it("becomes healthy through the image's HEALTHCHECK", { timeout: 60_000 }, async () => {
    const status = await waitFor("healthy", async () => {
      const s = await inspect<string>(web, ".State.Health.Status");
      return s === "healthy" ? s : undefined;
    }, { timeoutMs: 45_000, intervalMs: 500 });
    assert.equal(status, "healthy");
  });

  it("becomes unhealthy when the app does not answer on the probed port", { timeout: 60_000 }, async () => {
    const elsewhere = await start(tags.v1, ["-e", "PORT=9000"]);
    const status = await waitFor("unhealthy", async () => {
      const s = await inspect<string>(elsewhere, ".State.Health.Status");
      return s === "unhealthy" ? s : undefined;
    }, { timeoutMs: 45_000, intervalMs: 500 });
    assert.equal(status, "unhealthy");
    await docker(["rm", "-f", elsewhere]);
  });

  it("rebuilds a code-only change without re-running the dependency layers", { timeout: 10 * 60_000 }, async () => {
    const init = path.join(project, "demo", "__init__.py");
    fs.writeFileSync(init, fs.readFileSync(init, "utf8").replace('__version__ = "1.0.0"', '__version__ = "1.0.1"'));
    const v2 = await build(project, tags.v2);

    const code = v2.steps.findIndex((s) => s.instruction === "COPY . .");
    const venv = v2.steps.findIndex((s) => s.instruction.startsWith("COPY --from=builder"));
    assert.ok(venv >= 0 && code > venv, v2.steps.map((s) => s.instruction).join("\n"));
    for (const step of v2.steps.slice(0, code)) {
      if (step.instruction.startsWith("FROM ")) continue;
      assert.ok(step.cached, `not a cache hit: ${step.instruction}`);
    }
    assert.ok(!v2.steps[code].cached, "the code layer is rebuilt");
    assert.equal(v2.steps[venv].imageId, v1.steps[venv].imageId);

    // Every layer up to and including the venv's is shared; only the code layer differs.
    const upToVenv = await layers(v2.steps[venv].imageId);
    const [a, b] = [await layers(tags.v1), await layers(tags.v2)];
    assert.deepEqual(a.slice(0, upToVenv.length), upToVenv);
    assert.deepEqual(b.slice(0, upToVenv.length), upToVenv);
    assert.equal(a.length, b.length);
    assert.deepEqual(b.slice(0, -1), a.slice(0, -1));
    assert.notEqual(b[b.length - 1], a[a.length - 1]);

    const c = await start(tags.v2);
    assert.equal(await waitForHttp200(`http://127.0.0.1:${await hostPort(c)}/`), "hello from demo 1.0.1\n");
    await docker(["rm", "-f", c]);
  });

  describe("single-container mode", () => {
    before(async () => {
      writeProject(project, "single");
      await build(project, tags.single);
    }, { timeout: 10 * 60_000 });

    async function startBoth(): Promise<{ name: string; port: number }> {
      const name = await start(tags.single, ["-e", "WORKER_INTERVAL=0.5"]);
      const port = await hostPort(name);
      await waitForHttp200(`http://127.0.0.1:${port}/health`);
      await waitFor("the worker's heartbeat", async () => ((await exec(name, "cat /tmp/worker-heartbeat 2>/dev/null; true")).trim() || undefined));
      return { name, port };
    }

    it("runs the web and the worker under the entrypoint as PID 1", { timeout: 90_000 }, async () => {
      const { name, port } = await startBoth();
      assert.match((await exec(name, "tr '\\0' ' ' < /proc/1/cmdline")), /\/app\/\.pydeploy\/entrypoint\.sh web 3 python -m demo\.web worker 3 python -m demo\.worker/, "PID 1 is the entrypoint with both roles");
      assert.match(await waitForHttp200(`http://127.0.0.1:${port}/`), /^hello from demo \d/);
      const first = (await exec(name, "cat /tmp/worker-heartbeat")).trim();
      const changed = await waitFor("a new heartbeat", async () => {
        const now = (await exec(name, "cat /tmp/worker-heartbeat")).trim();
        return now !== first ? now : undefined;
      }, { timeoutMs: 10_000 });
      assert.notEqual(changed, first);
      await pidOf(name, ["python", "-m", "demo.web"]);
      await pidOf(name, ["python", "-m", "demo.worker"]);
      // Only the entrypoint made it into the image from .pydeploy/.
      assert.equal((await exec(name, "ls -A /app/.pydeploy; test -x /app/.pydeploy/entrypoint.sh && echo x")).trim(), "entrypoint.sh\nx");
    });

    it("exits 1 promptly when the worker exits cleanly, and says so", { timeout: 90_000 }, async () => {
      const { name } = await startBoth();
      const worker = await pidOf(name, ["python", "-m", "demo.worker"]);
      const killedAt = Date.now();
      await exec(name, `kill -TERM ${worker}`);
      const { stdout } = await docker(["wait", name], { timeoutMs: 30_000 });
      const ms = Date.now() - killedAt;
      assert.equal(stdout.trim(), "1");
      assert.ok(ms < 5000, `took ${ms} ms`);
      const logs = await docker(["logs", name]);
      assert.match(logs.stderr, new RegExp(`worker \\(pid ${worker}\\) exited with status 0, stopping the others`));
    });

    it("exits with the crashed process's status when one is killed", { timeout: 90_000 }, async () => {
      const { name } = await startBoth();
      const webPid = await pidOf(name, ["python", "-m", "demo.web"]);
      await exec(name, `kill -KILL ${webPid}`);
      const { stdout } = await docker(["wait", name], { timeoutMs: 30_000 });
      assert.equal(stdout.trim(), "137");
    });

    it("stops in under 3 s on docker stop, its processes having got the signal", { timeout: 90_000 }, async () => {
      const { name } = await startBoth();
      const started = Date.now();
      await docker(["stop", name]);
      const ms = Date.now() - started;
      assert.ok(ms < 3000, `docker stop took ${ms} ms`);
      // 143 = 128 + SIGTERM from the entrypoint; a SIGKILL after docker's timeout would be 137.
      assert.equal(await inspect<number>(name, ".State.ExitCode"), 143);
      assert.match((await docker(["logs", name])).stderr, /received SIGTERM, stopping all processes/);
    });

    it("writes an entrypoint that passes shellcheck", async () => {
      const f = path.join(project, ENTRYPOINT);
      const r = await run("shellcheck", [f], { allowFailure: true });
      assert.equal(r.code, 0, `shellcheck ${ENTRYPOINT}:\n${r.stdout}${r.stderr}`);
    });
  });
});
