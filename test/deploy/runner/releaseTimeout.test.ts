// How long a release may take: each role gets its own full deploy.healthTimeoutSeconds to pass
// its gate (the release step has no overall Pulumi timeout), so an app with more roles gets
// more time, and one slow role cannot eat the time of the next. Virtual time (node:test mock
// timers): a role "becomes healthy" a given number of seconds after it started.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { ReleaseContainerSettings, RoleSettings } from "../../../components/deploy/containerSpec";
import type { Argv } from "../../../components/deploy/dockerCommands";
import { deployRelease } from "../../../components/deploy/runner/release";
import type { CommandResult, DockerHost, RunOptions } from "../../../components/deploy/runner/transport";
import { FakeDockerHost } from "../../support/docker/fakeDocker";

const WEB: RoleSettings = { role: "web", command: ["python", "-m", "demo.web"], ports: [{ host: 8080, container: 8000 }], gate: { kind: "http", port: 8000, path: "/health" }, mounts: [], upstreams: [] };
const API: RoleSettings = { role: "api", command: ["python", "-m", "demo.api"], ports: [{ host: 9000, container: 9000 }], gate: { kind: "tcp", port: 9000 }, mounts: [], upstreams: [] };
const POLL_MS = 250;

const spec = (roles: RoleSettings[]): ReleaseContainerSettings => ({
  app: "demo",
  image: "pydeploy/demo:v1",
  imageIdentity: `sha256:${"1".repeat(64)}`,
  roles,
  envFile: ".pydeploy/demo/app.env",
  logMaxSize: "10m",
  logMaxFiles: 3,
  stopGraceSeconds: 30,
  version: "v1",
});

/** The fake Docker host, where a role's gate probe fails until it has run `readyAfterSeconds[role]` (virtual) seconds. */
class SlowStartHost implements DockerHost {
  readonly description = "a host whose roles start slowly";
  readonly fake = new FakeDockerHost();
  readonly started = new Map<string, number>();
  constructor(readonly readyAfterSeconds: Record<string, number>) {
    this.fake.addImage({ tag: "pydeploy/demo:v1", app: "demo" });
  }
  get bytesSent(): number {
    return this.fake.bytesSent;
  }
  async run(argv: Argv, opts?: RunOptions): Promise<CommandResult> {
    if (argv[1] === "run") this.started.set(argv[argv.indexOf("--name") + 1], Date.now());
    if (argv[1] === "exec") {
      const name = argv[2];
      const role = name.split("-")[1];
      const since = Date.now() - (this.started.get(name) ?? Infinity);
      if (!(since >= this.readyAfterSeconds[role] * 1000)) return { code: 1, stdout: "HTTP 503 Service Unavailable\n", stderr: "" };
    }
    return this.fake.run(argv, opts);
  }
  async close(): Promise<void> {}
}

/** Runs the release on virtual time: each turn lets every pending step finish, then moves the clock one poll on. */
async function releaseOnVirtualTime(host: SlowStartHost, roles: RoleSettings[], healthTimeoutSeconds: number) {
  const lines: string[] = [];
  const begin = Date.now();
  let outcome: { error?: Error; done: boolean } = { done: false };
  deployRelease(host, spec(roles), { healthTimeoutSeconds, keepImages: 3, log: (l) => lines.push(l), pollMs: POLL_MS }).then(
    () => (outcome = { done: true }),
    (error: Error) => (outcome = { error, done: true }),
  );
  for (let turns = 0; !outcome.done; turns++) {
    assert.ok(turns < 10_000, `the release did not end within ${turns} turns of virtual time: ${lines.join("\n")}`);
    await new Promise((r) => setImmediate(r));
    if (!outcome.done) mock.timers.tick(POLL_MS);
  }
  return { error: outcome.error, lines, seconds: (Date.now() - begin) / 1000 };
}

describe("the release's time bound: per role, not per release", { timeout: 60_000 }, () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.parse("2026-01-01T00:00:00Z") }));
  afterEach(() => mock.timers.reset());

  test("two slow roles, each needing 70% of the health timeout, both pass: together they take longer than one timeout", async () => {
    const host = new SlowStartHost({ web: 7, api: 7 });
    const r = await releaseOnVirtualTime(host, [WEB, API], 10);
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}\n${r.lines.join("\n")}`);
    assert.ok(r.lines.includes("role web: demo-web-v1 passed GET :8000/health"), `the web passed: ${r.lines.join("\n")}`);
    assert.ok(r.lines.includes("role api: demo-api-v1 passed TCP :9000"), `the api passed: ${r.lines.join("\n")}`);
    assert.ok(r.seconds >= 14, `the release took ${r.seconds}s of virtual time: at least 7 s per role, more than one 10 s timeout`);
  });

  test("three roles at 90% each still pass: the bound grows with the number of roles", async () => {
    const WORKER_API: RoleSettings = { ...API, role: "admin", ports: [{ host: 9100, container: 9100 }], gate: { kind: "tcp", port: 9100 } };
    const host = new SlowStartHost({ web: 9, api: 9, admin: 9 });
    const r = await releaseOnVirtualTime(host, [WEB, API, WORKER_API], 10);
    assert.equal(r.error, undefined, `no error expected: ${r.error?.message}`);
    assert.ok(r.seconds >= 27 && r.seconds < 30, `27 to 30 s of virtual time for three roles of 9 s each, got ${r.seconds}`);
  });

  test("a role slower than the timeout fails after its own full timeout, naming it; the roles before it had theirs", async () => {
    const host = new SlowStartHost({ web: 8, api: 12 });
    const r = await releaseOnVirtualTime(host, [WEB, API], 10);
    assert.equal(r.error?.message, "role api did not become healthy: timed out, last answer: HTTP 503 Service Unavailable (gate TCP :9000, timeout 10s)", "the api timed out");
    assert.ok(r.seconds >= 18, `the web's 8 s, then the api's whole 10 s: ${r.seconds}s`);
    assert.deepEqual(host.fake.states(), {}, "the failed first release leaves nothing behind");
  });
});
