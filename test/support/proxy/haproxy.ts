// HAProxy from Debian's packages, standing in for Alibaba's CLB in front of several test
// servers: round robin over every server's published port, each health-checked on the app's
// health path (as a CLB listener's HTTP health check is), a server taken out after two failed
// checks and back after two good ones. Like a CLB, it sends no request to a server that is down,
// and a request whose connection a server refused is sent to another one (`retry-on
// conn-failure`, `option redispatch`): what a CLB's connection draining gives when a backend goes.
// Its stats (CSV) say which servers it counts as up.
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { BASE_IMAGE, docker } from "../docker/localEngine";
import { ensureBuiltImage } from "../docker/builtImage";

const LISTEN_PORT = 80;
const STATS_PORT = 8404;
const CONFIG_FILE = "/etc/haproxy/haproxy.cfg";

const DOCKERFILE = [
  `FROM ${BASE_IMAGE}`,
  "RUN apt-get update \\",
  "    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \\",
  "    && apt-get clean \\",
  "    && rm -rf /var/lib/apt/lists/*",
  "",
].join("\n");

export interface Backend {
  name: string;
  address: string;
  port: number;
}

/** The config: one frontend on LISTEN_PORT, one backend of `servers`, the stats page. */
export function haproxyConfig(o: { servers: Backend[]; healthPath: string }): string {
  return [
    "global",
    "  log stdout format raw local0 notice",
    "defaults",
    "  mode http",
    "  log global",
    "  timeout connect 2s",
    "  timeout client 30s",
    "  timeout server 30s",
    "  retries 3",
    "  option redispatch 1",
    "  retry-on conn-failure empty-response",
    "frontend app",
    `  bind :${LISTEN_PORT}`,
    "  default_backend servers",
    "backend servers",
    "  balance roundrobin",
    `  option httpchk GET ${o.healthPath}`,
    "  http-check expect status 200",
    "  default-server inter 500ms fall 2 rise 2",
    ...o.servers.map((s) => `  server ${s.name} ${s.address}:${s.port} check`),
    "frontend stats",
    `  bind :${STATS_PORT}`,
    "  stats enable",
    "  stats uri /stats",
    "",
  ].join("\n");
}

/** Builds the HAProxy image unless this version of it (Dockerfile, base image) exists; returns its tag. */
export function ensureHaproxyImage(): Promise<string> {
  return ensureBuiltImage("pydeploy/test-haproxy", { Dockerfile: DOCKERFILE });
}

export interface Haproxy {
  container: string;
  /** Where the load goes: http://<address>/ */
  url: string;
  /** Per server name: UP, DOWN, … as HAProxy's stats say. */
  serverStates(): Promise<Record<string, string>>;
  /** Resolves once exactly these servers are UP (the others not), or throws after `timeoutMs`. */
  waitForUp(names: string[], timeoutMs?: number): Promise<void>;
  logs(): Promise<string>;
  remove(): Promise<void>;
}

export async function startHaproxy(o: { container: string; servers: Backend[]; healthPath: string }): Promise<Haproxy> {
  const image = await ensureHaproxyImage();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-haproxy-"));
  fs.writeFileSync(path.join(dir, "haproxy.cfg"), haproxyConfig(o));
  fs.chmodSync(dir, 0o755);
  await docker(["run", "--detach", "--name", o.container, "-v", `${dir}/haproxy.cfg:${CONFIG_FILE}:ro`, image, "haproxy", "-db", "-f", CONFIG_FILE]);
  const address = (await docker(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", o.container])).stdout.trim();
  const serverStates = async (): Promise<Record<string, string>> => {
    const csv = await get(`http://${address}:${STATS_PORT}/stats;csv`);
    const [header, ...rows] = csv.replace(/^# /, "").trim().split("\n").map((l) => l.split(","));
    const [px, sv, status] = ["pxname", "svname", "status"].map((c) => header.indexOf(c));
    return Object.fromEntries(rows.filter((r) => r[px] === "servers" && r[sv] !== "BACKEND").map((r) => [r[sv], r[status]]));
  };
  return {
    container: o.container,
    url: `http://${address}:${LISTEN_PORT}/`,
    serverStates,
    async waitForUp(names, timeoutMs = 60_000) {
      const started = Date.now();
      let states: Record<string, string> = {};
      for (;;) {
        states = await serverStates().catch(() => ({}));
        const up = Object.entries(states).filter(([, s]) => s === "UP").map(([n]) => n).sort();
        if (JSON.stringify(up) === JSON.stringify([...names].sort())) return;
        if (Date.now() - started > timeoutMs) throw new Error(`HAProxy: expected exactly ${names.join(", ")} up, states are ${JSON.stringify(states)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async logs() {
      const r = await docker(["logs", "--tail", "100", o.container], { allowFailure: true });
      return `${r.stdout}${r.stderr}`;
    },
    async remove() {
      await docker(["rm", "--force", o.container], { allowFailure: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on("error", reject);
  });
}
