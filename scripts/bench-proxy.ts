// Proxy benchmark (`npx tsx scripts/bench-proxy.ts [--rate N] [--switches N] [--only id,id]`):
// how many requests fail while traffic moves between two containers of a role, per switching
// strategy and per client mode (keep-alive or a new connection per request), and during a
// release whose new container never becomes healthy. Everything runs on the local engine:
// a user-defined network, two backends (test/deploy/proxy/support/backend.py, graceful
// SIGTERM), the proxy publishing a host port, and an open-loop Node load generator.
// Prints a table; not a test. Removes every container, network, volume and image it made.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderCaddyfile } from "../components/deploy/proxy/proxyConfig";
import { proxyConfigSteps, proxyNames, proxySetupSteps, upstreamAlias } from "../components/deploy/proxy/proxyContainer";
import { caddyReloadCommand, NGINX_CONFIG_FILE, nginxReloadCommand, ProxyKind } from "../components/deploy/proxy/proxyImage";
import { switchPlan } from "../components/deploy/proxy/switch";
import { docker, ensureBaseImage, uniqueName, waitForHttp200 } from "../test/support/docker";
import {
  BACKEND_PORT, buildProxyImage, freePort, leftovers, Leftovers, passesGate, removeLeftovers, startBackend,
} from "../test/deploy/proxy/support/harness";
import { LoadResult, RunningLoad, startLoad } from "../test/deploy/proxy/support/load";
import { runSteps } from "../test/deploy/proxy/support/runSteps";

const args = parseArgs(process.argv.slice(2));
const RATE = args.rate ?? 250;
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
  /** The proxy runs and sends traffic to `first`. */
  start(s: Scenario, first: string): Promise<void>;
  /** Traffic goes to `next` (running, gated) and `previous` is stopped gracefully. */
  switchTo(s: Scenario, next: string, previous: string): Promise<void>;
}

const ROLE = "web";

/** The product: a static alias upstream (renderCaddyfile) moved by switchPlan; no proxy reload. */
function aliasStrategy(id: string, title: string, caddyfile: (s: Scenario) => string): Strategy {
  return {
    id,
    title,
    proxy: "caddy",
    backendsOnNetwork: false,
    async start(s, first) {
      await startCaddy(s, caddyfile(s));
      await runSteps(plan(s, first, []).attach);
    },
    async switchTo(s, next, previous) {
      const p = plan(s, next, [previous]);
      await runSteps(p.attach);
      await runSteps(p.retire);
    },
  };
}

