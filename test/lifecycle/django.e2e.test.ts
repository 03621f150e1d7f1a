// Issue 10 end to end: the Django fixture (test/fixtures/django-app, split requirements with
// -r/-c, packages from PyPI) deployed over SSH through the engine
// harness, with `manage.py migrate` as the release command and its SQLite on a volume.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { bumpDjangoVersion, copyDjangoFixture, DJANGO_LAYOUTS, packageSourceConfig, type Pypi, pypi } from "../fixtures/djangoApp";
import { ensureBaseImage, waitForHttp200 } from "../support/docker/localEngine";
import { serverExec, startTestServer, stopTestServer, TestServer } from "../support/ssh/sshServer";
import { mustSucceed, programStack, removeAppImages, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { existingTargetConfig } from "../support/lifecycle/serverScenario";

const APP = uniqueApp("dj");
const PORT = 8080;
let server: TestServer;
let fromPypi: Pypi;
let dir: string;
let stateDir: string;
let deploy: Record<string, unknown> = { healthTimeoutSeconds: 60, stopGraceSeconds: 10 };

const stack = () =>
  programStack({
    stateDir,
    stack: "dj",
    secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv"],
    config: {
      ...existingTargetConfig(server),
      "pydeploy:secretEnv": { SECRET_KEY: `dj-${randomBytes(16).toString("hex")}-fixed` },
      "pydeploy:app": {
        name: APP,
        path: dir,
        ...packageSourceConfig(fromPypi),
        requirements: "requirements/production.txt",
        env: { DJANGO_SETTINGS_MODULE: "notesite.settings", ALLOWED_HOSTS: "*" },
        buildCommands: [["python", "manage.py", "collectstatic", "--noinput"]],
        release: ["python", "manage.py", "migrate", "--noinput"],
        volumes: { data: { path: "/data" } },
        roles: {
          web: { command: "gunicorn notesite.wsgi:application --bind 0.0.0.0:8000 --workers 2 --access-logfile -", port: 8000, publish: PORT, healthcheck: { path: "/health" } },
        },
      },
      "pydeploy:deploy": deploy,
    },
  });

const url = (p: string) => `http://${server.host}:${PORT}${p}`;
function request(method: "GET" | "POST", p: string, body?: object): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : undefined;
    const req = http.request(url(p), { method, timeout: 10_000, headers: data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {} }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
        } catch {
          reject(new Error(`${method} ${p}: ${res.statusCode} ${text.slice(0, 300)}`));
        }
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}
const notes = async () => ((await request("GET", "/notes")).json.notes as { text: string }[]).map((n) => n.text);
const releaseLog = (r: Awaited<ReturnType<ReturnType<typeof stack>["up"]>>) => stepOutput(r, `${APP}-release`);
const MIGRATION_0002 = "notes/migrations/0002_broken.py";

