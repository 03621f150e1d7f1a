// The release logic by behaviour, against an in-memory Docker host (test/support/docker/fakeDocker.ts):
// gates, crash detection, rollback, dropped roles, kept containers and pruned images.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReleaseContainerSettings, RoleSettings } from "../../../components/deploy/containerSpec";
import { ReleaseError, deployRelease } from "../../../components/deploy/runner/release";
import { HostCommandError } from "../../../components/deploy/runner/transport";
import { Behaviour, FakeDockerHost } from "../../support/docker/fakeDocker";
import { demoReleaseContainerSettings } from "../../support/deploy/releaseContainerSettings";

const WEB: RoleSettings = { role: "web", command: ["python", "-m", "demo.web"], ports: [{ host: 8080, container: 8000 }], gate: { kind: "http", port: 8000, path: "/health" }, mounts: [], upstreams: [] };
const WORKER: RoleSettings = { role: "worker", command: ["python", "-m", "demo.worker"], ports: [], gate: { kind: "running" }, mounts: [], upstreams: [] };

const spec = (version: string, image: string, roles: RoleSettings[] = [WEB, WORKER]): ReleaseContainerSettings => demoReleaseContainerSettings(version, image, roles);
/** A release of web and worker whose containers carry these role versions. */
const labelled = (version: string, image: string, web: string, worker: string): ReleaseContainerSettings => ({ ...spec(version, image), roleVersions: { web, worker } });

function fakeHost(behaviours: Record<string, Behaviour> = {}): FakeDockerHost {
  const host = new FakeDockerHost();
  host.behaviour = ({ image, role }) => behaviours[`${image} ${role}`] ?? behaviours[image] ?? { kind: "healthy" };
  return host;
}

type Extra = { keepImages?: number; timeout?: number; volumes?: { names: string[]; ownerUid: number }; releaseCommand?: { command: string[]; timeoutSeconds: number; key: string; markerFile: string } };
async function release(host: FakeDockerHost, s: ReleaseContainerSettings, o: Extra = {}) {
  const lines: string[] = [];
  // What the ship step does before every release.
  host.addImage({ tag: s.image, app: "demo" });
  try {
    const result = await deployRelease(host, s, {
      healthTimeoutSeconds: o.timeout ?? 2,
      keepImages: o.keepImages ?? 3,
      log: (l) => lines.push(l),
      pollMs: 5,
      runningGateSeconds: 0.05,
      volumes: o.volumes,
      releaseCommand: o.releaseCommand,
    });
    return { result, lines, error: undefined as Error | undefined };
  } catch (err) {
    return { result: undefined, lines, error: err as Error };
  }
}

const runs = (host: FakeDockerHost) => host.history.filter((a) => a[1] === "run").map((a) => a[a.indexOf("--name") + 1]);

