// Deploy benchmark (`npm run bench:deploy`): on ONE fresh Docker-in-Docker test server, in one
// run, for the example app: our first deploy and our code-only redeploy (index.ts through the
// engine harness, target `existing`), then the seed blog post's manual flow on the same server
// (source over SSH, `docker build` there, `docker rm -f`, `docker run -p`), first and code-only.
// Per scenario: wall time until the new version answers, bytes over SSH counted by the server's
// own iptables, and failed/total requests of a steady load started before the deploy.
// Prints numbers and PASS/FAIL against issue 9's targets; not a test. Removes the server, its
// local images and temp dirs at the end, also after a failure or Ctrl-C.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LABEL_PROXY } from "../components/image/labels";
import { RUNNING_GATE_SECONDS } from "../components/config/fields";
import { readStackFile } from "../components/config/stackFile";
import { docker } from "./support/localDocker";
import { SshByteCounter, SshBytes } from "./support/sshByteCounter";
import { makeSeedProject, seedDeploy, SeedTimings } from "./support/seedFlow";
import { sshOnce } from "./support/sshOnce";
import {
  BASE_IMAGE, ensureBaseImage, ExampleProject, httpGet, lastLayerGzipSize, mustSucceed, programStack, REPO_ROOT, serverExec, shipResult, startLoad, startTestServer,
  stepOutput, stopTestServer, uniqueApp, uniqueName, type LoadResult, type RunningLoad, type RunResult, type SshConnection, type TestServer,
} from "./support/testFixtures";

// Issue 9's targets.
const WALL_RATIO_TARGET = 0.2;
const BYTES_LAYER_FACTOR = 1.5;
const BYTES_SLACK = 64 * 1024;

// The load: two open-loop clients at once, each request with a short timeout.
const CLIENTS = [
  { name: "GET keep-alive", keepAlive: true, rate: 15 },
  { name: "GET new connection", keepAlive: false, rate: 15 },
];
const REQUEST_TIMEOUT_MS = 3000;
/** The load runs this long before the deploy starts, and this long after the new version answers. */
const LOAD_LEAD_MS = 3000;
const LOAD_TAIL_MS = 5000;

const STACK = "bench";
const OUR_PORT = 8000; // the example stack's publish port (Pulumi.local.yaml)
const SEED_PORT = 8001; // the seed's `-p` host port, beside ours on the same server
const FIRST_VERSION = "1.0.0"; // example/demo/__init__.py
const NEXT_VERSION = "1.0.1";

interface Scenario {
  name: string;
  seconds: number;
  bytes: SshBytes;
  load: LoadResult;
  /** Where the time went. */
  detail: string;
}

const APP = uniqueApp("bench");
const cleanups: (() => Promise<void> | void)[] = [];