describe("lifecycle: a Django project with migrations and a volume (existing target)", { timeout: 40 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    [server, fromPypi] = await Promise.all([startTestServer(), pypi()]);
    dir = copyDjangoFixture(DJANGO_LAYOUTS.find((l) => l.id === "split")!, fromPypi, "pydeploy-lifecycle-django");
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-lifecycle-dj-"));
  });

  after(async () => {
    if (server) await stopTestServer(server);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await removeAppImages(APP);
  });

  test("the first up migrates once, before the web starts, and the app stores data on the volume", async () => {
    const r = mustSucceed(await stack().up(), "first up");
    const log = releaseLog(r);
    assert.match(log, /release command: python manage\.py migrate --noinput[\s\S]*Applying notes\.0001_initial\.\.\. OK[\s\S]*role web: starting/, `migrate ran before the web started:\n${log}`);
    assert.match(await waitForHttp200(url("/")), /notes 1\.0\.0/, "the app serves");
    const created = await request("POST", "/notes", { text: "written by v1" });
    assert.equal(created.status, 201, "a note is stored (the volume is writable by the app's uid)");
    assert.deepEqual(await notes(), ["written by v1"], "and read back");
    const image = `$(docker image ls --quiet --filter label=pydeploy.app=${APP} | head -1)`;
    const owner = (await serverExec(server, ["sh", "-c", `docker run --rm --entrypoint stat -v ${APP}-data:/d ${image} -c %u /d`])).stdout.trim();
    assert.equal(owner, "10001", "the volume belongs to the app's uid");
  });

  test("a code change migrates again (nothing to apply) and keeps the data", async () => {
    bumpDjangoVersion(dir, "2.0.0");
    const r = mustSucceed(await stack().up(), "code change");
    assert.match(releaseLog(r), /No migrations to apply/, "migrate ran for the new image");
    assert.match(await waitForHttp200(url("/")), /notes 2\.0\.0/, "v2 serves");
    assert.deepEqual(await notes(), ["written by v1"], "the data is still there");
    await request("POST", "/notes", { text: "written by v2" });
  });

  test("a failing migration fails the deploy before the switch: v2 keeps serving its data", async () => {
    fs.writeFileSync(
      path.join(dir, MIGRATION_0002),
      "from django.db import migrations\n\n\ndef fail(apps, schema_editor):\n    raise RuntimeError('this migration is broken on purpose')\n\n\n" +
        "class Migration(migrations.Migration):\n    dependencies = [('notes', '0001_initial')]\n    operations = [migrations.RunPython(fail)]\n",
    );
    bumpDjangoVersion(dir, "3.0.0-broken");
    const r = await stack().up();
    assert.equal(r.ok, false, "the up fails");
    assert.match(r.error ?? "", /the release command `python manage\.py migrate --noinput` exited 1: nothing was switched/, `the error says so: ${r.error}`);
    assert.match(r.error ?? "", /this migration is broken on purpose/, "with the migration's own output");
    assert.match(await waitForHttp200(url("/")), /notes 2\.0\.0/, "v2 still serves");
    assert.deepEqual(await notes(), ["written by v1", "written by v2"], "with all the data");
  });

  test("after the fix, and after going back to v2 (a rollback), the data is still there; a dockerd restart keeps it too", async () => {
    fs.rmSync(path.join(dir, MIGRATION_0002));
    bumpDjangoVersion(dir, "4.0.0");
    mustSucceed(await stack().up(), "fixed up");
    assert.match(await waitForHttp200(url("/")), /notes 4\.0\.0/, "v4 serves");
    bumpDjangoVersion(dir, "2.0.0");
    mustSucceed(await stack().up(), "back to v2");
    assert.match(await waitForHttp200(url("/")), /notes 2\.0\.0/, "v2 serves again");
    assert.deepEqual(await notes(), ["written by v1", "written by v2"], "the data survived the redeploys and the rollback");
    await serverExec(server, ["restart-dockerd.sh"]);
    assert.match(await waitForHttp200(url("/"), 60_000), /notes 2\.0\.0/, "back after dockerd restarts");
    assert.deepEqual(await notes(), ["written by v1", "written by v2"], "and so is the data");
  });

  test("destroy keeps the volume and says so; with removeVolumesOnDestroy set first, it goes", async () => {
    const kept = mustSucceed(await stack().destroy(), "destroy");
    assert.match(stepOutput(kept, `${APP}-host`), new RegExp(`keeping volumes ${APP}-data: they hold the app's data`), "it says the volume is kept");
    assert.equal((await serverExec(server, ["docker", "volume", "inspect", `${APP}-data`], { allowFailure: true })).code, 0, "the volume is there");

    deploy = { ...deploy, removeVolumesOnDestroy: true };
    mustSucceed(await stack().up(), "deploy again, with the data");
    assert.deepEqual(await notes(), ["written by v1", "written by v2"], "a new deploy finds the kept data");
    const removed = mustSucceed(await stack().destroy(), "destroy with removeVolumesOnDestroy");
    assert.match(stepOutput(removed, `${APP}-host`), new RegExp(`removing volumes: ${APP}-data`), "it removes the volume");
    assert.notEqual((await serverExec(server, ["docker", "volume", "inspect", `${APP}-data`], { allowFailure: true })).code, 0, "the volume is gone");
  });
});