describe("deployRelease against a fake Docker host", { timeout: 30_000 }, () => {
  test("a first release starts web, then worker, and reports both containers", async () => {
    const host = fakeHost();
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.deepEqual(r.result, { version: "v1", containers: ["demo-web-v1", "demo-worker-v1"] }, "the result names both containers");
    assert.deepEqual(runs(host), ["demo-web-v1", "demo-worker-v1"], "web is started before worker");
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running" }, "both run");
    assert.ok(r.lines.includes("role web: demo-web-v1 passed GET :8000/health"), `the web gate is logged: ${r.lines.join("\n")}`);
    assert.ok(r.lines.includes("role worker: demo-worker-v1 passed running for 0.05s"), `the worker gate is logged: ${r.lines.join("\n")}`);
  });

  test("the same release again starts nothing", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const before = host.history.length;
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error, undefined, "no error expected");
    assert.deepEqual(runs(host), ["demo-web-v1", "demo-worker-v1"], "no second docker run");
    assert.ok(!host.history.slice(before).some((a) => a[1] === "stop" || a[1] === "start"), "nothing stopped or started");
    assert.ok(r.lines.includes("role web: demo-web-v1 already runs"), "says the web already runs");
  });

  test("a redeploy stops the old containers (kept) and runs the new ones", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const r = await release(host, spec("v2", "pydeploy/demo:v2"));
    assert.equal(r.error, undefined, "no error expected");
    assert.deepEqual(host.states(), { "demo-web-v1": "exited", "demo-worker-v1": "exited", "demo-web-v2": "running", "demo-worker-v2": "running" }, "v1 kept stopped, v2 runs");
    const stops = host.history.filter((a) => a[1] === "stop");
    assert.deepEqual(stops, [["docker", "stop", "--time", "30", "demo-web-v1"], ["docker", "stop", "--time", "30", "demo-worker-v1"]], "each old container gets a graceful stop with the grace period");
  });

  test("a role whose image, env and settings did not change keeps its container running; the changed one is released", async () => {
    const host = fakeHost();
    await release(host, labelled("v1", "pydeploy/demo:v1", "web-a", "worker-a"));
    const webOnPath = { ...WEB, gate: { kind: "http" as const, port: 8000, path: "/ready" } };
    const r = await release(host, { ...spec("v2", "pydeploy/demo:v1", [webOnPath, WORKER]), roleVersions: { web: "web-b", worker: "worker-a" } });
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.deepEqual(r.result, { version: "v2", containers: ["demo-web-v2", "demo-worker-v1"] }, "the release names the worker it kept");
    assert.deepEqual(runs(host), ["demo-web-v1", "demo-worker-v1", "demo-web-v2"], "only the web runs anew");
    assert.ok(!host.history.some((a) => a[1] === "stop" && a.includes("demo-worker-v1")), "the worker is never stopped");
    assert.deepEqual(host.states(), { "demo-web-v1": "exited", "demo-worker-v1": "running", "demo-web-v2": "running" }, "the old web kept for rollback, the worker of v1 runs");
    assert.ok(r.lines.includes("role worker: demo-worker-v1 keeps running: its image, env and settings did not change"), `it says why: ${r.lines.join("\n")}`);
    const labels = host.history.find((a) => a[1] === "run" && a.includes("demo-web-v2"))!;
    assert.ok(labels.includes("pydeploy.role-version=web-b"), `the new container carries its role version: ${labels.join(" ")}`);
  });

  test("a running container of another role version, or of none (created before role versions), is restarted", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"));
    await release(host, labelled("v2", "pydeploy/demo:v1", "web-a", "worker-a"));
    assert.deepEqual(runs(host), ["demo-web-v1", "demo-worker-v1", "demo-web-v2", "demo-worker-v2"], "unlabelled containers are replaced");
    await release(host, labelled("v3", "pydeploy/demo:v1", "web-a", "worker-b"));
    assert.deepEqual(host.states(), { "demo-web-v1": "exited", "demo-worker-v2": "exited", "demo-web-v2": "running", "demo-worker-v3": "running" }, "the worker of another role version is replaced, the web kept");
  });

  test("a stopped container with the role's role version is not kept: the role gets a container of this version", async () => {
    const host = fakeHost();
    await release(host, labelled("v1", "pydeploy/demo:v1", "web-a", "worker-a"));
    await release(host, labelled("v2", "pydeploy/demo:v1", "web-a", "worker-b"));
    const r = await release(host, labelled("v3", "pydeploy/demo:v1", "web-a", "worker-a"));
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.deepEqual(runs(host), ["demo-web-v1", "demo-worker-v1", "demo-worker-v2", "demo-worker-v3"], "the worker runs anew; the web of v1 throughout");
    assert.ok(!r.lines.some((l) => l.startsWith("role worker:") && l.includes("keeps running")), `the stopped worker of v1 is not said to keep running: ${r.lines.join("\n")}`);
  });

  test("when the changed role fails its gate, it goes back and the kept role was never touched", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 web": { kind: "unhealthy" } });
    await release(host, labelled("v1", "pydeploy/demo:v1", "web-a", "worker-a"));
    const before = host.history.length;
    const r = await release(host, labelled("v2", "pydeploy/demo:v2", "web-b", "worker-a"));
    assert.match(r.error?.message ?? "", /role web did not become healthy/, "the web's failure is reported");
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running" }, "v1's web runs again beside the worker");
    assert.ok(!host.history.slice(before).some((a) => (a[1] === "stop" || a[1] === "start" || a[1] === "rm") && a.includes("demo-worker-v1")), "nothing was done to the worker");
  });

  test("given containers (a roll back): stopped ones start again, running ones stay; one that is gone fails before anything changes", async () => {
    const host = fakeHost();
    await release(host, labelled("v1", "pydeploy/demo:v1", "web-a", "worker-a"));
    await release(host, labelled("v2", "pydeploy/demo:v2", "web-b", "worker-a"));
    const back = await release(host, { ...spec("v1", "pydeploy/demo:v2"), containers: { web: "demo-web-v1", worker: "demo-worker-v1" } });
    assert.equal(back.error, undefined, `no error expected: ${back.error?.message}`);
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running", "demo-web-v2": "exited" }, "the web of v1 runs again; the worker stayed");
    assert.ok(back.lines.includes("role worker: demo-worker-v1 already runs"), "the worker is left alone");
    const before = host.history.length;
    const gone = await release(host, { ...spec("v0", "pydeploy/demo:v2"), containers: { web: "demo-web-v1", worker: "demo-worker-v0" } });
    assert.equal(gone.error?.message, "role worker: container demo-worker-v0 is gone, so the release cannot go back to it", "the missing container is named");
    assert.ok(!host.history.slice(before).some((a) => ["run", "stop", "start", "rm"].includes(a[1])), "nothing was started, stopped or removed");
  });

  test("an unhealthy web fails its gate: its logs are shown, it is removed, the previous web runs again, the worker is untouched", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 web": { kind: "unhealthy" } });
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const r = await release(host, spec("v2", "pydeploy/demo:v2"));
    assert.ok(r.error instanceof ReleaseError, `a ReleaseError is expected, got ${r.error}`);
    assert.equal(r.error!.message, "role web did not become healthy: container demo-web-v2 is unhealthy (docker healthcheck) (gate GET :8000/health, timeout 2s)", "the error names role, reason, gate and timeout");
    assert.ok(r.lines.includes("  | log of demo-web-v2"), `the new container's log is shown: ${r.lines.join("\n")}`);
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running" }, "v2 is gone, v1 runs");
    assert.ok(r.lines.includes("the previous version runs again: demo-web-v1"), "the rollback is logged");
  });

  test("a web that never answers 2xx times out with the last answer it gave", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 web": { kind: "slow", failedProbes: 1_000_000 } });
    const r = await release(host, spec("v2", "pydeploy/demo:v2"), { timeout: 1 });
    assert.equal(r.error?.message, "role web did not become healthy: timed out, last answer: HTTP 503 Service Unavailable (gate GET :8000/health, timeout 1s)", "timeout with last answer");
    assert.deepEqual(host.states(), {}, "nothing of the failed first release remains");
  });

  test("a web that needs a few probes passes", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 web": { kind: "slow", failedProbes: 3 } });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    const probes = host.history.filter((a) => a[1] === "exec" && a[2] === "demo-web-v1").length;
    assert.equal(probes, 4, "three failed probes, then one that passes");
  });

  test("a worker that crashes and is restarted by its restart policy fails its gate, and the web is rolled back too", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 worker": { kind: "crashloop" } });
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const r = await release(host, spec("v2", "pydeploy/demo:v2"));
    assert.equal(r.error?.message, "role worker did not become healthy: container demo-worker-v2 crashed and was restarted (gate running for 0.05s, timeout 2s)", "crash detected");
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running" }, "both roles are back on v1");
  });

  test("a container that exits at once fails with its exit code", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 worker": { kind: "exits", code: 3 } });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error?.message, "role worker did not become healthy: container demo-worker-v1 exited (exit code 3) (gate running for 0.05s, timeout 2s)", "exit detected");
    assert.deepEqual(host.states(), {}, "the first release left nothing behind");
  });

  test("roles are booted in the spec's order; with the worker first the worker boots first", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1", [WORKER, WEB]));
    assert.deepEqual(runs(host), ["demo-worker-v1", "demo-web-v1"], "the runner follows the given order (roles.ts decides it)");
  });

  test("a dropped role is stopped after the release and kept as its role's rollback", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const r = await release(host, spec("v2", "pydeploy/demo:v2", [WEB]));
    assert.equal(r.error, undefined, "no error expected");
    assert.ok(r.lines.includes("stopping demo-worker-v1: role worker is no longer part of the app"), "the dropped role is named");
    assert.deepEqual(host.states(), { "demo-web-v1": "exited", "demo-worker-v1": "exited", "demo-web-v2": "running" }, "worker stopped, not removed");
  });

  test("per role only the newest stopped container is kept", async () => {
    const host = fakeHost();
    for (const v of ["v1", "v2", "v3"]) {
      const r = await release(host, spec(v, `pydeploy/demo:${v}`));
      assert.equal(r.error, undefined, `release ${v} succeeds`);
    }
    assert.deepEqual(host.states(), { "demo-web-v2": "exited", "demo-worker-v2": "exited", "demo-web-v3": "running", "demo-worker-v3": "running" }, "v1 removed, v2 kept, v3 runs");
  });

  test("deploying the previous version again restarts its kept containers instead of creating new ones", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"));
    await release(host, spec("v2", "pydeploy/demo:v2"));
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error, undefined, "no error expected");
    assert.ok(r.lines.includes("role web: starting the existing container demo-web-v1 again"), "the kept container is reused");
    assert.deepEqual(runs(host), ["demo-web-v1", "demo-worker-v1", "demo-web-v2", "demo-worker-v2"], "no third docker run");
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running", "demo-web-v2": "exited", "demo-worker-v2": "exited" }, "v1 runs, v2 kept");
  });

  test("a failed rollback target restarted again is stopped once more", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 web": { kind: "healthy" } });
    await release(host, spec("v1", "pydeploy/demo:v1"));
    await release(host, spec("v2", "pydeploy/demo:v2"));
    // v1's web turns unhealthy when started again: v2 must be back.
    host.behaviour = ({ image, role }) => (image === "pydeploy/demo:v1" && role === "web" ? { kind: "unhealthy" } : { kind: "healthy" });
    for (const c of host.containers.values()) if (c.name === "demo-web-v1") c.behaviour = { kind: "unhealthy" };
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.ok(r.error, "the release fails");
    assert.deepEqual(host.states(), { "demo-web-v1": "exited", "demo-worker-v1": "exited", "demo-web-v2": "running", "demo-worker-v2": "running" }, "v2 runs again, v1 is stopped, not removed");
  });

  test("exactly keepImages app images stay: the running one, the rollback's, then the newest", async () => {
    const host = fakeHost();
    for (const v of ["v1", "v2", "v3", "v4", "v5"]) await release(host, spec(v, `pydeploy/demo:${v}`), { keepImages: 3 });
    const tags = [...host.images.values()].map((i) => i.tags[0]).sort();
    assert.deepEqual(tags, ["pydeploy/demo:v3", "pydeploy/demo:v4", "pydeploy/demo:v5"], "v5 runs, v4 is the rollback, v3 is the newest unused");
  });

  test("an image some container still uses is never pruned, even beyond keepImages", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"), { keepImages: 2 });
    await release(host, spec("v2", "pydeploy/demo:v2"), { keepImages: 2 });
    await release(host, spec("v3", "pydeploy/demo:v3", [WEB]), { keepImages: 2 });
    // v1: no container left; v2: the web's and the dropped worker's rollback; v3: running.
    const tags = [...host.images.values()].map((i) => i.tags[0]).sort();
    assert.deepEqual(tags, ["pydeploy/demo:v2", "pydeploy/demo:v3"], "v1 pruned; v2 (both roles' rollback) and v3 (running) in use");
  });
});

