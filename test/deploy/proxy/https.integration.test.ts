// HTTPS for a domain, offline: Caddy (the product's image, container steps and Caddyfile) gets
// its certificate from pebble on a user-defined network where demo.pydeploy.test is a network
// alias of the proxy. Checks the chain, the HTTP redirect, and that recreating the proxy with
// the same volume orders nothing new.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { publishedPorts, renderCaddyfile } from "../../../components/deploy/proxy/proxyConfig";
import {
  ProxyContainerSettings, proxyConfigSteps, proxyNames, proxySetupSteps, upstreamAlias,
} from "../../../components/deploy/proxy/proxyContainer";
import { switchPlan } from "../../../components/deploy/proxy/switch";
import { docker, ensureBaseImage, uniqueName } from "../../support/docker/localEngine";
import { ensurePebbleImage, Pebble, startPebble } from "../../support/proxy/pebble";
import { BACKEND_PORT, buildProxyImage, freePort, leftovers, passesGate, removeLeftovers, startBackend } from "../../support/proxy/harness";
import type { ProxyStdin } from "../../../components/deploy/proxy/steps";
import { runDockerSteps } from "../../../components/deploy/runner/dockerSteps";
import { localHost, type LocalHost } from "../../../components/deploy/runner/transport";

const DOMAIN = "demo.pydeploy.test";
const EMAIL = "ops@pydeploy.test";
const app = `pdt${uniqueName("x").slice(2)}`;
const names = proxyNames(app);
const proxyImage = `${app}/proxy:test`;
let pebbleImage: string;
const backend = `${app}-web-blue`;
const left = leftovers();
let pebble: Pebble;
let spec: ProxyContainerSettings;
let inputs: Partial<Record<ProxyStdin, string>>;
/** The deployer's executor runs every step here, on the local engine. */
let host: LocalHost;
const quiet = { log: () => undefined };
let httpPort = 0;
let httpsPort = 0;

interface Served {
  authorized: boolean;
  authorizationError?: string;
  subjectAltName: string;
  fingerprint256: string;
  body: string;
}

/** GET / over TLS to the proxy's published 443, with SNI = the domain, verifying against `caPem`. */
function httpsGet(caPem: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: httpsPort, servername: DOMAIN, ca: caPem, rejectUnauthorized: false, timeout: 5000 });
    let data = "";
    socket.on("secureConnect", () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${DOMAIN}\r\nConnection: close\r\n\r\n`);
    });
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (data += d));
    socket.on("timeout", () => socket.destroy(new Error("TLS GET timed out")));
    socket.on("error", reject);
    socket.on("end", () => {
      const cert = socket.getPeerCertificate();
      resolve({
        authorized: socket.authorized,
        authorizationError: socket.authorizationError?.toString(),
        subjectAltName: cert.subjectaltname ?? "",
        fingerprint256: cert.fingerprint256,
        body: data.split("\r\n\r\n").slice(1).join("\r\n\r\n"),
      });
    });
  });
}

/** Waits until the proxy serves a certificate for the domain that chains to pebble's root. */
async function waitForCertificate(rootPem: string): Promise<Served> {
  const deadline = Date.now() + 90_000;
  let last: unknown;
  for (;;) {
    try {
      const served = await httpsGet(rootPem);
      if (served.authorized) return served;
      last = served.authorizationError;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const logs = await docker(["logs", "--tail", "60", names.container], { allowFailure: true });
      throw new Error(`no certificate from pebble after 90 s (last: ${last})\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function httpGetRaw(path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: httpPort, path, headers: { host: DOMAIN }, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on("timeout", () => req.destroy(new Error("HTTP GET timed out")));
    req.on("error", reject);
  });
}

