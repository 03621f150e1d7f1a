// Real Django projects in every requirements form, built with the generated Dockerfile on the real
// engine (legacy builder) with their packages from PyPI: each form builds, runs `manage.py check`,
// and rebuilds a code-only change from the cached dependency layer. A private index (app.pipIndexUrl)
// is a loopback wheel index of Debian bookworm's packages, in its own test.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { AppConfig } from "../../components/config/schema";
import { dockerBuildNetwork, dockerfilePath, renderBuildFiles, writeBuildFiles } from "../../components/image/buildFiles";
import {
  bumpDjangoVersion, copyDjangoFixture, DJANGO_LAYOUTS, djangoAppConfig, type DjangoLayout, type PackageSource, pypi, PYPI_VERSIONS,
} from "../fixtures/djangoApp";
import { docker, ensureBaseImage, httpGet, uniqueName, waitFor, waitForHttp200 } from "../support/docker/localEngine";
import { debianWheels, startWheelIndex, type WheelIndex } from "../support/pypi/wheelIndex";
import { type BuildStep, parseSteps } from "../support/docker/legacyBuild";

const RUN_ID = uniqueName("pydeploy-pyproj-it");
// Labels every image of this run (builder stages too), so `after` prunes exactly these.
const APP_NAME = uniqueName("notes");
const SECRET_KEY = "test-only-secret-key-for-the-fixture";

async function build(app: AppConfig, tag: string): Promise<{ steps: BuildStep[]; output: string }> {
  writeBuildFiles(app.path, renderBuildFiles(app));
  const network = dockerBuildNetwork(app);
  const r = await docker(["build", ...(network ? ["--network", network] : []), "-t", tag, "-f", dockerfilePath(app), app.path], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 10 * 60_000,
  });
  return { steps: parseSteps(r.stdout), output: r.stdout };
}

async function runIn(image: string, argv: string[], extra: string[] = []): Promise<string> {
  const r = await docker(["run", "--rm", "-e", `SECRET_KEY=${SECRET_KEY}`, ...extra, image, ...argv], { timeoutMs: 120_000 });
  return r.stdout + r.stderr;
}