describe("volumes and the release command", { timeout: 30_000 }, () => {
  const DATA = { volume: "demo-data", path: "/data" };
  const withData = (v: string, image: string) => spec(v, image, [{ ...WEB, mounts: [DATA] }, WORKER]);
  const migrate = (key: string, timeoutSeconds = 2) => ({ command: ["python", "manage.py", "migrate"], timeoutSeconds, key, markerFile: ".pydeploy/demo/release-command" });
  const oneoff = { "pydeploy/demo:v1 release-command": { kind: "exits", code: 0 }, "pydeploy/demo:v2 release-command": { kind: "exits", code: 0 } } as Record<string, Behaviour>;

  test("a new volume is created once and handed to the app's uid; the web mounts it", async () => {
    const host = fakeHost();
    await release(host, withData("v1", "pydeploy/demo:v1"), { volumes: { names: ["demo-data"], ownerUid: 10001 } });
    assert.deepEqual([...host.volumes], [["demo-data", 10001]], "created and chowned");
    await release(host, withData("v2", "pydeploy/demo:v2"), { volumes: { names: ["demo-data"], ownerUid: 10001 } });
    assert.equal(host.history.filter((a) => a[1] === "volume" && a[2] === "create").length, 1, "created only once");
    const web = [...host.containers.values()].find((c) => c.name === "demo-web-v2")!;
    assert.ok(web.argv.includes("type=volume,source=demo-data,target=/data,volume-nocopy"), "the web mounts it");
  });

  test("the release command runs once, in a one-off container with the env and volumes, before any role switches", async () => {
    const host = fakeHost(oneoff);
    await release(host, withData("v1", "pydeploy/demo:v1"), { volumes: { names: ["demo-data"], ownerUid: 10001 } });
    const before = host.history.length;
    const r = await release(host, withData("v2", "pydeploy/demo:v2"), { volumes: { names: ["demo-data"], ownerUid: 10001 }, releaseCommand: migrate("key-v2") });
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    const runsAndStops = host.history.slice(before).filter((a) => a[1] === "run" || a[1] === "stop").map((a) => (a[1] === "stop" ? `stop ${a.at(-1)}` : `run ${a[a.indexOf("--name") + 1]}`));
    assert.deepEqual(runsAndStops, ["run demo-release-v2", "stop demo-web-v1", "run demo-web-v2", "stop demo-worker-v1", "run demo-worker-v2"], "migrate before the first switch");
    const oneOff = host.history.find((a) => a[1] === "run" && a.includes("demo-release-v2"))!;
    assert.deepEqual(oneOff.slice(-4), ["pydeploy/demo:v2", "python", "manage.py", "migrate"], "the new image runs the command");
    assert.ok(oneOff.includes(".pydeploy/demo/app.env") && oneOff.includes("type=volume,source=demo-data,target=/data,volume-nocopy"), "with the env file and the volume");
    assert.ok(r.lines.includes("  | log of demo-release-v2"), "its output is in the deploy log");
    assert.ok(![...host.containers.values()].some((c) => c.name === "demo-release-v2"), "the one-off container is removed");
    assert.equal(host.files.get(".pydeploy/demo/release-command"), "key-v2\n", "what it ran for is recorded");

    const again = await release(host, withData("v2", "pydeploy/demo:v2"), { releaseCommand: migrate("key-v2") });
    assert.ok(again.lines.includes("release command: already ran for this image, env and command"), "not run twice for the same key");
    assert.equal(host.history.filter((a) => a.includes("demo-release-v2") && a[1] === "run").length, 1, "one run only");
  });

  test("a failing release command fails the deploy before anything switches: the old version keeps running", async () => {
    const host = fakeHost({ ...oneoff, "pydeploy/demo:v2 release-command": { kind: "exits", code: 1 } });
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const r = await release(host, spec("v2", "pydeploy/demo:v2"), { releaseCommand: migrate("key-v2") });
    assert.equal(r.error?.message, "the release command `python manage.py migrate` exited 1: nothing was switched, the previous version keeps serving", "clear error");
    assert.deepEqual(host.states(), { "demo-web-v1": "running", "demo-worker-v1": "running" }, "v1 untouched, nothing of v2");
    assert.equal(host.files.get(".pydeploy/demo/release-command"), undefined, "a failed run is not recorded");
  });

  test("a release command that does not finish in time is stopped and fails the deploy", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 release-command": { kind: "healthy" } });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"), { releaseCommand: migrate("key-v1", 1) });
    assert.equal(r.error?.message, "the release command `python manage.py migrate` did not finish within 1s and was stopped: nothing was switched, the previous version keeps serving", "timeout");
    assert.deepEqual(host.states(), {}, "the one-off container is gone, no role started");
  });
});