async function main(): Promise<void> {
  if (process.argv.length > 2) throw new Error(`unexpected arguments ${process.argv.slice(2).join(" ")}; usage: npm run bench:deploy (no arguments)`);
  ensureBaseImage();
  const started = performance.now();
  const server = await startTestServer({ name: uniqueName("pydeploy-bench-deploy-server") });
  cleanups.push(() => stopTestServer(server));
  const conn: SshConnection = { ...server.as("root"), hostKey: server.hostKey };
  const counter = await SshByteCounter.install(server);
  await checkCounter(counter, conn);
  const dockerVersion = (await serverExec(server, ["docker", "version", "--format", "{{.Server.Version}}"])).stdout.trim();

  console.log(`deploy benchmark: the example app (Pulumi.local.yaml's app, FROM ${BASE_IMAGE}) on one test server`);
  console.log(`  server ${server.container} (${server.host}), docker ${dockerVersion}, ${server.store} image store, reached as root over SSH`);
  console.log(`  load: ${CLIENTS.map((c) => `${c.name} ${c.rate} req/s`).join(" + ")}, open loop, ${REQUEST_TIMEOUT_MS / 1000} s timeout per request; ` +
    `failed = error, timeout or not HTTP 200; from ${LOAD_LEAD_MS / 1000} s before each deploy until ${LOAD_TAIL_MS / 1000} s after the new version answers`);
  console.log("  bytes: iptables counters in the server container, TCP to/from port 22 (IP and TCP headers included), zeroed before each deploy");
  console.log("  wall time: from the deploy's start until GET / answers with the new version");

  const scenarios: Scenario[] = [];
  const ours = await ourScenarios(server, counter);
  scenarios.push(...ours.scenarios);

  const base = await loadBaseImage(server);
  console.log(`  setup, not counted: loaded ${BASE_IMAGE} onto the server for the seed's FROM (docker save | docker exec -i … docker load, not over SSH): ${base}`);
  scenarios.push(...(await seedScenarios(server, conn, counter)));

  console.log("");
  printTable([
    ["scenario", "wall time (s)", "bytes to server over SSH", "bytes back", "failed/total requests", "failures", "where the time went"],
    ...scenarios.map((s) => [
      s.name,
      s.seconds.toFixed(1),
      bytesText(s.bytes.toServer),
      bytesText(s.bytes.fromServer),
      `${s.load.failed}/${s.load.total}`,
      Object.entries(s.load.failures).map(([k, n]) => `${k}×${n}`).join(" ") || "-",
      s.detail,
    ]),
  ]);
  console.log("  (first deploys: nothing answers on the port until the deploy ends, so the requests before that fail by construction)");

  const [ourFirst, ourRedeploy, seedFirst, seedRedeploy] = scenarios;
  const wallRatio = ourRedeploy.seconds / ourFirst.seconds;
  const byteLimit = BYTES_LAYER_FACTOR * ours.layerGzipBytes + BYTES_SLACK;
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  console.log("");
  console.log(`ratios: our redeploy / our first deploy = ${wallRatio.toFixed(3)}; seed redeploy / seed first = ${(seedRedeploy.seconds / seedFirst.seconds).toFixed(3)}; ` +
    `our redeploy / seed redeploy = ${(ourRedeploy.seconds / seedRedeploy.seconds).toFixed(3)}`);
  console.log(`changed layer: ${bytesText(ours.layerGzipBytes)} gzip'd (docker save + tar + gzip of the new image's last layer); ` +
    `the ship step says it sent ${bytesText(ours.shipBytesSent)} into docker load`);
  const targets: [string, boolean][] = [
    [`wall time: our code-only redeploy / our first deploy = ${wallRatio.toFixed(3)} (target <= ${WALL_RATIO_TARGET})`, wallRatio <= WALL_RATIO_TARGET],
    [`bytes: our code-only redeploy sent ${bytesText(ourRedeploy.bytes.toServer)} over SSH (target <= ${BYTES_LAYER_FACTOR} x ${bytesText(ours.layerGzipBytes)} + 64 KiB = ${bytesText(byteLimit)})`, ourRedeploy.bytes.toServer <= byteLimit],
    [`requests: our code-only redeploy failed ${ourRedeploy.load.failed} of ${ourRedeploy.load.total} (target 0)`, ourRedeploy.load.failed === 0 && ourRedeploy.load.total > 0],
  ];
  for (const [what, ok] of targets) console.log(`${verdict(ok)}  ${what}`);
  if (targets.some(([, ok]) => !ok)) {
    console.log("");
    console.log("our code-only redeploy's ship and release logs (for the targets that failed):");
    console.log(ours.redeployLog);
    if (wallRatio > WALL_RATIO_TARGET) await explainRedeployTime(ourRedeploy.seconds, ours.redeploySteps, ours.serverTag, conn);
    process.exitCode = 1;
  }
  console.log(`\n(whole run ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

/** index.ts up from nothing, then up after a code-only change. */
async function ourScenarios(server: TestServer, counter: SshByteCounter) {
  const project = new ExampleProject();
  cleanups.push(() => project.cleanup());
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-bench-deploy-state-"));
  cleanups.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  cleanups.push(() => removeLocalImages());
  const exampleApp = readStackFile(REPO_ROOT, "local").values.app as { roles: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  const app = {
    ...exampleApp,
    name: APP,
    path: project.dir,
    baseImage: BASE_IMAGE,
    roles: { ...exampleApp.roles, web: { ...exampleApp.roles.web, publish: OUR_PORT } },
  };
  const stack = programStack({
    stateDir,
    stack: STACK,
    config: {
      "pydeploy:target": "existing",
      "pydeploy:host": { address: server.host, port: 22, user: "root", hostKey: server.hostKey },
      "pydeploy:sshPrivateKey": server.privateKey,
      "pydeploy:app": app,
    },
    secretKeys: ["pydeploy:sshPrivateKey"],
  });
  const url = `http://${server.host}:${OUR_PORT}/`;

  const first = await measure("pydeploy first deploy", counter, url, FIRST_VERSION, async () => stepTimes(mustSucceed(await stack.up(), "our first deploy")));
  project.setVersion(NEXT_VERSION);
  let redeploy: RunResult | undefined;
  const second = await measure("pydeploy code-only redeploy", counter, url, NEXT_VERSION, async () => {
    redeploy = mustSucceed(await stack.up(), "our code-only redeploy");
    return stepTimes(redeploy);
  });
  const layerGzipBytes = await lastLayerGzipSize(`pydeploy/${APP}:${STACK}`);
  const shipped = shipResult(redeploy!, APP) as { bytesSent: number; serverTag?: string };
  if (!shipped.serverTag || !/^[a-z0-9/_.-]+:[0-9a-f]+$/.test(shipped.serverTag)) throw new Error(`the ship step reported no usable server tag: ${JSON.stringify(shipped)}`);
  const logOf = (step: string) => stepOutput(redeploy!, `${APP}-${step}`).trimEnd().split("\n").map((l) => `  ${step} | ${l}`).join("\n");
  return {
    scenarios: [first, second],
    layerGzipBytes,
    shipBytesSent: shipped.bytesSent,
    serverTag: shipped.serverTag,
    redeployLog: `${logOf("ship")}\n${logOf("release")}`,
    redeploySteps: Object.fromEntries(redeploy!.steps.filter((s) => s.ran).map((s) => [s.name.replace(`${APP}-`, ""), s.ms / 1000])),
  };
}

/** The seed's flow on the same server: a copy of the example with the post's Dockerfile and start.sh. */
async function seedScenarios(server: TestServer, conn: SshConnection, counter: SshByteCounter): Promise<Scenario[]> {
  const project = new ExampleProject();
  cleanups.push(() => project.cleanup());
  makeSeedProject(project.dir);
  const deploy = (version: string) => seedDeploy({
    conn,
    sourceDir: project.dir,
    remoteDir: `seed-${APP}`,
    baseImage: BASE_IMAGE,
    image: `seed-${APP}`,
    version,
    container: `seed-${APP}`,
    hostPort: SEED_PORT,
  });
  const url = `http://${server.host}:${SEED_PORT}/`;
  const seedTimes = (t: SeedTimings) => `copy ${t.copy.toFixed(1)}, build ${t.build.toFixed(1)}, rm -f + run ${t.replace.toFixed(1)}, then until it answers`;
  const first = await measure("seed flow first deploy", counter, url, FIRST_VERSION, async () => seedTimes(await deploy(FIRST_VERSION)));
  project.setVersion(NEXT_VERSION);
  const second = await measure("seed code-only redeploy", counter, url, NEXT_VERSION, async () => seedTimes(await deploy(NEXT_VERSION)));
  return [first, second];
}

/**
 * Runs `deploy` under the load and the byte counter: load first, counter zeroed, deploy, then
 * waits for GET / to answer the new version; the load goes on a few seconds more.
 */
async function measure(name: string, counter: SshByteCounter, url: string, version: string, deploy: () => Promise<string>): Promise<Scenario> {
  console.error(`${name} ...`);
  const loads: RunningLoad[] = CLIENTS.map((c) => startLoad({ url, rate: c.rate, keepAlive: c.keepAlive, timeoutMs: REQUEST_TIMEOUT_MS }));
  let results: Promise<LoadResult[]> | undefined;
  const stopLoads = () => (results ??= Promise.all(loads.map((l) => l.stop())));
  try {
    await sleep(LOAD_LEAD_MS);
    await counter.zero();
    const t0 = performance.now();
    const detail = await deploy();
    await waitForVersion(url, version);
    const seconds = (performance.now() - t0) / 1000;
    const bytes = await counter.read();
    await sleep(LOAD_TAIL_MS);
    const load = combine(await stopLoads());
    console.error(`${name}: ${seconds.toFixed(1)} s, ${bytesText(bytes.toServer)} to the server, ${load.failed}/${load.total} failed (${detail})`);
    return { name, seconds, bytes, load, detail };
  } finally {
    await stopLoads();
  }
}

async function waitForVersion(url: string, version: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const r = await httpGet(url, 1000).catch((err: Error) => ({ status: 0, body: err.message }));
    if (r.status === 200 && r.body.trimEnd().endsWith(` ${version}`)) return;
    last = `${r.status} ${r.body.trim().slice(0, 100)}`;
    await sleep(100);
  }
  throw new Error(`${url} did not answer version ${version} within ${timeoutMs / 1000} s (last: ${last})`);
}

