// Unit tests of the health probe: its argv, and its behaviour run by this machine's python3
// against a local HTTP server (no Docker engine needed).
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { pythonHealthProbe } from "../../components/image/healthProbe";
import { probeArgv, probeSource } from "../../components/image/probe";
import { run } from "../support/docker/localEngine";

describe("pythonHealthProbe", () => {
  let server: http.Server;
  let port: number;
  // Sends a status line, then one header line every 200 ms, forever: every read is quick,
  // the whole answer never comes.
  let trickler: net.Server;
  let tricklePort: number;
  const seen: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? "");
      const url = req.url ?? "";
      if (url.startsWith("/ok")) res.writeHead(200).end("ok");
      else if (url === "/moved") res.writeHead(302, { Location: "/broken" }).end();
      else if (url === "/broken") res.writeHead(500).end();
      else if (url === "/hang") {
        /* never answers */
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    trickler = net.createServer((socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\n");
        const t = setInterval(() => socket.write("X-Slow: 1\r\n"), 200);
        socket.on("close", () => clearInterval(t));
        socket.on("error", () => clearInterval(t));
      });
    });
    await new Promise<void>((r) => trickler.listen(0, "127.0.0.1", r));
    tricklePort = (trickler.address() as AddressInfo).port;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
    trickler.close();
  });

  async function probe(path: string, timeoutSeconds = 2, probePort = port): Promise<{ code: number; ms: number }> {
    const [exe, ...args] = pythonHealthProbe({ port: probePort, path, timeoutSeconds });
    assert.equal(exe, "python");
    const started = Date.now();
    // This machine has python3, the image has `python` from its venv: same interpreter family.
    const r = await run("python3", args, { allowFailure: true, timeoutMs: 30_000 });
    return { code: r.code, ms: Date.now() - started };
  }

  it("is an exec-form python -c argv of probe.py, with loopback, port, path and timeout as its arguments", () => {
    const argv = pythonHealthProbe({ port: 8123, path: "/health", timeoutSeconds: 4 });
    assert.deepEqual(argv, ["python", "-c", probeSource(), "127.0.0.1", "8123", "/health", "4"], "the probe's source, then its arguments");
  });

  it("is probe.py's text; without a path the probe only connects (an empty PATH argument)", async () => {
    assert.match(probeSource(), /^# The one HTTP\/TCP probe/, "the source as text");
    const tcp = probeArgv("python", { host: "127.0.0.1", port, timeoutSeconds: 2 });
    assert.deepEqual(tcp.slice(3), ["127.0.0.1", String(port), "", "2"], "PATH is empty");
    seen.length = 0;
    const r = await run("python3", tcp.slice(1), { allowFailure: true, timeoutMs: 30_000 });
    assert.deepEqual([r.code, r.stdout], [0, ""], "connected, nothing printed");
    assert.deepEqual(seen, [], "no HTTP request was sent");
  });

  it("exits 0 on a 2xx answer", async () => {
    assert.equal((await probe("/ok")).code, 0);
  });

  it("exits 0 on a 3xx answer without following it", async () => {
    seen.length = 0;
    assert.equal((await probe("/moved")).code, 0);
    assert.deepEqual(seen, ["/moved"]);
  });

  it("exits 1 on 4xx and 5xx answers", async () => {
    assert.equal((await probe("/missing")).code, 1);
    assert.equal((await probe("/broken")).code, 1);
  });

  it("exits 1 when nothing listens", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    assert.equal((await probe("/ok", 2, freePort)).code, 1);
  });

  it("exits 1 within the timeout when the server hangs", async () => {
    const r = await probe("/hang", 1);
    assert.equal(r.code, 1);
    assert.ok(r.ms < 1000 + 1500, `took ${r.ms} ms`);
  });

  it("exits 1 within the timeout when the answer trickles in", async () => {
    const r = await probe("/", 1, tricklePort);
    assert.equal(r.code, 1);
    assert.ok(r.ms >= 900 && r.ms < 1000 + 1500, `took ${r.ms} ms`);
  });

  it("sends an awkward path verbatim", async () => {
    seen.length = 0;
    const path = `/ok?q="it's"&x=\\1`;
    assert.equal((await probe(path)).code, 0);
    assert.deepEqual(seen, [path]);
  });
});