/** A log line with its durations ("1.2 s") as "N s": the line, not the machine's speed. */
const tenths = (line: string) => line.replace(/\d+\.\d s\b/g, "N s");

describe("the deploy log of a release, line by line", { timeout: 30_000 }, () => {
  const DATA = { volume: "demo-data", path: "/data" };
  const withData = (v: string) => spec(v, `pydeploy/demo:${v}`, [{ ...WEB, mounts: [DATA] }, WORKER]);
  const migrate = (key: string) => ({ command: ["python", "manage.py", "migrate"], timeoutSeconds: 2, key, markerFile: ".pydeploy/demo/release-command" });

  test("a third release: volume, release command, each role stopped, started and gated, old containers and images tidied", async () => {
    const host = fakeHost({ "pydeploy/demo:v3 release-command": { kind: "exitsAfter", looks: 3, code: 0 } });
    const first = await release(host, withData("v1"), { keepImages: 2 });
    assert.deepEqual(
      first.lines.slice(1).map(tenths),
      [
        "role web: starting demo-web-v1", "role web: demo-web-v1 passed GET :8000/health", "role worker: starting demo-worker-v1", "role worker: demo-worker-v1 passed running for 0.05s", "release v1 of demo is live: demo-web-v1 demo-worker-v1",
        "release v1 took N s: web N s, worker N s, tidy N s",
      ],
      "a first release: nothing to stop, nothing to tidy, no warning",
    );
    await release(host, withData("v2"), { keepImages: 2 });
    // A second name for v1's image: pruning it by ID takes --force, as on Docker.
    const v1 = [...host.images.values()].find((i) => i.tags.includes("pydeploy/demo:v1"))!;
    v1.tags.push("pydeploy/demo:v1-copy");
    host.volumes.delete("demo-data");
    const r = await release(host, withData("v3"), { keepImages: 2, volumes: { names: ["demo-data"], ownerUid: 10001 }, releaseCommand: migrate("key-v3") });
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.deepEqual(
      r.lines.map(tenths),
      [
        `release v3 of demo: image pydeploy/demo:v3 (${spec("v3", "").imageIdentity})`,
        "created volume demo-data, owned by uid 10001",
        "release command: python manage.py migrate",
        "  | log of demo-release-v3",
        "release command: done",
        "role web: stopping demo-web-v2 (kept for rollback)",
        "role web: starting demo-web-v3",
        "role web: demo-web-v3 passed GET :8000/health",
        "role worker: stopping demo-worker-v2 (kept for rollback)",
        "role worker: starting demo-worker-v3",
        "role worker: demo-worker-v3 passed running for 0.05s",
        "release v3 of demo is live: demo-web-v3 demo-worker-v3",
        // Newest stopped first: the worker stopped after the web.
        "removing old container demo-worker-v1",
        "removing old container demo-web-v1",
        `removing image ${v1.id}`,
        "release v3 took N s: release command N s, web N s, worker N s, tidy N s",
      ],
      "every step, in order, no warning, and where the time went",
    );
    assert.deepEqual(host.states(), { "demo-web-v2": "exited", "demo-worker-v2": "exited", "demo-web-v3": "running", "demo-worker-v3": "running" }, "v2 kept, v3 runs");
    const probe = host.history.find((a) => a[1] === "exec" && a[2] === "demo-web-v3");
    assert.equal(probe?.at(-1), "2", `the probe's own timeout (its last argument) is the health timeout when under 5 s: ${JSON.stringify(probe)}`);
    assert.deepEqual([...host.images.values()].map((i) => i.tags[0]).sort(), ["pydeploy/demo:v2", "pydeploy/demo:v3"], "v1's image is pruned");
  });

  test("a failed gate: the new container's log, then every undo, in order", async () => {
    const host = fakeHost({ "pydeploy/demo:v2 worker": { kind: "crashloop" } });
    await release(host, spec("v1", "pydeploy/demo:v1"));
    const r = await release(host, spec("v2", "pydeploy/demo:v2"));
    assert.equal(r.error?.name, "ReleaseError", "a ReleaseError");
    assert.deepEqual(
      r.lines,
      [
        `release v2 of demo: image pydeploy/demo:v2 (${spec("v2", "").imageIdentity})`,
        "role web: stopping demo-web-v1 (kept for rollback)",
        "role web: starting demo-web-v2",
        "role web: demo-web-v2 passed GET :8000/health",
        "role worker: stopping demo-worker-v1 (kept for rollback)",
        "role worker: starting demo-worker-v2",
        "role worker: container demo-worker-v2 crashed and was restarted; last 100 log lines of demo-worker-v2:",
        "  | log of demo-worker-v2",
        "removed demo-web-v2 demo-worker-v2",
        "the previous version runs again: demo-web-v1 demo-worker-v1",
      ],
      "the failure, its log, then the undo",
    );
  });

  test("a rollback that restarted a kept container stops it again, and removes nothing it did not create", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"));
    await release(host, spec("v2", "pydeploy/demo:v2"));
    for (const c of host.containers.values()) if (c.name === "demo-worker-v1") c.behaviour = { kind: "exits", code: 3 };
    host.behaviour = ({ image, role }) => (image === "pydeploy/demo:v1" && role === "worker" ? { kind: "exits", code: 3 } : { kind: "healthy" });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error?.message, "role worker did not become healthy: container demo-worker-v1 exited (exit code 3) (gate running for 0.05s, timeout 2s)", "the worker's failure");
    assert.deepEqual(
      r.lines.slice(r.lines.indexOf("  | log of demo-worker-v1") + 1),
      ["stopped demo-web-v1 demo-worker-v1 again", "the previous version runs again: demo-web-v2 demo-worker-v2"],
      "no removal: nothing was created",
    );
  });

  test("roles behind the proxy need a proxy", async () => {
    const host = fakeHost();
    const upstreams = [{ port: 8000, reach: { kind: "tcp" } }] as RoleSettings["upstreams"];
    const proxied = spec("v1", "pydeploy/demo:v1", [{ ...WEB, upstreams }, { ...WEB, role: "api", upstreams }, WORKER]);
    const r = await release(host, proxied);
    assert.equal(r.error?.message, "roles web, api are served through the proxy, but no proxy was given", "refused, naming them");
    assert.equal(r.error?.name, "ReleaseError", "a ReleaseError");
    assert.deepEqual(host.states(), {}, "before anything started");
  });
});

