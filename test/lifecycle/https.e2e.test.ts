// Issue 9: HTTPS for app.domain, offline, against Debian's pebble (Let's Encrypt's ACME test
// server), through the engine harness on the local target: the certificate chains to pebble's
// root, HTTP redirects to HTTPS, and a redeploy, even one that recreates the proxy container,
// places no new order (certificates and account live on the proxy's volume).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, describe, test } from "node:test";
import { BASE_IMAGE, docker, ensureBaseImage, waitFor } from "../support/docker/localEngine";
import { ensurePebbleImage, Pebble, startPebble } from "../support/proxy/pebble";
import { ExampleProject, mustSucceed, programStack, removeAppImages, uniqueApp, WEB_ROLE } from "../support/lifecycle/exampleProject";

const APP = uniqueApp("tls");
const DOMAIN = `${APP}.pydeploy.test`;
let project: ExampleProject;
let stateDir: string;
let pebble: Pebble;

const stack = () =>
  programStack({
    stateDir,
    stack: "tls",
    config: {
      "pydeploy:target": "local",
      "pydeploy:app": { name: APP, path: project.dir, baseImage: BASE_IMAGE, env: { APP_NAME: APP }, domain: DOMAIN, roles: { web: { ...WEB_ROLE } } },
      "pydeploy:deploy": { remoteDir: path.join(stateDir, "apps"), healthTimeoutSeconds: 20, stopGraceSeconds: 5, acme: { directory: pebble.directoryUrl, caRoot: pebble.listenerCaPem, email: "ops@example.com" } },
    },
  });

/** GET https://DOMAIN/ on this machine's 443, trusting only pebble's issuing root. */
function httpsGet(root: string): Promise<{ status: number; body: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: "127.0.0.1", port: 443, path: "/", servername: DOMAIN, headers: { host: DOMAIN }, ca: root, timeout: 5000 }, (res) => {
      let body = "";
      // Read now: the socket is gone by the end of the response.
      const issuer = String((res.socket as TLSSocket).getPeerCertificate().issuer?.CN ?? "");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, issuer }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

function httpGet(): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: 80, path: "/some/page?x=1", headers: { host: DOMAIN }, timeout: 5000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on("error", reject);
  });
}

describe("lifecycle: HTTPS for a domain, certificates from pebble", { timeout: 20 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    project = new ExampleProject();
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-lifecycle-tls-"));
    const pebbleImage = await ensurePebbleImage();
    // The proxy's network, made before the deploy (which keeps an existing one), so that pebble
    // and the proxy reach each other by name: pebble validates the domain on the proxy's port 80.
    await docker(["network", "create", "--label", `pydeploy.proxy=${APP}`, `${APP}-proxy`]);
    pebble = await startPebble({ image: pebbleImage, network: `${APP}-proxy`, container: `${APP}-pebble-${randomBytes(3).toString("hex")}` });
  });

  after(async () => {
    const ids = (await docker(["ps", "-aq", "--filter", `label=pydeploy.app=${APP}`])).stdout.split("\n").filter(Boolean);
    if (ids.length) await docker(["rm", "--force", ...ids], { allowFailure: true });
    await pebble?.remove();
    await docker(["rm", "--force", `${APP}-proxy`], { allowFailure: true });
    await docker(["network", "rm", `${APP}-proxy`], { allowFailure: true });
    await docker(["volume", "rm", `${APP}-proxy-data`], { allowFailure: true });
    await removeAppImages(APP);
    project?.cleanup();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test("the first up serves the app over HTTPS with a certificate that chains to pebble's root; HTTP redirects", async () => {
    mustSucceed(await stack().up(), "first up");
    const root = await pebble.issuingRootPem();
    const answer = await waitFor("HTTPS with pebble's certificate", async () => {
      const r = await httpsGet(root).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, { timeoutMs: 90_000, intervalMs: 1000 });
    assert.match(answer.body, new RegExp(`hello from ${APP} 1\\.0\\.0`), "the app answers over HTTPS, verified against pebble's root only");
    assert.match(answer.issuer, /Pebble/i, `issued by pebble (${answer.issuer})`);
    assert.deepEqual(await httpGet(), { status: 308, location: `https://${DOMAIN}/some/page?x=1` }, "HTTP redirects to HTTPS, path and query kept");
    assert.equal(await pebble.orderCount(), 1, "one order");
  });

  test("a redeploy that recreates the proxy container places no new order", async () => {
    const orders = await pebble.orderCount();
    await docker(["rm", "--force", `${APP}-proxy`]);
    project.setVersion("2.0.0");
    mustSucceed(await stack().up(), "redeploy");
    const root = await pebble.issuingRootPem();
    const answer = await waitFor("HTTPS after the redeploy", async () => {
      const r = await httpsGet(root).catch(() => undefined);
      return r?.status === 200 && /2\.0\.0/.test(r.body) ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    assert.match(answer.body, /2\.0\.0/, "v2 over HTTPS");
    assert.equal(await pebble.orderCount(), orders, "no new order: the certificate came from the volume");
    assert.equal(await pebble.accountCount(), 1, "and no new ACME account");
  });

  test("destroy removes the proxy and keeps its certificate volume", async () => {
    mustSucceed(await stack().destroy(), "destroy");
    assert.notEqual((await docker(["container", "inspect", `${APP}-proxy`], { allowFailure: true })).code, 0, "no proxy container");
    assert.equal((await docker(["volume", "inspect", `${APP}-proxy-data`], { allowFailure: true })).code, 0, "the certificates are kept");
  });
});
