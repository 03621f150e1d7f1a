// Shared by the proxy tests and bench/proxy.ts: the proxy image built from the local
// base image, the tiny backend, its gate, free ports and clean-up. Real Docker, no mocks.
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { renderProxyDockerfile } from "../../../components/image/proxyDockerfile";
import { BASE_IMAGE, docker } from "../docker/localEngine";

export const BACKEND_PORT = 8000;
const BACKEND_SCRIPT = path.join(__dirname, "backend.py");

/** Builds the proxy image the product renders, FROM the local base image, with the legacy builder. */
export async function buildProxyImage(tag: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-proxy-image-"));
  try {
    fs.writeFileSync(path.join(dir, "Dockerfile"), renderProxyDockerfile({ baseImage: BASE_IMAGE }));
    await docker(["build", "--quiet", "-t", tag, dir], { env: { ...process.env, DOCKER_BUILDKIT: "0" }, timeoutMs: 10 * 60_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface BackendOptions {
  name: string;
  /** GET / answers this. */
  body: string;
  /** What GET /health answers (503: a release that never becomes healthy). */
  healthStatus?: number;
  /** Start it on this network (else the default bridge, off the proxy network). */
  network?: string;
  delayMs?: number;
  /** Listen address inside the container (127.0.0.1: reachable by its own gate only). */
  bind?: string;
  /** On SIGTERM, answer the connections queued on the listening socket before closing it (most servers reset them). */
  acceptQueued?: boolean;
}

/** The backend (backend.py) on the base image, run like a release: --init, restart policy, no host port. */
export async function startBackend(o: BackendOptions): Promise<void> {
  await docker([
    "run", "--detach", "--init", "--restart", "unless-stopped",
    "--name", o.name,
    ...(o.network ? ["--network", o.network] : []),
    "--volume", `${BACKEND_SCRIPT}:/srv/backend.py:ro`,
    "--env", `NAME=${o.body}`,
    "--env", `PORT=${BACKEND_PORT}`,
    "--env", `HEALTH_STATUS=${o.healthStatus ?? 200}`,
    "--env", `DELAY_MS=${o.delayMs ?? 20}`,
    "--env", `BIND=${o.bind ?? "0.0.0.0"}`,
    "--env", `ACCEPT_QUEUED=${o.acceptQueued ? 1 : 0}`,
    BASE_IMAGE, "python3", "/srv/backend.py",
  ]);
}

const GATE_CODE = [
  "import http.client, sys",
  `c = http.client.HTTPConnection("127.0.0.1", ${BACKEND_PORT}, timeout=2)`,
  'c.request("GET", "/health")',
  "sys.exit(0 if c.getresponse().status == 200 else 1)",
].join("\n");

/** The release gate: GET /health inside the container answers 200 within `timeoutMs`. */
export async function passesGate(container: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await docker(["exec", container, "python3", "-c", GATE_CODE], { allowFailure: true });
    if (res.code === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A TCP port nothing listens on right now, for publishing on the host. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Leftovers {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
}

export function leftovers(): Leftovers {
  return { containers: [], networks: [], volumes: [], images: [] };
}

/** Removes everything listed, in dependency order; missing things are fine. */
export async function removeLeftovers(l: Leftovers): Promise<void> {
  if (l.containers.length) await docker(["rm", "--force", "--volumes", ...l.containers], { allowFailure: true });
  for (const n of l.networks) await docker(["network", "rm", n], { allowFailure: true });
  if (l.volumes.length) await docker(["volume", "rm", "--force", ...l.volumes], { allowFailure: true });
  if (l.images.length) await docker(["image", "rm", "--force", ...l.images], { allowFailure: true });
}