describe("the release command, once per key", { timeout: 30_000 }, () => {
  const migrate = (key: string, timeoutSeconds = 2) => ({ command: ["python", "manage.py", "migrate"], timeoutSeconds, key, markerFile: ".pydeploy/demo/release-command" });

  test("a command that runs a while is waited for until it exits, not for its whole timeout, then recorded", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 release-command": { kind: "exitsAfter", looks: 5, code: 0 } });
    const started = Date.now();
    const r = await release(host, spec("v1", "pydeploy/demo:v1"), { releaseCommand: migrate("key-v1", 10) });
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.ok(Date.now() - started < 5000, `done when it exited, well within its 10 s: ${Date.now() - started} ms`);
    assert.equal(host.files.get(".pydeploy/demo/release-command"), "key-v1\n", "recorded");
  });

  test("a command that fails after a while fails the deploy with its exit code", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 release-command": { kind: "exitsAfter", looks: 5, code: 2 } });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"), { releaseCommand: migrate("key-v1") });
    assert.equal(r.error?.message, "the release command `python manage.py migrate` exited 2: nothing was switched, the previous version keeps serving", "its exit code");
  });

  test("a marker of another image, env or command runs it again", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 release-command": { kind: "exits", code: 0 } });
    host.files.set(".pydeploy/demo/release-command", "key-v0\n");
    const r = await release(host, spec("v1", "pydeploy/demo:v1"), { releaseCommand: migrate("key-v1") });
    assert.ok(r.lines.includes("release command: python manage.py migrate"), `it ran: ${r.lines.join("\n")}`);
    assert.equal(host.files.get(".pydeploy/demo/release-command"), "key-v1\n", "the new key is recorded");
  });

  test("a one-off container left by an interrupted run is removed first", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 release-command": { kind: "exits", code: 0 } });
    host.addImage({ tag: "pydeploy/demo:v1", app: "demo" });
    await host.run(["docker", "run", "--detach", "--name", "demo-release-v1", "pydeploy/demo:v1"]);
    host.containers.forEach((c) => {
      if (c.name === "demo-release-v1") c.behaviour = { kind: "healthy" };
    });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"), { releaseCommand: migrate("key-v1") });
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.equal(host.files.get(".pydeploy/demo/release-command"), "key-v1\n", "it ran");
  });
});