/**
 * Where a code-only redeploy's time goes, measured apart after the scenarios: the engine's own
 * share (wall time minus its steps, which run one after another here), the deployer's
 * `docker save` + unpack of the whole image that the ship step does before it sends one layer,
 * and what single docker commands cost on the server over SSH.
 */
async function explainRedeployTime(wallSeconds: number, steps: Record<string, number>, serverTag: string, conn: SshConnection): Promise<void> {
  const stepSum = Object.values(steps).reduce((a, b) => a + b, 0);
  console.log("");
  console.log("where our code-only redeploy's time went (measured apart, after the scenarios):");
  console.log(`  steps ${Object.entries(steps).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(" + ")} = ${stepSum.toFixed(1)} s; ` +
    `the other ${(wallSeconds - stepSum).toFixed(1)} s of ${wallSeconds.toFixed(1)} s: the engine (program run, plan, step processes starting) and the wait for the new version`);
  const image = `pydeploy/${APP}:${STACK}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-bench-deploy-save-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    const t0 = performance.now();
    await runPiped(["docker", "save", image], ["tar", "-x", "-C", dir]);
    const seconds = (performance.now() - t0) / 1000;
    const bytes = Number((await docker(["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim());
    const t1 = performance.now();
    // Its stdout discarded by the OS (`--output /dev/null` would rename a temp file over /dev/null).
    const save = spawn("docker", ["save", image], { stdio: ["ignore", "ignore", "pipe"] });
    let saveErr = "";
    save.stderr.on("data", (d: Buffer) => (saveErr += d));
    const saved = await new Promise<number | null>((resolve) => save.on("close", resolve));
    if (saved !== 0) throw new Error(`docker save ${image} exited ${saved}: ${saveErr.trim()}`);
    const saveOnly = (performance.now() - t1) / 1000;
    console.log(`  deployer: docker save ${image} | tar -x (the whole ${bytesText(bytes)} image, as the ship step saves and unpacks it before sending only the changed layer): ${seconds.toFixed(1)} s; ` +
      `docker save alone, its output discarded: ${saveOnly.toFixed(1)} s`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const timedSsh = async (argv: string[]) => {
    const t0 = performance.now();
    const r = await sshOnce(conn, argv);
    if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
    return ((performance.now() - t0) / 1000).toFixed(1);
  };
  console.log(`  server over SSH: one \`docker version\` ${await timedSsh(["docker", "version", "--format", "{{.Server.Version}}"])} s; ` +
    `the ship step's start check (docker run --rm of the image) ${await timedSsh(["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", serverTag, "-c", "exit 0"])} s; ` +
    `the release gates a role without a port (the worker) by watching it run ${RUNNING_GATE_SECONDS} s`);
}

