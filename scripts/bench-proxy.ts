// Proxy benchmark (`npx tsx scripts/bench-proxy.ts [--rate N] [--switches N] [--only id,id]`):
// how many requests fail while traffic moves between two containers of a role, per switching
// strategy and per client (GET with keep-alive, GET with a new connection per request, POST;
// all at once), with no release, during switches, and during releases whose new container
// never becomes healthy. Everything runs on the local engine:
// a user-defined network, two backends (test/support/proxy/backend.py, graceful
// SIGTERM), the proxy publishing a host port, and an open-loop Node load generator.
// Prints a table; not a test. Removes every container, network, volume and image it made.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderCaddyfile } from "../components/deploy/proxy/proxyConfig";
import { proxyConfigSteps, proxyNames, proxySetupSteps, upstreamAlias } from "../components/deploy/proxy/proxyContainer";
import { caddyReloadCommand, NGINX_CONFIG_FILE, nginxReloadCommand, ProxyKind } from "../components/image/proxyDockerfile";
import { switchPlan } from "../components/deploy/proxy/switch";
import { docker, ensureBaseImage, httpGet, uniqueName, waitFor, waitForHttp200 } from "../test/support/docker/localEngine";
import {
  BACKEND_PORT, buildProxyImage, freePort, leftovers, Leftovers, passesGate, removeLeftovers, startBackend,
} from "../test/support/proxy/harness";
import { LoadResult, RunningLoad, startLoad } from "../test/support/proxy/load";
import { retire, runSteps } from "../test/deploy/proxy/support/runSteps";

const args = parseArgs(process.argv.slice(2));
const RATE = args.rate ?? 200;
const SWITCHES = args.switches ?? 6;
const MIN_SECONDS = 10;
const DRAIN_SECONDS = 10;
const GATE_TIMEOUT_MS = 3000;

interface Scenario {
  app: string;
  port: number;
  network: string;
  proxy: string;
  left: Leftovers;
  image: string;
  tmp: string;
}

interface Strategy {
  id: string;
  title: string;
  proxy: ProxyKind;
  /** Backends join the proxy network when they start (reload strategies) or only when switched to (alias strategies). */
  backendsOnNetwork: boolean;
  /** The backends answer the connections queued on their listening socket before closing it (default: reset them, like most servers). */
  backendAcceptsQueued?: boolean;
  /** The proxy runs and sends traffic to `first`. */
  start(s: Scenario, first: string): Promise<void>;
  /** Traffic goes to `next` (running, gated) and `previous` is stopped gracefully. */
  switchTo(s: Scenario, next: string, previous: string): Promise<void>;
}

const ROLE = "web";

interface AliasOptions {
  caddyfile: (s: Scenario) => string;
  backendAcceptsQueued?: boolean;
  /** Retire with switchPlan's fallback (stop, then off the network) instead of drain, off the network, stop. */
  plainStop?: boolean;
}

/** The product's way: a static alias upstream moved by switchPlan's steps; no proxy reload. */
function aliasStrategy(id: string, title: string, o: AliasOptions): Strategy {
  return {
    id,
    title,
    proxy: "caddy",
    backendsOnNetwork: false,
    backendAcceptsQueued: o.backendAcceptsQueued,
    async start(s, first) {
      await startCaddy(s, o.caddyfile(s));
      await runSteps(plan(s, first, []).attach);
    },
    async switchTo(s, next, previous) {
      const p = plan(s, next, [previous]);
      await runSteps(p.attach);
      for (const r of p.retire) {
        if (o.plainStop) await runSteps(r.ifDrainFails);
        else if ((await retire(r)) === "fallback") throw new Error(`the drain of ${r.container} failed`);
      }
    },
  };
}

function plan(s: Scenario, next: string, previous: string[]) {
  return switchPlan({
    proxy: proxyNames(s.app), proxyImage: s.image, role: ROLE, next, previous, port: BACKEND_PORT,
    reach: { kind: "http", path: "/health" }, drainSeconds: DRAIN_SECONDS,
  });
}

/** The product's proxy container (proxySetupSteps) with this config loaded (proxyConfigSteps). */
async function startCaddy(s: Scenario, caddyfile: string): Promise<void> {
  const names = proxyNames(s.app);
  await runSteps(proxySetupSteps({ names, image: s.image, ports: [{ host: s.port, container: s.port }], logMaxSize: "10m", logMaxFiles: 1 }));
  s.left.containers.push(names.container);
  await runSteps(proxyConfigSteps(names, { customCaRoot: false }), { proxyConfig: caddyfile });
}

const productCaddyfile = (s: Scenario) =>
  renderCaddyfile({ sites: [{ publishedPort: s.port, upstream: { alias: upstreamAlias(s.app, ROLE), port: BACKEND_PORT } }] });