function plan(s: Scenario, next: string, previous: string[]) {
  return switchPlan({
    proxy: proxyNames(s.app), role: ROLE, next, previous, port: BACKEND_PORT,
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
  aliasStrategy("caddy-alias-bare", "b) Caddy: static alias upstream, upstream keep-alive off, no retries", (s) =>
    caddyVariant(s, [`to ${upstreamAlias(s.app, ROLE)}:${BACKEND_PORT}`, "transport http {", "\tkeepalive off", "}"]),
  ),
  aliasStrategy(
    "caddy-alias",
    "b) Caddy: static alias upstream, keep-alive off, lb_try_duration 5s / lb_try_interval 100ms (the product)",
    productCaddyfile,
  ),
  aliasStrategy("caddy-alias-upstream-keepalive", "b) as the product, with upstream keep-alive on", (s) =>
    caddyVariant(s, [`to ${upstreamAlias(s.app, ROLE)}:${BACKEND_PORT}`, "lb_try_duration 5s", "lb_try_interval 100ms"]),
  ),
  aliasStrategy("caddy-dynamic-a", "d) Caddy: `dynamic a` alias (refresh 1s), upstream keep-alive on, lb_try 5s/100ms", (s) =>
    caddyVariant(s, [
      `dynamic a ${upstreamAlias(s.app, ROLE)} ${BACKEND_PORT} {`, "\trefresh 1s", "}",
      "lb_try_duration 5s", "lb_try_interval 100ms",
    ]),
  ),
  {
    id: "nginx-reload",
    title: "c) nginx 1.22: `upstream` rewritten, `nginx -s reload` per switch",
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
      await docker(["stop", "--time", String(DRAIN_SECONDS), previous]);
    },
  },
];

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

interface Row {
  strategy: string;
  client: string;
  switches?: LoadResult;
  failedRelease?: LoadResult;
  error?: string;
}

async function scenario(st: Strategy, keepAlive: boolean, image: string): Promise<Row> {
  const app = `pdb${uniqueName("x").slice(2)}`;
  const names = proxyNames(app);
  const s: Scenario = {
    app, port: await freePort(), network: names.network, proxy: names.container, left: leftovers(), image,
    tmp: fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-bench-proxy-")),
  };
  const row: Row = { strategy: st.id, client: keepAlive ? "keep-alive" : "close" };
  const backend = (name: string) => `${app}-${ROLE}-${name}`;
  try {
    await docker(["network", "create", s.network]);
    s.left.networks.push(s.network);
    s.left.volumes.push(names.volume);
    const colors = [backend("blue"), backend("green")];
    s.left.containers.push(...colors);
    const onNet = st.backendsOnNetwork ? s.network : undefined;
    await startBackend({ name: colors[0], body: "blue", network: onNet });
    if (!(await passesGate(colors[0], 10_000))) throw new Error(`${colors[0]} never passed its gate`);
    await st.start(s, colors[0]);
    const url = `http://127.0.0.1:${s.port}/`;
    await waitForHttp200(url, 15_000);

    // Switches old -> new -> old ...: the stopped container is started again, like a rollback.
    let load = startLoad({ url, rate: RATE, keepAlive });
    await sleep(1000);
    let current = 0;
    for (let k = 0; k < SWITCHES; k++) {
      const next = 1 - current;
      if (k === 0) await startBackend({ name: colors[next], body: "green", network: onNet });
      else await docker(["start", colors[next]]);
      if (!(await passesGate(colors[next], 10_000))) throw new Error(`${colors[next]} never passed its gate`);
      await st.switchTo(s, colors[next], colors[current]);
      current = next;
      await sleep(500);
    }
    await sleepUntil(load, MIN_SECONDS);
    row.switches = await load.stop();

    // A release that never becomes healthy: its container never gets traffic and is removed.
    load = startLoad({ url, rate: RATE, keepAlive });
    for (let k = 0; k < 2; k++) {
      const bad = backend(`red${k}`);
      s.left.containers.push(bad);
      await startBackend({ name: bad, body: "red", healthStatus: 503, network: onNet });
      if (await passesGate(bad, GATE_TIMEOUT_MS)) throw new Error(`${bad} answers 503 on /health but passed the gate`);
      await docker(["rm", "--force", bad]);
    }
    await sleepUntil(load, MIN_SECONDS);
    row.failedRelease = await load.stop();
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
    console.log(`load: ${RATE} req/s, open loop; ${SWITCHES} switches per run; drain ${DRAIN_SECONDS} s; failed release: 2 unhealthy releases`);
    for (const st of chosen) {
      for (const keepAlive of [true, false]) {
        const row = await scenario(st, keepAlive, images[st.proxy]!);
        rows.push(row);
        console.log(`  ${format(row)}`);
      }
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
    "strategy".padEnd(31), "client".padEnd(10), "phase".padEnd(16), "failed/total".padEnd(20), "failures".padEnd(26),
    "p99/max ms".padEnd(12), "served by",
  ].join(" ");
}

function format(r: Row): string {
  const head = `${r.strategy.padEnd(31)} ${r.client.padEnd(10)}`;
  if (r.error) return `${head} error: ${r.error}`;
  const phases: [string, LoadResult][] = [[`${SWITCHES} switches`, r.switches!], ["failed release", r.failedRelease!]];
  return phases
    .map(([phase, l], i) =>
      [
        i === 0 ? head : " ".repeat(head.length),
        phase.padEnd(16),
        `${l.failed}/${l.total} (${((100 * l.failed) / Math.max(1, l.total)).toFixed(2)}%)`.padEnd(20),
        (Object.entries(l.failures).map(([k, v]) => `${k}×${v}`).join(" ") || "-").padEnd(26),
        `${l.p99LatencyMs}/${l.maxLatencyMs}`.padEnd(12),
        Object.entries(l.servedBy).map(([k, v]) => `${k} ${v}`).join(", "),
      ].join(" "),
    )
    .join("\n");
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
