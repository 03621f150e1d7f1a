// Issue 18 end to end: the Django 5 + Celery 5 fixture (test/fixtures/django-celery, packages from
// PyPI) with a PostgreSQL and a Redis service, deployed over SSH to a Docker-in-Docker server
// through the engine harness. The service images are the Debian-built stand-ins for postgres:15
// and redis:7 (test/support/services), copied from this machine's engine by the services step.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { addFailingMigration, bumpJobsVersion, copyDjangoCeleryFixture, djangoCeleryStackValues, runJob } from "../fixtures/djangoCelery";
import { pypi, type Pypi } from "../fixtures/djangoApp";
import { ensureBaseImage, httpGet, waitFor, waitForHttp200 } from "../support/docker/localEngine";
import { mustSucceed, ops, programStack, ran, removeAppImages, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { existingTargetConfig } from "../support/lifecycle/serverScenario";
import { ensureServiceImages, type ServiceImages } from "../support/services/serviceImages";
import { serverExec, startTestServer, stopTestServer, type TestServer } from "../support/ssh/sshServer";

const APP = uniqueApp("cel");
const PORT = 8080;
const DB = APP.replace(/-/g, "_");
let server: TestServer;
let source: Pypi;
let images: ServiceImages;
let dir: string;
let stateDir: string;
let deploy: Record<string, unknown> = { healthTimeoutSeconds: 90, stopGraceSeconds: 5 };

function stack(o: { app?: string; port?: number; stateDir?: string; services?: Record<string, unknown> } = {}) {
  const values = djangoCeleryStackValues({ dir, appName: o.app ?? APP, source, images });
  const app = values.app as { roles: { web: Record<string, unknown> } };
  app.roles.web.publish = o.port ?? PORT;
  if (o.services) values.services = { ...(values.services as object), ...o.services };
  return programStack({
    stateDir: o.stateDir ?? stateDir,
    stack: "cel",
    secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv"],
    config: {
      ...existingTargetConfig(server),
      ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`pydeploy:${k}`, v])),
      "pydeploy:deploy": deploy,
    },
  });
}

const url = (p: string) => `http://${server.host}:${PORT}${p}`;
/** SQL as the app's user, inside the database container (psql from the `commands` output, without a tty). */
const sql = async (query: string) => (await serverExec(server, ["docker", "exec", "-i", `${APP}-db`, "psql", "--username", DB, "--dbname", DB, "-At", "-c", query])).stdout.trim();
const serviceIds = async () => (await serverExec(server, ["docker", "inspect", "--format", "{{.Id}}", `${APP}-db`, `${APP}-cache`])).stdout.trim();
const jobCount = async () => Number(JSON.parse((await httpGet(url("/jobs"))).body).count);