function caddyVariant(s: Scenario, upstream: string[]): string {
  return [`http://:${s.port} {`, "\treverse_proxy {", ...upstream.map((l) => `\t\t${l}`), "\t}", "}", ""].join("\n");
}

const STRATEGIES: Strategy[] = [
  {
    id: "caddy-reload",
    title: "a) Caddy: config names the container, `caddy reload` (POST /load) per switch",
    proxy: "caddy",
    backendsOnNetwork: true,
    async start(s, first) {
      await startCaddy(s, caddyVariant(s, [`to ${first}:${BACKEND_PORT}`]));
    },
    async switchTo(s, next, previous) {
      await docker(["exec", "-i", s.proxy, ...caddyReloadCommand()], { input: caddyVariant(s, [`to ${next}:${BACKEND_PORT}`]) });
      await docker(["stop", "--time", String(DRAIN_SECONDS), previous]);
    },
  },
  aliasStrategy("caddy-alias-bare", "b) Caddy: static alias upstream, upstream keep-alive off, no retries; old stopped, then off the network", {
    caddyfile: (s) => caddyVariant(s, [`to ${upstreamAlias(s.app, ROLE)}:${BACKEND_PORT}`, "transport http {", "\tkeepalive off", "}"]),
    plainStop: true,
  }),
  aliasStrategy("caddy-alias-retry", "b) + lb_try_duration 5s / lb_try_interval 100ms (renderCaddyfile); old stopped, then off the network", {
    caddyfile: productCaddyfile,
    plainStop: true,
  }),
  aliasStrategy("caddy-alias-retry-app-drains", "b) as caddy-alias-retry, with backends that answer their queued connections before closing their socket", {
    caddyfile: productCaddyfile,
    plainStop: true,
    backendAcceptsQueued: true,
  }),
  aliasStrategy("caddy-alias", "b) THE PRODUCT: retries; old drained (new connections refused, open ones awaited), off the network, then stopped", {
    caddyfile: productCaddyfile,
  }),
  aliasStrategy("caddy-alias-upstream-keepalive", "b) as the product, with upstream keep-alive on", {
    caddyfile: (s) => caddyVariant(s, [`to ${upstreamAlias(s.app, ROLE)}:${BACKEND_PORT}`, "lb_try_duration 5s", "lb_try_interval 100ms"]),
  }),
  aliasStrategy("caddy-dynamic-a", "d) Caddy: `dynamic a` alias (refresh 1s), upstream keep-alive on, lb_try 5s/100ms; retired like the product", {
    caddyfile: (s) =>
      caddyVariant(s, [
        `dynamic a ${upstreamAlias(s.app, ROLE)} ${BACKEND_PORT} {`, "\trefresh 1s", "}",
        "lb_try_duration 5s", "lb_try_interval 100ms",
      ]),
  }),
  {
    id: "nginx-reload",
    title: "c) nginx 1.22: `upstream` rewritten, `nginx -s reload`, old workers awaited, then the old stopped",
    proxy: "nginx",
    backendsOnNetwork: true,
    async start(s, first) {
      fs.writeFileSync(path.join(s.tmp, "nginx.conf"), nginxConf(s.port, first));
      await docker([
        "run", "--detach", "--name", s.proxy, "--network", s.network,
        "--volume", `${s.tmp}:${path.posix.dirname(NGINX_CONFIG_FILE)}:ro`,
        "--publish", `${s.port}:${s.port}`, s.image,
      ]);
      s.left.containers.push(s.proxy);
    },
    async switchTo(s, next, previous) {
      const file = path.join(s.tmp, "nginx.conf");
      fs.writeFileSync(`${file}.new`, nginxConf(s.port, next));
      fs.renameSync(`${file}.new`, file);
      await docker(["exec", s.proxy, ...nginxReloadCommand()]);
      await waitForNginxReload(s, next);
      await docker(["stop", "--time", String(DRAIN_SECONDS), previous]);
    },
  },
];

/**
 * `nginx -s reload` only signals the master. Fair to nginx: wait until new connections reach
 * `next` (the new workers run) and no old worker is left finishing its connections, whose
 * requests would still go to the old upstream.
 */
async function waitForNginxReload(s: Scenario, next: string): Promise<void> {
  const body = next.slice(next.lastIndexOf("-") + 1);
  await waitFor(`nginx answers from ${next}`, async () => ((await httpGet(`http://127.0.0.1:${s.port}/`)).body.trim() === body ? true : undefined), {
    timeoutMs: 15_000, intervalMs: 50,
  });
  await waitFor("old nginx workers to exit", async () => {
    const ps = await docker(["exec", s.proxy, "sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null"], { allowFailure: true });
    return ps.stdout.includes("shutting down") ? undefined : true;
  }, { timeoutMs: 30_000, intervalMs: 50 });
}

