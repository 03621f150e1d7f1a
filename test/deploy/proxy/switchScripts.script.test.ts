// The two Python programs of a traffic switch (switch.ts), run by this machine's python3 the way
// the proxy image runs them: the reach check (image/probe.py: does the proxy get an answer from
// the new container?) against loopback servers, and the drain helper (proxy/drain.py) with
// stand-in iptables commands on PATH (no root needed) against real open connections, read from
// this host's /proc/net/tcp.
// The same helpers against Docker: switch.integration.test.ts.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { proxyNames } from "../../../components/deploy/proxy/proxyContainer";
import { switchPlan } from "../../../components/deploy/proxy/switch";
import { run } from "../../support/docker/localEngine";

const input = {
  proxy: proxyNames("demo"), proxyImage: "pydeploy/demo-proxy:1", role: "web", next: "demo-web-v2", previous: ["demo-web-v1"], port: 8000,
  reach: { kind: "http" as const, path: "/health" }, drainSeconds: 1,
};
let python = "python3";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-switch-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
before(async () => {
  // The interpreter itself, so the drain tests can run with a PATH of stand-ins only.
  python = (await run("python3", ["-c", "import sys; print(sys.executable)"])).stdout.trim();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("the reach check the proxy runs against the new container", { timeout: 120_000 }, () => {
  let server: http.Server;
  let port: number;
  before(async () => {
    server = http.createServer((req, res) => res.writeHead(Number(/\d{3}/.exec(req.url ?? "")?.[0] ?? 200)).end());
    port = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  /** Runs the attach step's reach check against 127.0.0.1:<port>. */
  async function reach(o: { port: number; reach: typeof input.reach | { kind: "tcp" } }) {
    const argv = switchPlan({ ...input, port: o.port, reach: o.reach, next: "demo-web-v2" }).attach[1].argv;
    assert.deepEqual(argv.slice(0, 5), ["docker", "exec", "demo-proxy", "python3", "-c"], "run in the proxy container");
    const args = [...argv.slice(5, 6), "127.0.0.1", ...argv.slice(7)];
    assert.equal(argv[6], "demo-web-v2", "the new container, by name");
    const r = await run(python, ["-c", ...args], { allowFailure: true, timeoutMs: 30_000 });
    return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
  }

  it("HTTP: 2xx and 3xx pass; 4xx and 5xx fail naming the status", async () => {
    for (const [status, reason] of [[200, "OK"], [301, "Moved Permanently"], [399, "unknown"]] as const) {
      assert.deepEqual(await reach({ port, reach: { kind: "http", path: `/${status}` } }), { code: 0, out: `HTTP ${status} ${reason}` }, `HTTP ${status} passes`);
    }
    for (const [status, reason] of [[400, "Bad Request"], [503, "Service Unavailable"]] as const) {
      assert.deepEqual(await reach({ port, reach: { kind: "http", path: `/${status}` } }), { code: 1, out: `HTTP ${status} ${reason}` }, `HTTP ${status} fails and says so`);
    }
  });

  it("TCP: a listening port passes; nothing listening fails naming the error", async () => {
    assert.deepEqual(await reach({ port, reach: { kind: "tcp" } }), { code: 0, out: "" }, "the port answers");
    const closed = net.createServer();
    const free = await listen(closed);
    await new Promise((r) => closed.close(r));
    const r = await reach({ port: free, reach: { kind: "tcp" } });
    assert.equal(r.code, 1, "refused");
    assert.equal(r.out, "ConnectionRefusedError: [Errno 111] Connection refused", "the message names the error");
    const refused = await reach({ port: free, reach: { kind: "http", path: "/" } });
    assert.deepEqual(refused, { code: 1, out: "ConnectionRefusedError: [Errno 111] Connection refused" }, "HTTP to a closed port fails the same way");
  });

  it("TCP: a role that speaks another protocol passes once it accepts the connection (no HTTP request is sent)", async () => {
    const received: string[] = [];
    // A server-first protocol (like SSH or Redis's greeting): it sends a banner and closes.
    const banner = net.createServer((s) => {
      s.on("data", (d) => received.push(d.toString()));
      // The check closes right after connecting, before reading the banner: a reset is expected here.
      s.on("error", () => undefined);
      s.end("SSH-2.0-demo\r\n");
    });
    const bannerPort = await listen(banner);
    try {
      assert.deepEqual(await reach({ port: bannerPort, reach: { kind: "tcp" } }), { code: 0, out: "" }, "connected: it passes");
      assert.deepEqual(received, [], "nothing was written to the role's port");
    } finally {
      await new Promise((r) => banner.close(r));
    }
  });
});

describe("the drain helper run in the old container's network namespace", { timeout: 120_000 }, () => {
  /** A folder of stand-in commands: each logs its argv to <name>.log and exits with the given code. */
  function standIns(tools: Record<string, { code: number; stderr?: string }>): string {
    const bin = fs.mkdtempSync(path.join(scratch, "bin-"));
    for (const [name, t] of Object.entries(tools)) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "$*" >> "${bin}/${name}.log"\n${t.stderr ? `echo '${t.stderr}' >&2\n` : ""}exit ${t.code}\n`, { mode: 0o755 });
    }
    return bin;
  }

  async function drain(bin: string, port: number, seconds: number) {
    const argv = switchPlan({ ...input, port, drainSeconds: seconds }).retire[0].drain.argv;
    const at = argv.indexOf("python3");
    assert.deepEqual(argv.slice(at - 1, at + 2), ["pydeploy/demo-proxy:1", "python3", "-c"], "the proxy image's python3");
    assert.deepEqual(argv.slice(at + 3), [String(port), String(seconds)], "port and seconds as arguments");
    const started = Date.now();
    const r = await run(python, argv.slice(at + 1), { allowFailure: true, timeoutMs: 30_000, env: { PATH: bin } });
    return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim(), ms: Date.now() - started };
  }
  const logOf = (bin: string, tool: string) => (fs.existsSync(path.join(bin, `${tool}.log`)) ? fs.readFileSync(path.join(bin, `${tool}.log`), "utf8").trim() : undefined);

  it("inserts a rule that resets new outside connections to the port, then reports drained when none is open", async () => {
    const bin = standIns({ iptables: { code: 0 }, "iptables-legacy": { code: 0 } });
    const r = await drain(bin, 48123, 5);
    assert.deepEqual([r.code, r.out], [0, "drained"], `nothing open: drained at once (${r.err})`);
    assert.equal(logOf(bin, "iptables"), "-I INPUT ! -i lo -p tcp --syn --dport 48123 -j REJECT --reject-with tcp-reset", "new connections (SYN) from outside are reset");
    assert.equal(logOf(bin, "iptables-legacy"), undefined, "the fallback tool is not needed");
    assert.ok(r.ms < 4000, `no waiting without open connections: ${r.ms} ms`);
  });

  it("falls back to iptables-legacy when iptables fails", async () => {
    const bin = standIns({ iptables: { code: 3, stderr: "iptables: no nf_tables" }, "iptables-legacy": { code: 0 } });
    const r = await drain(bin, 48124, 1);
    assert.deepEqual([r.code, r.out], [0, "drained"], "the legacy tool set the rule");
    assert.match(logOf(bin, "iptables-legacy") ?? "", /^-I INPUT .*--dport 48124 /, "legacy got the same rule");
  });

  it("fails, changing nothing, when no tool can set the rule; says why for each", async () => {
    const bin = standIns({ iptables: { code: 4, stderr: "permission denied (you must be root)" }, "iptables-legacy": { code: 4, stderr: "legacy: permission denied" } });
    const r = await drain(bin, 48125, 1);
    assert.equal(r.code, 1, "a failed drain: the deployer stops the old container first instead");
    assert.equal(r.err, "cannot refuse new connections: iptables: permission denied (you must be root); iptables-legacy: legacy: permission denied", "both reasons");
    const none = await drain(standIns({}), 48126, 1);
    assert.equal(none.code, 1, "no iptables at all fails too");
    assert.equal(none.err, "cannot refuse new connections: iptables: [Errno 2] No such file or directory: 'iptables'; iptables-legacy: [Errno 2] No such file or directory: 'iptables-legacy'", "each missing tool named");
  });

  it("waits while a connection to the port is open, up to its seconds, and says how many were left", async () => {
    const bin = standIns({ iptables: { code: 0 } });
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    const port = await listen(server);
    const client = net.connect(port, "127.0.0.1");
    await new Promise((r) => client.once("connect", r));
    try {
      const r = await drain(bin, port, 1);
      assert.deepEqual([r.code, r.out], [0, "1 connections still open after 1s"], `one open connection held it for the full second (${r.err})`);
      assert.ok(r.ms >= 1000, `it waited the drain time: ${r.ms} ms`);
      // Closed half-way: the helper notices and stops waiting.
      setTimeout(() => {
        client.destroy();
        for (const s of sockets) s.destroy();
      }, 500);
      const closed = await drain(bin, port, 20);
      assert.deepEqual([closed.code, closed.out], [0, "drained"], "the connection closed: drained");
      assert.ok(closed.ms < 15_000, `it stopped waiting once the connection closed: ${closed.ms} ms`);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it("counts IPv6 connections too (/proc/net/tcp6)", async () => {
    const bin = standIns({ iptables: { code: 0 } });
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, "::1", r));
    const port = (server.address() as AddressInfo).port;
    const client = net.connect(port, "::1");
    await new Promise((r) => client.once("connect", r));
    try {
      const r = await drain(bin, port, 1);
      assert.deepEqual([r.code, r.out], [0, "1 connections still open after 1s"], `the IPv6 connection was seen (${r.err})`);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
