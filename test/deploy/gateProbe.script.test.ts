// The release gate's probe by behaviour: the command gateProbe() builds, minus its `docker exec`,
// is run by this machine's python3 (the image runs the same code with its own python) against
// loopback servers. What a user sees: the gate passes on 2xx/3xx and an open port, fails
// otherwise, and says what it got.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { HealthGate } from "../../components/deploy/containerSpec";
import { gateProbe } from "../../components/deploy/gateProbe";
import { run } from "../support/docker/localEngine";

/** Runs the gate's probe (`docker exec <container> python -c code …`) here, with python3. */
async function runProbe(gate: HealthGate, timeoutSeconds: number): Promise<{ code: number; out: string; ms: number }> {
  const argv = gateProbe("demo-web-v1", gate, timeoutSeconds);
  assert.ok(argv, "a port's gate has a probe");
  assert.deepEqual(argv.slice(0, 5), ["docker", "exec", "demo-web-v1", "python", "-c"], "the image's python runs the code in the container");
  const started = Date.now();
  const r = await run("python3", argv.slice(4), { allowFailure: true, timeoutMs: 30_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim(), ms: Date.now() - started };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("the gate's HTTP probe", { timeout: 120_000 }, () => {
  let server: http.Server;
  let port: number;
  const seen: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? "");
      const status = /^\/status\/(\d{3})/.exec(req.url ?? "");
      if (status) res.writeHead(Number(status[1]), { Location: "/elsewhere" }).end();
      else if (req.url === "/hang") {
        /* never answers */
      } else res.writeHead(200).end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const probe = (path: string, timeoutSeconds = 3, at = port) => runProbe({ kind: "http", port: at, path }, timeoutSeconds);

  it("passes on 200, 204, 302 and 399, printing the status line; a redirect is not followed", async () => {
    for (const [status, reason] of [[200, "OK"], [204, "No Content"], [302, "Found"], [399, "unknown"]] as const) {
      seen.length = 0;
      const r = await probe(`/status/${status}`);
      assert.equal(r.code, 0, `HTTP ${status} passes the gate: ${r.out}`);
      assert.equal(r.out, `HTTP ${status} ${reason}`, `the gate prints the status line for ${status}`);
      assert.deepEqual(seen, [`/status/${status}`], `one GET of the path for ${status}, no redirect followed`);
    }
  });

  it("fails on 400, 404 and 503, printing the status line", async () => {
    for (const [status, reason] of [[400, "Bad Request"], [404, "Not Found"], [503, "Service Unavailable"]] as const) {
      const r = await probe(`/status/${status}`);
      assert.equal(r.code, 1, `HTTP ${status} fails the gate`);
      assert.equal(r.out, `HTTP ${status} ${reason}`, `the failure says what the app answered (${status})`);
    }
  });

  it("fails when nothing listens, naming the error", async () => {
    const r = await probe("/", 3, await freePort());
    assert.equal(r.code, 1, "connection refused fails the gate");
    assert.match(r.out, /^ConnectionRefusedError: \[Errno 111\] Connection refused$/, "the error type and message are printed");
  });

  it("gives up after its timeout when the app never answers", async () => {
    const r = await probe("/hang", 1);
    assert.equal(r.code, 1, "a hanging app fails the gate");
    assert.match(r.out, /^(TimeoutError|socket\.timeout): timed out$/, `the timeout is named: ${r.out}`);
    assert.ok(r.ms < 1000 + 5000, `it gave up after about 1 s, took ${r.ms} ms`);
  });

  it("sends a path with quotes and backslashes verbatim", async () => {
    seen.length = 0;
    const path = `/status/200?q="it's"&x=\\1`;
    const r = await probe(path);
    assert.equal(r.code, 0, `the odd path reaches the app: ${r.out}`);
    assert.deepEqual(seen, [path], "the path arrives unchanged");
  });
});

describe("the gate's TCP probe", { timeout: 60_000 }, () => {
  it("passes when the port accepts a connection, silently; fails naming the error when nothing listens", async () => {
    const listener = net.createServer((s) => s.end());
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const open = (listener.address() as AddressInfo).port;
    try {
      const r = await runProbe({ kind: "tcp", port: open }, 2);
      assert.deepEqual([r.code, r.out], [0, ""], "an open port passes and prints nothing");
    } finally {
      await new Promise((r) => listener.close(r));
    }
    const r = await runProbe({ kind: "tcp", port: await freePort() }, 2);
    assert.equal(r.code, 1, "a closed port fails the gate");
    assert.match(r.out, /^ConnectionRefusedError: \[Errno 111\] Connection refused$/, "the error is printed");
  });
});

describe("gateProbe: the probe the release runs in the new container", () => {
  it("docker exec <container> with the one probe; none for a running gate; target and timeout are arguments, not code", () => {
    const http = gateProbe("demo-web-v1", { kind: "http", port: 8123, path: "/ready" }, 7);
    assert.deepEqual(http?.slice(0, 5), ["docker", "exec", "demo-web-v1", "python", "-c"], "http gate: python in the container");
    assert.deepEqual(http?.slice(6), ["127.0.0.1", "8123", "/ready", "7"], "host, port, path and timeout follow the code");
    const tcp = gateProbe("demo-api-v1", { kind: "tcp", port: 9001 }, 3);
    assert.deepEqual(tcp?.slice(0, 5), ["docker", "exec", "demo-api-v1", "python", "-c"], "tcp gate: python in the container");
    assert.deepEqual(tcp?.slice(6), ["127.0.0.1", "9001", "", "3"], "an empty path: connect only");
    assert.equal(http?.[5], tcp?.[5], "one probe's code for both");
    assert.doesNotMatch(http?.[5] ?? "", /8123|\/ready/, "no value is pasted into the code");
    assert.equal(gateProbe("demo-worker-v1", { kind: "running" }, 5), undefined, "a running gate probes nothing");
  });
});
