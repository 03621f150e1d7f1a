// HTTPS where users turn it on: a domain pointing at a server (target existing), with
// certificates from pebble, on a Docker-in-Docker server of each image store. Through the engine
// harness. The proxy on the server reaches pebble by address; pebble resolves the test's names
// through its own dnsmasq: the domain to the server, a second name to an address where nothing
// listens (a DNS record pointing elsewhere).
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import type { TLSSocket } from "node:tls";
import { after, before, describe, test } from "node:test";
import { BASE_IMAGE, docker, uniqueName, waitFor, waitForHttp200 } from "../support/docker/localEngine";
import { ensurePebbleImage, Pebble, startPebble } from "../support/proxy/pebble";
import { startLoad, type LoadResult } from "../support/proxy/load";
import { serverExec, TestServer, type ImageStore } from "../support/ssh/sshServer";
import { ExampleProject, mustSucceed, programStack, stepOutput, uniqueApp, WEB_ROLE } from "../support/lifecycle/exampleProject";
import { existingTargetConfig, startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";

/** The base image with one more label: another image ID, so the proxy built FROM it is a new image. */
const NEXT_BASE = `pydeploy/test-base-next:${uniqueApp("tls")}`;
let nextBaseBuilt: Promise<void> | undefined;
const buildNextBase = () =>
  (nextBaseBuilt ??= docker(["build", "--quiet", "-t", NEXT_BASE, "-"], {
    input: `FROM ${BASE_IMAGE}\nLABEL org.pydeploy.test="a base image update"\n`,
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
  }).then(() => undefined));

after(async () => {
  if (nextBaseBuilt) await docker(["image", "rm", "--force", NEXT_BASE], { allowFailure: true });
});

interface TlsAnswer {
  status: number;
  body: string;
  location?: string;
  /** Subject alternative names of the certificate served ("DNS:name, …"). */
  names: string;
  serial: string;
}

/** GET over HTTPS on the server's 443 for `domain`, trusting only `root` (pebble's issuing root). */
function httpsGet(address: string, domain: string, root: string): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    // A new connection and no TLS session reuse: a resumed session shows no peer certificate.
    const req = https.get({ host: address, port: 443, path: "/", servername: domain, headers: { host: domain }, ca: root, timeout: 5000, agent: false }, (res) => {
      let body = "";
      // Read now: the socket is gone by the end of the response.
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, names: cert.subjectaltname ?? "", serial: cert.serialNumber }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

function httpGet(address: string, path: string, host?: string): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port: 80, path, headers: host ? { host } : {}, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

function assertNoFailure(results: LoadResult[], what: string): void {
  for (const r of results) {
    assert.ok(r.total > 0, `${what}: requests were sent`);
    assert.equal(r.failed, 0, `${what}: ${r.failed} of ${r.total} requests failed: ${JSON.stringify(r.failures)}`);
  }
}

function httpsOnServer(store: ImageStore): void {
  const APP = uniqueApp(`tls${store[0]}`);
  const DOMAIN = `${APP}.pydeploy.test`;
  // Its DNS record names an address where nothing answers on 80 or 443.
  const ELSEWHERE = `${APP}-elsewhere.pydeploy.test`;
  let server: TestServer;
  let project: ExampleProject;
  let stateDir: string;
  let pebble: Pebble;
  let root = "";

  const stack = (web: Record<string, unknown>, baseImage = BASE_IMAGE) =>
    programStack({
      stateDir,
      stack: "tls",
      secretKeys: ["pydeploy:sshPrivateKey"],
      config: {
        ...existingTargetConfig(server),
        "pydeploy:app": { name: APP, path: project.dir, baseImage, env: { APP_NAME: APP }, roles: { web: { ...WEB_ROLE, ...web } } },
        "pydeploy:deploy": {
          healthTimeoutSeconds: 30,
          stopGraceSeconds: 5,
          acme: { directory: pebble.directoryUrlByAddress, caRoot: pebble.listenerCaPem, email: "ops@example.com", timeoutSeconds: 60 },
        },
      },
    });
  const onServer = async (script: string) => (await serverExec(server, ["sh", "-c", script], { allowFailure: true })).stdout.trim();
  const serveHttps = (version: string) =>
    waitFor(`HTTPS for ${DOMAIN} serving ${version}`, async () => {
      const r = await httpsGet(server.host, DOMAIN, root).catch(() => undefined);
      return r?.status === 200 && r.body.includes(`hello from ${APP} ${version}`) ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 });

  describe(`lifecycle: HTTPS on an existing server (${store} image store), certificates from pebble`, { timeout: 30 * 60_000 }, () => {
    before(async () => {
      ({ server, project, stateDir } = await startServerScenario(`lifecycle-tls-${store}`, { store }));
      pebble = await startPebble({
        image: await ensurePebbleImage(),
        // The default bridge, beside the server: its containers reach pebble by address.
        network: "bridge",
        container: uniqueName(`${APP}-pebble`),
        hosts: { [DOMAIN]: server.host, [ELSEWHERE]: "127.0.0.1" },
      });
      root = await pebble.issuingRootPem();
    });

    after(async () => {
      await pebble?.remove();
      await stopServerScenario(APP, { server, project, stateDir });
    });

    test("plain HTTP first: the app serves on the server's port 80", async () => {
      mustSucceed(await stack({ publish: 80 }).up(), "first up");
      assert.match(await waitForHttp200(`http://${server.host}/`), new RegExp(`hello from ${APP} 1\\.0\\.0`));
    });

    test("a domain whose DNS points elsewhere: the up fails saying so (the challenge, the name, the addresses), and HTTP on 80 keeps serving", async () => {
      const r = await stack({ domain: ELSEWHERE }).up();
      assert.equal(r.ok, false, "the up fails");
      const error = r.error ?? "";
      assert.match(error, new RegExp(`HTTPS for ${ELSEWHERE.replace(/\./g, "\\.")}: the ACME challenge failed`), `it says which name failed: ${error}`);
      assert.match(error, new RegExp(`reach this server \\(${server.host.replace(/\./g, "\\.")}\\)`), "and the server's address the name should point at");
      assert.match(error, /127\.0\.0\.1:80: connect: connection refused/, "and what the CA met at the address the name has");
      const plain = await httpGet(server.host, "/");
      assert.equal(plain.status, 200, `HTTP on 80 still serves the app, not a redirect: ${plain.status} ${plain.location ?? ""}`);
      assert.match(plain.body, new RegExp(`hello from ${APP} 1\\.0\\.0`));
      assert.equal(await onServer(`docker ps --filter label=pydeploy.app=${APP} --format '{{.Names}}' | wc -l`), "1", "one app container runs, as before");
    });

    test("the domain points at the server: HTTPS with a certificate for it that chains to pebble's root; HTTP redirects", async () => {
      const ordersBefore = await pebble.orderCount();
      mustSucceed(await stack({ domain: DOMAIN }).up(), "up with the domain");
      const answer = await serveHttps("1.0.0");
      assert.match(answer.names, new RegExp(`DNS:${DOMAIN.replace(/\./g, "\\.")}`), `the certificate names the domain (${answer.names})`);
      const redirect = await httpGet(server.host, "/some/page?x=1", DOMAIN);
      assert.deepEqual({ status: redirect.status, location: redirect.location }, { status: 308, location: `https://${DOMAIN}/some/page?x=1` }, "HTTP redirects to HTTPS, path and query kept");
      assert.equal(await pebble.orderCount(), ordersBefore + 1, "one new order");
    });

    test("a code-only redeploy under HTTPS load: every request answered, no new order", async () => {
      const orders = await pebble.orderCount();
      const first = await httpsGet(server.host, DOMAIN, root);
      project.setVersion("2.0.0");
      const target = `https://${server.host}/`;
      const loads = [
        startLoad({ url: target, host: DOMAIN, ca: root, rate: 20, keepAlive: true }),
        startLoad({ url: target, host: DOMAIN, ca: root, rate: 8, keepAlive: false, method: "POST" }),
      ];
      try {
        mustSucceed(await stack({ domain: DOMAIN }).up(), "code-only redeploy");
        await serveHttps("2.0.0");
      } finally {
        await new Promise((r) => setTimeout(r, 2000));
      }
      assertNoFailure(await Promise.all(loads.map((l) => l.stop())), "code-only redeploy over HTTPS");
      assert.equal(await pebble.orderCount(), orders, "no new order");
      assert.equal((await httpsGet(server.host, DOMAIN, root)).serial, first.serial, "the same certificate");
    });

    test("a proxy upgrade (a new proxy image from an updated base) keeps the certificate: no new order", async () => {
      await buildNextBase();
      const orders = await pebble.orderCount();
      const before = await httpsGet(server.host, DOMAIN, root);
      const proxyImage = await onServer(`docker inspect --format '{{.Image}}' ${APP}-proxy`);
      mustSucceed(await stack({ domain: DOMAIN }, NEXT_BASE).up(), "up with the updated base image");
      assert.notEqual(await onServer(`docker inspect --format '{{.Image}}' ${APP}-proxy`), proxyImage, "the proxy container runs a new image");
      const after = await serveHttps("2.0.0");
      assert.equal(after.serial, before.serial, "the same certificate, from the proxy's volume");
      assert.equal(await pebble.orderCount(), orders, "no new order");
      assert.equal(await pebble.accountCount(), 1, "and no new ACME account");
    });

    test(`destroy keeps ${"<app>"}-proxy-data, which holds the certificate`, async () => {
      const r = mustSucceed(await stack({ domain: DOMAIN }, NEXT_BASE).destroy(), "destroy");
      assert.match(stepOutput(r, `${APP}-host`), new RegExp(`keeping volume ${APP}-proxy-data: the proxy's certificates`), "it says the volume is kept, and why");
      assert.equal(await onServer(`docker ps -aq --filter name=${APP}; docker network ls -q --filter name=${APP}-proxy`), "", "no container or network of the app");
      assert.equal(await onServer(`docker volume ls -q --filter name=${APP}-proxy-data`), `${APP}-proxy-data`, "the volume is there");
    });
  });
}

httpsOnServer("classic");
httpsOnServer("containerd");