/** A TCP connect from this machine: true when something accepts. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe("lifecycle: Django + Celery with PostgreSQL and Redis services (existing target)", { timeout: 40 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    images = ensureServiceImages();
    [server, source] = await Promise.all([startTestServer(), pypi()]);
    dir = copyDjangoCeleryFixture("pydeploy-lifecycle-celery");
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-lifecycle-cel-"));
  });

  after(async () => {
    if (server) await stopTestServer(server);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    await removeAppImages(APP);
  });

  test("the first up starts the services, waits for them, migrates PostgreSQL before the web starts; a job runs on the worker and lands in PostgreSQL", async () => {
    const r = mustSucceed(await stack().up(), "first up");
    const services = stepOutput(r, `${APP}-services`);
    assert.match(services, /service db: starting .*-db[\s\S]*service db: answers[\s\S]*service cache: answers/, `both services started and answered:\n${services}`);
    const release = stepOutput(r, `${APP}-release`);
    assert.match(
      release,
      /service db: answers[\s\S]*snapshot of .*: .*snapshots\/db-\d{8}T\d{6}Z\.dump[\s\S]*release command: python manage\.py migrate --noinput[\s\S]*Applying jobs\.0001_initial\.\.\. OK[\s\S]*role web: starting/,
      `services answered, a snapshot, then migrate, then the web:\n${release}`,
    );
    assert.equal(await sql("select count(*) from django_migrations where app = 'jobs'"), "1", "the migration is recorded in PostgreSQL");
    assert.match(await waitForHttp200(url("/health")), /ok/, "the web serves");
    const { done } = await runJob(url(""), "hello");
    assert.equal(done.result, "HELLO", "the worker ran the task");
    assert.equal(await sql(`select result from jobs_job where id = ${done.id}`), "HELLO", "the result is stored in PostgreSQL");
  });

  test("the database and Redis ports cannot be reached from outside the server", async () => {
    for (const port of [5432, 6379]) assert.equal(await reachable(server.host, port), false, `port ${port} is closed on the server's address`);
    const published = (await serverExec(server, ["docker", "inspect", "--format", "{{json .NetworkSettings.Ports}}", `${APP}-db`, `${APP}-cache`])).stdout;
    assert.ok(!/HostPort/.test(published), `no host port is bound: ${published}`);
    const listening = (await serverExec(server, ["sh", "-c", "cat /proc/net/tcp /proc/net/tcp6"])).stdout;
    assert.ok(!/:(1538|18EB) [0-9A-F:]+ 0A/.test(listening), "nothing on the server itself listens on 5432 or 6379");
  });

  test("a code change keeps the data and leaves the service containers alone (same IDs, the services step does not run)", async () => {
    const ids = await serviceIds();
    const before = await jobCount();
    bumpJobsVersion(dir, "2.0.0");
    const r = mustSucceed(await stack().up(), "code change");
    assert.ok(!ran(r).includes(`${APP}-services`), `the services step did not run: ${ops(r).join(", ")}`);
    assert.equal(await serviceIds(), ids, "the same service containers");
    assert.match((await httpGet(url("/health"))).body, /ok/, "v2 serves");
    await waitFor("v2 to serve", async () => ((await httpGet(url("/"))).body.includes("jobs 2.0.0") ? true : undefined), { timeoutMs: 30_000 });
    assert.equal(await jobCount(), before, "the data is still there");
    const { done } = await runJob(url(""), "again");
    assert.equal(done.result, "AGAIN", "the new worker reaches the same broker");
  });

  test("a second app on the same server gets its own services, network and volumes; taking it away leaves the first alone", async () => {
    const other = uniqueApp("cel2");
    const otherState = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-lifecycle-cel2-"));
    const second = () => stack({ app: other, port: PORT + 1, stateDir: otherState });
    try {
      const ids = await serviceIds();
      const before = await jobCount();
      mustSucceed(await second().up(), "the second app's first up");
      const { done } = await runJob(`http://${server.host}:${PORT + 1}`, "second");
      assert.equal(done.result, "SECOND", "the second app's worker runs its jobs");
      assert.equal(await jobCount(), before, "the first app's database did not get the second app's job");
      const names = (await serverExec(server, ["docker", "ps", "--format", "{{.Names}}", "--filter", `label=pydeploy.service-of=${other}`])).stdout.trim().split("\n").sort();
      assert.deepEqual(names, [`${other}-cache`, `${other}-db`], "its own service containers");
      mustSucceed(await second().destroy(), "the second app's destroy");
      assert.equal(await serviceIds(), ids, "the first app's services were not touched");
      assert.match((await httpGet(url("/health"))).body, /ok/, "the first app still serves");
    } finally {
      await serverExec(server, ["sh", "-c", `docker volume rm $(docker volume ls -q --filter label=pydeploy.app=${other}) 2>/dev/null; true`]);
      fs.rmSync(otherState, { recursive: true, force: true });
      await removeAppImages(other);
    }
  });

  test("a failing migration leaves the old version serving, and the snapshot holds the data from before it", async () => {
    const before = await jobCount();
    addFailingMigration(dir);
    bumpJobsVersion(dir, "3.0.0-broken");
    let r;
    try {
      r = await stack().up();
    } finally {
      fs.rmSync(path.join(dir, "jobs", "migrations", "0002_fail.py"));
      bumpJobsVersion(dir, "2.0.0");
    }
    assert.equal(r.ok, false, "the up fails");
    assert.match(r.error ?? "", /the release command `python manage\.py migrate --noinput` exited 1: nothing was switched, the previous version keeps serving; the database as it was before is in the newest snapshot/, `the error says so: ${r.error}`);
    assert.match((await httpGet(url("/"))).body, /jobs 2\.0\.0/, "v2 still serves");
    assert.equal(await jobCount(), before, "with its data");
    assert.equal(await sql("select count(*) from information_schema.columns where table_name = 'jobs_job' and column_name = 'note'"), "0", "the failed migration left no column (rolled back)");
    // The newest dump, restored into a scratch database, has the rows from before the run.
    // As root over SSH: the app's folder is in /root.
    const newest = (await serverExec(server, ["sh", "-c", `ls -1 /root/.pydeploy/${APP}/snapshots/db-*.dump | tail -n 1`])).stdout.trim();
    assert.match(newest, /db-\d{8}T\d{6}Z\.dump$/, "a dated dump");
    await serverExec(server, ["docker", "exec", `${APP}-db`, "createdb", "--username", DB, "scratch"]);
    await serverExec(server, ["sh", "-c", `docker exec -i ${APP}-db pg_restore --no-owner --username ${DB} --dbname scratch < ${newest}`]);
    const restored = (await serverExec(server, ["docker", "exec", `${APP}-db`, "psql", "--username", DB, "--dbname", "scratch", "-At", "-c", "select count(*) from jobs_job"])).stdout.trim();
    assert.equal(Number(restored), before, "the snapshot holds every job from before the failed run");
  });

  test("a service's own change (its image) replaces only it, in place: the data survives and the preview states it", async () => {
    const before = await jobCount();
    const cacheId = (await serverExec(server, ["docker", "inspect", "--format", "{{.Id}}", `${APP}-cache`])).stdout.trim();
    // Another reference to the same image: a change of the service's settings, not of its data.
    await serverExec(server, ["docker", "tag", images.postgres, `${images.postgres}-patched`]);
    images = { ...images, postgres: `${images.postgres}-patched` };
    const preview = await stack().preview();
    assert.ok(ops(preview).some((o) => o === `${APP}-services:update`), `the preview shows the services step's update: ${ops(preview).join(", ")}`);
    const r = mustSucceed(await stack().up(), "postgres image change");
    assert.match(stepOutput(r, `${APP}-services`), new RegExp(`service db: its settings changed; replacing ${APP}-db \\(its data stays in ${APP}-db-data\\)[\\s\\S]*service cache: .* left alone`), "db replaced, cache left alone");
    assert.equal((await serverExec(server, ["docker", "inspect", "--format", "{{.Id}}", `${APP}-cache`])).stdout.trim(), cacheId, "the same Redis container");
    assert.equal(await jobCount(), before, "the data survived the new container");
  });

  test("a major version change is refused before anything changes, and says why", async () => {
    const ids = await serviceIds();
    const r = await stack({ services: { db: { kind: "postgres", version: 16, image: images.postgres } } }).up();
    assert.equal(r.ok, false, "the up fails");
    assert.match(r.error ?? "", new RegExp(`service db: its data \\(volume ${APP}-db-data\\) is PostgreSQL 15, and the config asks for 16\\. .*pg_upgrade.*Nothing was changed\\.`), `the reason: ${r.error}`);
    assert.equal(await serviceIds(), ids, "the service containers are the same");
    assert.match((await httpGet(url("/health"))).body, /ok/, "the app still serves");
  });

  test("destroy keeps the data volumes and says so; with removeVolumesOnDestroy set first, they go", async () => {
    const kept = mustSucceed(await stack().destroy(), "destroy");
    assert.match(stepOutput(kept, `${APP}-host`), new RegExp(`keeping volumes .*${APP}-db-data`), "it says the database's volume is kept");
    const volumes = async () => (await serverExec(server, ["docker", "volume", "ls", "--quiet", "--filter", `label=pydeploy.app=${APP}`])).stdout.trim().split("\n").filter(Boolean).sort();
    assert.deepEqual(await volumes(), [`${APP}-cache-data`, `${APP}-db-data`], "both data volumes stay");
    assert.equal((await serverExec(server, ["docker", "ps", "-aq", "--filter", `label=pydeploy.service-of=${APP}`])).stdout.trim(), "", "no service container is left");
    deploy = { ...deploy, removeVolumesOnDestroy: true };
    mustSucceed(await stack().up(), "up again with removeVolumesOnDestroy");
    assert.equal(await sql("select word from jobs_job where result = 'HELLO'"), "hello", "the kept volume brought the data back");
    mustSucceed(await stack().destroy(), "destroy with removeVolumesOnDestroy");
    assert.deepEqual(await volumes(), [], "the data volumes are gone");
  });
});