describe("the running gate", { timeout: 30_000 }, () => {
  test("a worker that exits before it ran its time fails, though it was running at first", async () => {
    const host = fakeHost({ "pydeploy/demo:v1 worker": { kind: "exitsAfter", looks: 2, code: 1 } });
    const r = await release(host, spec("v1", "pydeploy/demo:v1"));
    assert.equal(r.error?.message, "role worker did not become healthy: container demo-worker-v1 exited (exit code 1) (gate running for 0.05s, timeout 2s)", "it did not run long enough");
  });
});

describe("tidying up after a release", { timeout: 30_000 }, () => {
  /** A fake host on which one kind of command fails, as a busy or broken daemon would. */
  function failing(matches: (argv: string[]) => boolean): FakeDockerHost {
    const host = fakeHost();
    const run = host.run.bind(host);
    host.run = async (argv, opts) => {
      if (matches(argv)) throw new HostCommandError(host.description, argv, { code: 1, stdout: "", stderr: "Error response from daemon: busy" });
      return run(argv, opts);
    };
    return host;
  }

  test("old containers that cannot be removed are a warning: the release stands", async () => {
    const host = failing((a) => a[1] === "rm" && a[2] !== "--force");
    for (const v of ["v1", "v2"]) await release(host, spec(v, `pydeploy/demo:${v}`));
    const r = await release(host, spec("v3", "pydeploy/demo:v3"));
    assert.deepEqual(r.result, { version: "v3", containers: ["demo-web-v3", "demo-worker-v3"] }, "v3 is released");
    assert.ok(r.lines.some((l) => l.startsWith("warning: could not tidy up old containers: on the fake Docker host: `docker rm")), `the warning: ${r.lines.join("\n")}`);
  });

  test("old images that cannot be removed are a warning: the release stands", async () => {
    const host = failing((a) => a[1] === "image" && a[2] === "rm");
    for (const v of ["v1", "v2", "v3"]) await release(host, spec(v, `pydeploy/demo:${v}`), { keepImages: 2 });
    const r = await release(host, spec("v4", "pydeploy/demo:v4"), { keepImages: 2 });
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.ok(r.lines.some((l) => l.startsWith("warning: could not prune old images: on the fake Docker host: `docker image rm")), `the warning: ${r.lines.join("\n")}`);
  });

  test("images of kept containers count as used, whichever role keeps them: none is removed, so no warning", async () => {
    const host = fakeHost();
    await release(host, spec("v1", "pydeploy/demo:v1"), { keepImages: 2 });
    await release(host, spec("v2", "pydeploy/demo:v2", [WEB]), { keepImages: 2 });
    const r = await release(host, spec("v3", "pydeploy/demo:v3", [WEB]), { keepImages: 2 });
    // Kept: demo-web-v2 (image v2) and demo-worker-v1 (image v1, the dropped worker's rollback); v3 runs.
    assert.deepEqual([...host.images.values()].map((i) => i.tags[0]).sort(), ["pydeploy/demo:v1", "pydeploy/demo:v2", "pydeploy/demo:v3"], "all three are in use");
    assert.ok(!r.lines.some((l) => l.startsWith("warning") || l.startsWith("removing image")), `no image is touched: ${r.lines.join("\n")}`);
  });
});