describe("Django projects in every requirements form, on the real engine", { timeout: 40 * 60_000 }, () => {
  let index: WheelIndex;
  let fromPypi: PackageSource;
  const tempDirs: string[] = [];
  const tags: string[] = [];
  const containers: string[] = [];

  before(async () => {
    ensureBaseImage();
    fromPypi = await pypi();
    index = await startWheelIndex(await debianWheels());
  }, { timeout: 10 * 60_000 });

  after(async () => {
    for (const c of containers) await docker(["rm", "-f", c], { allowFailure: true });
    for (const t of tags) await docker(["rmi", "-f", t], { allowFailure: true });
    await docker(["image", "prune", "-f", "--filter", `label=pydeploy.app=${APP_NAME}`], { allowFailure: true });
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
    await index?.close();
  });

  function project(layout: DjangoLayout, source: PackageSource): AppConfig {
    const dir = copyDjangoFixture(layout, source, RUN_ID);
    tempDirs.push(dir);
    return djangoAppConfig(dir, source, APP_NAME, layout.app);
  }

  // The one place a private index is what is under test: every pip run of the build, pip's build
  // isolation too, asks the configured index and nothing else.
  describe("from a private index (app.pipIndexUrl on loopback)", () => {
    const tag = `pydeploy-test/${RUN_ID}-private-index:v1`;
    let requestsBefore = 0;

    before(async () => {
      tags.push(tag);
      const app = project(DJANGO_LAYOUTS.find((l) => l.id === "pyproject")!, index);
      requestsBefore = index.requests.length;
      await build(app, tag);
    }, { timeout: 10 * 60_000 });

    it("installs the dependencies and the project's build backend from the index", { timeout: 180_000 }, async () => {
      const versions = await runIn(tag, ["python", "-c", "import django, gunicorn; print(django.get_version(), gunicorn.__version__)"]);
      assert.equal(versions.trim(), `${index.wheel("django").version} ${index.wheel("gunicorn").version}`, "Django and gunicorn come from the test index");
      const fetched = index.requests.slice(requestsBefore);
      for (const wanted of ["GET /simple/django/ 200", "GET /simple/gunicorn/ 200", "GET /simple/wheel/ 200"]) {
        assert.ok(fetched.includes(wanted), `${wanted} (setuptools' build requirement wheel too): ${fetched.join(", ")}`);
      }
      assert.match(await runIn(tag, ["pip", "show", "pydeploy-notes"]), /^Version: 1\.0\.0$/m, "the project is installed in the venv");
    });
  });

  for (const form of DJANGO_LAYOUTS) {
    describe(form.description, () => {
      let app: AppConfig;
      let v1: { steps: BuildStep[]; output: string };
      const tag = (v: string) => `pydeploy-test/${RUN_ID}-${form.id}:${v}`;

      before(async () => {
        app = project(form, fromPypi);
        tags.push(tag("v1"), tag("v2"));
        v1 = await build(app, tag("v1"));
      }, { timeout: 10 * 60_000 });

      it("installs the pinned Django from PyPI and passes manage.py check and makemigrations --check", { timeout: 180_000 }, async () => {
        const versions = await runIn(tag("v1"), ["python", "-c", "import django, gunicorn, whitenoise; print(django.get_version(), gunicorn.__version__)"]);
        assert.equal(versions.trim(), `${PYPI_VERSIONS.django} ${PYPI_VERSIONS.gunicorn}`, "the fixture's pinned Django and gunicorn are installed");
        assert.match(await runIn(tag("v1"), ["python", "manage.py", "check"]), /System check identified no issues/, "manage.py check passes");
        assert.match(
          await runIn(tag("v1"), ["python", "manage.py", "makemigrations", "--check", "--dry-run"]),
          /No changes detected/,
          "the committed migration matches the models",
        );
        const manifest = JSON.parse(await runIn(tag("v1"), ["cat", "/app/staticfiles/staticfiles.json"])) as { paths: Record<string, string> };
        assert.match(manifest.paths["notes/site.css"] ?? "", /^notes\/site\.[0-9a-f]{12}\.css$/, "collectstatic ran at build time (hashed name)");
      });

      it("rebuilds a code-only change from the cached dependency layer", { timeout: 10 * 60_000 }, async () => {
        bumpDjangoVersion(app.path, "1.0.1");
        const v2 = await build(app, tag("v2"));
        const summary = v2.steps.map((s) => `${s.cached ? "cached " : "ran    "}${s.instruction}`).join("\n");
        const venv = v2.steps.findIndex((s) => s.instruction.startsWith("COPY --from=builder"));
        const code = v2.steps.findIndex((s) => s.instruction === "COPY . .");
        assert.ok(venv > 0 && code > venv, `venv copy before the code copy:\n${summary}`);
        for (const step of v2.steps.slice(0, code)) {
          if (!step.instruction.startsWith("FROM ")) assert.ok(step.cached, `not a cache hit: ${step.instruction}\n${summary}`);
        }
        assert.equal(v2.steps[venv].imageId, v1.steps[venv].imageId, "the dependency layer's image is reused");
        assert.ok(!v2.steps[code].cached, `the code layer is rebuilt:\n${summary}`);
        const version = await runIn(tag("v2"), ["python", "-c", "import notesite; print(notesite.__version__)"]);
        assert.equal(version.trim(), "1.0.1", "the new code is in the image");
      });

      if (form.id === "split") {
        it("copies only the production include tree into the dependency stage", async () => {
          const dockerfile = fs.readFileSync(dockerfilePath(app), "utf8");
          const copies = dockerfile.split("\n").filter((l) => l.startsWith("COPY [") && l.includes("/build/"));
          assert.deepEqual(
            copies,
            ['COPY ["constraints.txt", "/build/"]', 'COPY ["requirements/base.txt", "requirements/production.txt", "/build/requirements/"]'],
            "requirements/local.txt (development only) stays out",
          );
        });

        it("serves notes and static files under gunicorn after a migrate, and refuses to start without SECRET_KEY", { timeout: 180_000 }, async () => {
          const name = uniqueName(RUN_ID);
          containers.push(name);
          await docker([
            "run", "-d", "--name", name, "-p", "127.0.0.1::8000", "-e", `SECRET_KEY=${SECRET_KEY}`,
            "--mount", "type=tmpfs,destination=/data,tmpfs-mode=1777", tag("v1"),
          ]);
          const { stdout: portLine } = await docker(["port", name, "8000/tcp"]);
          const base = `http://127.0.0.1:${/:(\d+)$/m.exec(portLine.trim())?.[1]}`;
          assert.equal(await waitForHttp200(`${base}/health`, 60_000), "ok\n", "/health answers");
          const migrate = await docker(["exec", name, "python", "manage.py", "migrate", "--noinput"]);
          assert.match(migrate.stdout, /Applying notes\.0001_initial\.\.\. OK/, "the release command creates the table");

          const created = await postJson(`${base}/notes`, { text: "hello from the fixture" });
          assert.equal(created.status, 201, `POST /notes: ${created.body}`);
          const list = JSON.parse((await httpGet(`${base}/notes`)).body) as { notes: { text: string }[] };
          assert.deepEqual(list.notes.map((n) => n.text), ["hello from the fixture"], "GET /notes lists the new note");
          assert.equal((await docker(["exec", name, "stat", "-c", "%u", "/data/db.sqlite3"])).stdout.trim(), "10001", "the app user owns its database");

          const manifest = JSON.parse((await docker(["exec", name, "cat", "/app/staticfiles/staticfiles.json"])).stdout) as { paths: Record<string, string> };
          const css = await httpGet(`${base}/static/${manifest.paths["notes/site.css"]}`);
          assert.equal(css.status, 200, "WhiteNoise serves the hashed static file");
          assert.match(css.body, /font-family/, "with its content");

          const bare = uniqueName(RUN_ID);
          containers.push(bare);
          await docker(["run", "-d", "--name", bare, tag("v1")]);
          const exit = await waitFor("the server without SECRET_KEY to exit", async () => {
            const state = (await docker(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", bare])).stdout.trim();
            return state.startsWith("false") ? state : undefined;
          }, { timeoutMs: 60_000, intervalMs: 500 });
          assert.notEqual(exit, "false 0", "gunicorn exits with an error");
          assert.match((await docker(["logs", bare])).stderr, /SECRET_KEY setting must not be empty/, "and says why");
        });
      }

      if (form.id === "hashes") {
        it("builds in pip's hash-checking mode, and fails on a wrong hash", { timeout: 10 * 60_000 }, async () => {
          const file = path.join(app.path, "requirements.txt");
          assert.match(fs.readFileSync(file, "utf8"), /--hash=sha256:[0-9a-f]{64}/, "the file is hash-pinned");
          const django = /^django==\S+ \\\n\s+--hash=sha256:([0-9a-f]{64})$/m.exec(fs.readFileSync(file, "utf8"))?.[1];
          assert.ok(django, "the file pins Django's hash");
          fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(django, "0".repeat(64)));
          // --force-rm: the failed step's container goes too (the legacy builder keeps it otherwise).
          const r = await docker(["build", "--force-rm", "-f", dockerfilePath(app), app.path], {
            env: { ...process.env, DOCKER_BUILDKIT: "0" },
            timeoutMs: 10 * 60_000,
            allowFailure: true,
          });
          assert.notEqual(r.code, 0, "the build fails");
          assert.match(r.stdout + r.stderr, /THESE PACKAGES DO NOT MATCH THE HASHES/, "pip checked the hashes");
        });
      }

      if (form.id === "pyproject") {
        it("installs the project itself with its build backend, and leaves no build files in /app", { timeout: 180_000 }, async () => {
          const show = await runIn(tag("v1"), ["pip", "show", "pydeploy-notes"]);
          assert.match(show, /^Version: 1\.0\.0$/m, "the project is installed in the venv");
          const leftovers = await runIn(tag("v1"), ["sh", "-c", "ls -d /app/build /app/*.egg-info 2>/dev/null | wc -l"]);
          assert.equal(leftovers.trim(), "0", "no build/ or *.egg-info in the workdir");
        });
      }
    });
  }
});

function postJson(url: string, body: unknown): Promise<{ status: number; body: string }> {
  return fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }).then(async (r) => ({
    status: r.status,
    body: await r.text(),
  }));
}
