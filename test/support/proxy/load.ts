// An open-loop HTTP(S) load generator: `rate` requests per second whatever the answers take, through a
// keep-alive agent or a new connection per request. Counts every request that did not get a 200.
import * as http from "node:http";
import * as https from "node:https";

export interface LoadOptions {
  url: string;
  /** Requests started per second. */
  rate: number;
  /** true: reuse connections (Node's keep-alive agent); false: one connection per request. */
  keepAlive: boolean;
  /** GET (default) or POST with a small body: a proxy may retry a GET, never a POST. */
  method?: "GET" | "POST";
  /** Host header (and, over HTTPS, the TLS server name), when the URL's host is not the name the proxy serves. */
  host?: string;
  /** Over HTTPS: the only CA the server's certificate may chain to. */
  ca?: string;
  timeoutMs?: number;
}

export interface LoadResult {
  total: number;
  failed: number;
  /** Failure kinds (HTTP status or error code) and how often each happened. */
  failures: Record<string, number>;
  /** Body of the 200 answers (the backend's name) and how often each came. */
  servedBy: Record<string, number>;
  seconds: number;
  maxLatencyMs: number;
  p99LatencyMs: number;
}

export interface RunningLoad {
  /** Stops starting requests, waits for those in flight, and returns the counts. */
  stop(): Promise<LoadResult>;
  /** Counts so far (requests in flight are not counted yet). */
  snapshot(): { total: number; failed: number; servedBy: Record<string, number> };
  /** Seconds since the load started. */
  elapsedSeconds(): number;
}

export function startLoad(o: LoadOptions): RunningLoad {
  if (!(o.rate > 0)) throw new Error(`load rate must be > 0 requests per second, got ${o.rate}`);
  const secure = new URL(o.url).protocol === "https:";
  const agent = secure
    ? new https.Agent({ keepAlive: o.keepAlive, maxSockets: 256, ca: o.ca, ...(o.host ? { servername: o.host } : {}) })
    : new http.Agent({ keepAlive: o.keepAlive, maxSockets: 256 });
  const request = secure ? https.request : http.request;
  const timeoutMs = o.timeoutMs ?? 15_000;
  const started = Date.now();
  const failures: Record<string, number> = {};
  const servedBy: Record<string, number> = {};
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let total = 0;
  let failed = 0;
  let stopping = false;

  const fail = (kind: string) => {
    failed++;
    failures[kind] = (failures[kind] ?? 0) + 1;
  };

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = Date.now();
      let finished = false;
      // Counts each request once, whichever of its events comes first.
      const finish = (failure?: string) => {
        if (finished) return;
        finished = true;
        if (failure !== undefined) fail(failure);
        total++;
        latencies.push(Date.now() - t0);
        resolve();
      };
      const body = o.method === "POST" ? "ping" : undefined;
      const headers: http.OutgoingHttpHeaders = { ...(o.host ? { host: o.host } : {}), ...(body ? { "content-length": body.length } : {}) };
      const req = request(o.url, { method: o.method ?? "GET", agent, timeout: timeoutMs, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          if (res.statusCode !== 200) return finish(`HTTP ${res.statusCode}`);
          servedBy[text.trim()] = (servedBy[text.trim()] ?? 0) + 1;
          finish();
        });
        res.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
      req.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
      req.end(body);
    });

  // Every 5 ms, start as many requests as the schedule owes: the rate holds even when answers are slow.
  const timer = setInterval(() => {
    if (stopping) return;
    const due = Math.floor(((Date.now() - started) / 1000) * o.rate);
    while (sent < due) {
      sent++;
      const p = one();
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
    }
  }, 5);

  return {
    snapshot: () => ({ total, failed, servedBy: { ...servedBy } }),
    elapsedSeconds: () => (Date.now() - started) / 1000,
    async stop() {
      stopping = true;
      clearInterval(timer);
      const seconds = (Date.now() - started) / 1000;
      await Promise.all([...inFlight]);
      agent.destroy();
      latencies.sort((a, b) => a - b);
      return {
        total,
        failed,
        failures,
        servedBy,
        seconds,
        maxLatencyMs: latencies.at(-1) ?? 0,
        p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      };
    },
  };
}