function nginxConf(port: number, upstream: string): string {
  return `worker_processes 2;
error_log /dev/stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream app { server ${upstream}:${BACKEND_PORT}; }
  server {
    listen ${port};
    location / { proxy_pass http://app; }
  }
}
`;
}

/** The clients that run at the same time in every phase: GET with and without keep-alive, and POST (never retried by a proxy). */
const CLIENTS: { name: string; keepAlive: boolean; method: "GET" | "POST"; share: number }[] = [
  { name: "GET keep-alive", keepAlive: true, method: "GET", share: 1 },
  { name: "GET new conn", keepAlive: false, method: "GET", share: 1 },
  { name: "POST keep-alive", keepAlive: true, method: "POST", share: 0.25 },
];

interface Phase {
  name: string;
  results: LoadResult[];
}

interface Row {
  strategy: string;
  phases: Phase[];
  /** The proxy's own error log lines, addresses blanked, with counts: why requests failed or were retried. */
  proxyErrors?: Record<string, number>;
  error?: string;
}

async function proxyErrors(container: string): Promise<Record<string, number>> {
  const { stdout, stderr } = await docker(["logs", container], { allowFailure: true });
  const counts: Record<string, number> = {};
  for (const line of (stdout + stderr).split("\n")) {
    let text: string | undefined;
    if (line.startsWith("{")) {
      const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
      if (entry.level === "error") text = `${entry.msg}: ${entry.error ?? ""}`;
    } else if (/\[(error|crit|alert)\]/.test(line)) {
      text = line.replace(/^.*?\[(error|crit|alert)\] [0-9#]+: (\*[0-9]+ )?/, "");
    }
    if (text === undefined) continue;
    text = text.replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, "<addr>").replace(/, client: .*$/, "");
    counts[text] = (counts[text] ?? 0) + 1;
  }
  return counts;
}

function startClients(url: string): RunningLoad[] {
  return CLIENTS.map((c) => startLoad({ url, rate: RATE * c.share, keepAlive: c.keepAlive, method: c.method }));
}

async function stopClients(loads: RunningLoad[]): Promise<LoadResult[]> {
  await sleepUntil(loads[0], MIN_SECONDS);
  return Promise.all(loads.map((l) => l.stop()));
}

async function scenario(st: Strategy, image: string): Promise<Row> {
  const app = `pdb${uniqueName("x").slice(2)}`;
  const names = proxyNames(app);
  const s: Scenario = {
    app, port: await freePort(), network: names.network, proxy: names.container, left: leftovers(), image,
    tmp: fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-bench-proxy-")),
  };
  const row: Row = { strategy: st.id, phases: [] };
  const backend = (name: string) => `${app}-${ROLE}-${name}`;
  try {
    await docker(["network", "create", s.network]);
    s.left.networks.push(s.network);
    s.left.volumes.push(names.volume);
    const colors = [backend("blue"), backend("green")];
    s.left.containers.push(...colors);
    const onNet = st.backendsOnNetwork ? s.network : undefined;
    const acceptQueued = st.backendAcceptsQueued ?? false;
    await startBackend({ name: colors[0], body: "blue", network: onNet, acceptQueued });
    if (!(await passesGate(colors[0], 10_000))) throw new Error(`${colors[0]} never passed its gate`);
    await st.start(s, colors[0]);
    const url = `http://127.0.0.1:${s.port}/`;
    await waitForHttp200(url, 15_000);

    // No release: what the machine gives without any switch.
    let loads = startClients(url);
    row.phases.push({ name: "steady", results: await stopClients(loads) });

    // Switches old -> new -> old ...: the stopped container is started again, like a rollback.
    loads = startClients(url);
    await sleep(1000);
    let current = 0;
    for (let k = 0; k < SWITCHES; k++) {
      const next = 1 - current;
      if (k === 0) await startBackend({ name: colors[next], body: "green", network: onNet, acceptQueued });
      else await docker(["start", colors[next]]);
      if (!(await passesGate(colors[next], 10_000))) throw new Error(`${colors[next]} never passed its gate`);
      await st.switchTo(s, colors[next], colors[current]);
      current = next;
      await sleep(500);
    }
    row.phases.push({ name: `${SWITCHES} switches`, results: await stopClients(loads) });

    // Releases that never become healthy: their containers never get traffic and are removed.
    loads = startClients(url);
    for (let k = 0; k < 2; k++) {
      const bad = backend(`red${k}`);
      s.left.containers.push(bad);
      await startBackend({ name: bad, body: "red", healthStatus: 503, network: onNet, acceptQueued });
      if (await passesGate(bad, GATE_TIMEOUT_MS)) throw new Error(`${bad} answers 503 on /health but passed the gate`);
      await docker(["rm", "--force", bad]);
    }
    row.phases.push({ name: "2 failed releases", results: await stopClients(loads) });
    row.proxyErrors = await proxyErrors(s.proxy);
  } catch (err) {
    row.error = String(err).split("\n")[0];
  } finally {
    await removeLeftovers(s.left);
    fs.rmSync(s.tmp, { recursive: true, force: true });
  }
  return row;
}

async function main(): Promise<void> {
  ensureBaseImage();
  const chosen = args.only ? STRATEGIES.filter((s) => args.only!.includes(s.id)) : STRATEGIES;
  if (chosen.length === 0) throw new Error(`--only matched none of ${STRATEGIES.map((s) => s.id).join(", ")}`);
  const runId = uniqueName("pydeploy-bench-proxy");
  const images: Partial<Record<ProxyKind, string>> = {};
  const built: string[] = [];
  const rows: Row[] = [];
  try {
    for (const kind of new Set(chosen.map((s) => s.proxy))) {
      images[kind] = `${runId}/${kind}:bench`;
      built.push(images[kind]!);
      const t0 = Date.now();
      await buildProxyImage(kind, images[kind]!);
      const size = (await docker(["image", "inspect", "--format", "{{.Size}}", images[kind]!])).stdout.trim();
      console.log(`built ${kind} proxy image from the base image in ${((Date.now() - t0) / 1000).toFixed(1)} s (${(Number(size) / 1e6).toFixed(0)} MB)`);
    }
    console.log(
      `clients at once, open loop: ${CLIENTS.map((c) => `${c.name} ${RATE * c.share} req/s`).join(", ")}; ` +
        `each phase >= ${MIN_SECONDS} s; backend answers in 20 ms; drain: docker stop --time ${DRAIN_SECONDS}`,
    );
    for (const st of chosen) {
      const row = await scenario(st, images[st.proxy]!);
      rows.push(row);
      console.log(format(row));
    }
  } finally {
    await removeLeftovers({ ...leftovers(), images: built });
  }
  console.log("");
  console.log("strategies:");
  for (const st of chosen) console.log(`  ${st.id.padEnd(31)} ${st.title}`);
  console.log("");
  console.log(header());
  for (const row of rows) console.log(format(row));
}

function header(): string {
  return [
    "strategy".padEnd(31), "phase".padEnd(18), "client".padEnd(16), "failed/total".padEnd(20), "failures".padEnd(30),
    "p99/max ms".padEnd(12), "served by",
  ].join(" ");
}

function format(r: Row): string {
  if (r.error) return `${r.strategy.padEnd(31)} error: ${r.error}`;
  const lines: string[] = [];
  for (const phase of r.phases) {
    phase.results.forEach((l, i) => {
      lines.push(
        [
          (lines.length === 0 ? r.strategy : "").padEnd(31),
          (i === 0 ? phase.name : "").padEnd(18),
          CLIENTS[i].name.padEnd(16),
          `${l.failed}/${l.total} (${((100 * l.failed) / Math.max(1, l.total)).toFixed(2)}%)`.padEnd(20),
          (Object.entries(l.failures).map(([k, v]) => `${k}×${v}`).join(" ") || "-").padEnd(30),
          `${l.p99LatencyMs}/${l.maxLatencyMs}`.padEnd(12),
          Object.entries(l.servedBy).map(([k, v]) => `${k} ${v}`).join(", "),
        ].join(" "),
      );
    });
  }
  for (const [text, n] of Object.entries(r.proxyErrors ?? {})) lines.push(`${"".padEnd(31)} proxy log ×${n}: ${text.slice(0, 160)}`);
  return lines.join("\n");
}

/** Keeps the load running until it has lasted `seconds`. */
async function sleepUntil(load: RunningLoad, seconds: number): Promise<void> {
  const left = seconds - load.elapsedSeconds();
  if (left > 0) await sleep(left * 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function parseArgs(argv: string[]): { rate?: number; switches?: number; only?: string[] } {
  const out: { rate?: number; switches?: number; only?: string[] } = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--rate" || flag === "--switches") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got ${value}`);
      out[flag === "--rate" ? "rate" : "switches"] = n;
      i++;
    } else if (flag === "--only") {
      if (!value) throw new Error("--only needs a comma-separated list of strategy ids");
      out.only = value.split(",");
      i++;
    } else {
      throw new Error(`unknown argument ${flag}; usage: bench-proxy.ts [--rate N] [--switches N] [--only id,id]`);
    }
  }
  return out;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