describe("HTTPS for a domain with certificates from ACME (pebble)", { timeout: 15 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    host = await localHost();
    left.containers.push(names.container, backend, `${app}-pebble`);
    left.networks.push(names.network);
    left.volumes.push(names.volume);
    left.images.push(proxyImage);
    // The pebble image is kept: it is built once per version of its recipe (ensurePebbleImage).
    [pebbleImage] = await Promise.all([ensurePebbleImage(), buildProxyImage(proxyImage)]);
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    const sites = [{ domain: DOMAIN, upstream: { alias: upstreamAlias(app, "web"), port: BACKEND_PORT } }];
    assert.deepEqual(publishedPorts(sites), [80, 443], "a domain site publishes 80 and 443");
    spec = {
      names, image: proxyImage, logMaxSize: "10m", logMaxFiles: 1,
      // On a server the host ports are 80 and 443 too; here any free ones.
      ports: [{ host: httpPort, container: 80 }, { host: httpsPort, container: 443 }],
      // The test's DNS: pebble resolves the domain to the proxy on the network.
      networkAliases: [DOMAIN],
    };
    // The network first (pebble joins it), then pebble, then the proxy.
    await runDockerSteps(host, proxySetupSteps(spec).slice(0, 1), quiet);
    pebble = await startPebble({ image: pebbleImage, network: names.network, container: `${app}-pebble` });
    inputs = {
      proxyConfig: renderCaddyfile({ sites, acme: { email: EMAIL, directory: pebble.directoryUrl, customCaRoot: true } }),
      acmeCaRoot: pebble.listenerCaPem,
    };
    await startBackend({ name: backend, body: "blue" });
    assert.ok(await passesGate(backend, 15_000), "the backend passes its gate");
    await runDockerSteps(host, proxySetupSteps(spec), quiet);
    await runDockerSteps(host, proxyConfigSteps(names, { customCaRoot: true }), { stdin: inputs, ...quiet });
    const plan = switchPlan({ proxy: names, proxyImage, role: "web", next: backend, previous: [], port: BACKEND_PORT, reach: { kind: "http", path: "/health" }, drainSeconds: 10 });
    await runDockerSteps(host, plan.attach, quiet);
  });

  after(async () => {
    await pebble?.remove();
    await removeLeftovers(left);
  });

  let first: Served;

  it("serves the app over HTTPS with a certificate for the domain that chains to pebble's root", async () => {
    const root = await pebble.issuingRootPem();
    first = await waitForCertificate(root);
    assert.equal(first.authorized, true, `the served chain verifies against pebble's issuing root: ${first.authorizationError}`);
    assert.match(first.subjectAltName, new RegExp(`DNS:${DOMAIN.replace(/\./g, "\\.")}(,|$)`), `the certificate names ${DOMAIN}: ${first.subjectAltName}`);
    assert.match(first.body, /^blue\n$/, "HTTPS reaches the app");
    const other = await httpsGet(pebble.listenerCaPem);
    assert.equal(other.authorized, false, "the same chain does not verify against an unrelated CA (pebble's listener CA): the check above can fail");
    assert.equal(await pebble.orderCount(), 1, "one ACME order");
    assert.equal(await pebble.accountCount(), 1, "one ACME account");
  });

  it("redirects HTTP to HTTPS, keeping the path and query", async () => {
    const res = await httpGetRaw("/some/path?q=1");
    assert.equal(res.status, 308, "a permanent redirect");
    assert.equal(res.location, `https://${DOMAIN}/some/path?q=1`, "to the same URL over HTTPS");
  });

  it("keeps the certificate and the ACME account on the volume", async () => {
    const { stdout } = await docker(["exec", names.container, "find", "/data/caddy", "-type", "f"]);
    const files = stdout.trim().split("\n");
    assert.ok(files.some((f) => f.endsWith(`/certificates/pebble-14000-dir/${DOMAIN}/${DOMAIN}.crt`)), `the certificate is under /data/caddy: ${files.join(", ")}`);
    assert.ok(files.some((f) => f.endsWith(`/certificates/pebble-14000-dir/${DOMAIN}/${DOMAIN}.key`)), "and its key");
    assert.ok(files.some((f) => new RegExp(`/acme/pebble-14000-dir/users/${EMAIL.replace(/\./g, "\\.")}/[^/]+\\.json$`).test(f)), "the ACME account is under /data/caddy");
    const mounts = await docker(["inspect", "--format", '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{"\\n"}}{{end}}', names.container]);
    assert.match(mounts.stdout, new RegExp(`^volume ${names.volume} /data$`, "m"), "/data is the named volume");
  });

  it("recreating the proxy with the same volume (a redeploy or proxy upgrade) orders nothing and serves the same certificate", async () => {
    await docker(["rm", "--force", names.container]);
    await runDockerSteps(host, proxySetupSteps(spec), quiet);
    await runDockerSteps(host, proxyConfigSteps(names, { customCaRoot: true }), { stdin: inputs, ...quiet });
    const again = await waitForCertificate(await pebble.issuingRootPem());
    assert.equal(again.fingerprint256, first.fingerprint256, "the same certificate as before, from the volume");
    assert.equal(again.body, "blue\n", "HTTPS reaches the app again");
    assert.equal(await pebble.orderCount(), 1, "still one ACME order: nothing was issued again");
    assert.equal(await pebble.accountCount(), 1, "still one ACME account");
  });
});