/** `a | b`, both argv; throws naming the one that failed. */
async function runPiped(a: string[], b: string[]): Promise<void> {
  const first = spawn(a[0], a.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const second = spawn(b[0], b.slice(1), { stdio: ["pipe", "ignore", "pipe"] });
  let errors = "";
  first.stderr.on("data", (d: Buffer) => (errors += d));
  second.stderr.on("data", (d: Buffer) => (errors += d));
  first.stdout.pipe(second.stdin);
  const exit = (p: { on(event: "close", f: (code: number | null) => void): unknown }) => new Promise<number | null>((resolve) => p.on("close", resolve));
  const [x, y] = await Promise.all([exit(first), exit(second)]);
  if (x !== 0 || y !== 0) throw new Error(`${a.join(" ")} | ${b.join(" ")} failed (${x}, ${y}): ${errors.trim()}`);
}

/** The steps of an up that executed something, with their durations (some run in parallel). */
function stepTimes(r: RunResult): string {
  return r.steps.filter((s) => s.ran).map((s) => `${s.name.replace(`${APP}-`, "")} ${(s.ms / 1000).toFixed(1)}`).join(", ");
}

function combine(results: LoadResult[]): LoadResult {
  const failures: Record<string, number> = {};
  const servedBy: Record<string, number> = {};
  for (const r of results) {
    for (const [k, n] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + n;
    for (const [k, n] of Object.entries(r.servedBy)) servedBy[k] = (servedBy[k] ?? 0) + n;
  }
  return {
    total: results.reduce((n, r) => n + r.total, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    failures,
    servedBy,
    seconds: Math.max(...results.map((r) => r.seconds)),
    maxLatencyMs: Math.max(...results.map((r) => r.maxLatencyMs)),
    p99LatencyMs: Math.max(...results.map((r) => r.p99LatencyMs)),
  };
}

/** The counter must see an SSH login's bytes, or every figure below would be a silent 0. */
async function checkCounter(counter: SshByteCounter, conn: SshConnection): Promise<void> {
  await counter.zero();
  const r = await sshOnce(conn, ["true"]);
  const seen = await counter.read();
  if (r.code !== 0 || seen.toServer <= 0 || seen.fromServer <= 0) {
    throw new Error(`the SSH byte counter saw ${JSON.stringify(seen)} for one SSH login (exit ${r.code}): it does not count`);
  }
}

/** docker save on this machine piped into the server container's docker load (not over SSH). */
async function loadBaseImage(server: TestServer): Promise<string> {
  const t0 = performance.now();
  await runPiped(["docker", "save", BASE_IMAGE], ["docker", "exec", "-i", server.container, "docker", "load"]);
  const bytes = Number((await docker(["image", "inspect", "--format", "{{.Size}}", BASE_IMAGE])).stdout.trim());
  return `${bytesText(bytes)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

/** The app and proxy images the harness built on this machine, and their build stages. */
async function removeLocalImages(): Promise<void> {
  for (const repo of [`pydeploy/${APP}`, `pydeploy/${APP}-proxy`]) {
    const tags = (await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo], { allowFailure: true })).stdout.split("\n").filter(Boolean);
    for (const tag of tags) await docker(["image", "rm", "--force", tag], { allowFailure: true });
  }
  for (const label of [`pydeploy.app=${APP}`, `${LABEL_PROXY}=${APP}`]) {
    await docker(["image", "prune", "--force", "--filter", `label=${label}`], { allowFailure: true });
  }
}

function bytesText(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KiB`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((cell, i) => (i === 0 || i >= r.length - 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ").trimEnd());
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const f of cleanups.reverse()) {
      try {
        await f();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
  })());
}

// Ctrl-C reaches this process twice (from the terminal's process group and relayed by tsx): a
// second signal must not end the clean-up the first one started.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (cleaning) return void console.error(`${signal}: still removing the test server, images and temp dirs ...`);
    console.error(`${signal}: removing the test server, images and temp dirs ...`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
