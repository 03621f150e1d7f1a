// A release whose proxy serves a domain is live only once the domain has its certificate
// (components/deploy/runner/certificates.ts, release.ts), against the in-memory Docker host and
// its scripted CA: the CA's refusal fails the release with the name, the server's address and
// the CA's problem, and the release is rolled back, the proxy's previous config included.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReleaseContainerSettings, RoleSettings } from "../../../components/deploy/containerSpec";
import type { ProxySettings } from "../../../components/deploy/spec";
import { deployRelease } from "../../../components/deploy/runner/release";
import { awaitCertificates, challengeFailed } from "../../../components/deploy/runner/certificates";
import { proxyNames } from "../../../components/deploy/proxy/proxyContainer";
import { FakeDockerHost } from "../../support/docker/fakeDocker";
import { demoReleaseContainerSettings } from "../../support/deploy/releaseContainerSettings";

const DOMAIN = "app.example.com";
const PROXY_IMAGE = "pydeploy/demo-proxy:0123456789ab";
const CONFIG_FILE = ".pydeploy/demo/proxy.Caddyfile";
const WEB: RoleSettings = { role: "web", command: ["python", "-m", "demo.web"], ports: [], gate: { kind: "http", port: 8000, path: "/health" }, mounts: [], upstreams: [{ port: 8000, reach: { kind: "http", path: "/health" } }] };
const UPSTREAM = { alias: "demo-web", port: 8000 };
const PLAIN: ProxySettings = { image: PROXY_IMAGE, sites: [{ publishedPort: 80, upstream: UPSTREAM }] };
const HTTPS = (timeoutSeconds = 5): ProxySettings => ({ image: PROXY_IMAGE, sites: [{ domain: DOMAIN, upstream: UPSTREAM }], acme: { email: "ops@example.com", timeoutSeconds } });
const REFUSED = 'Get "http://app.example.com:80/.well-known/acme-challenge/x": dial tcp 198.51.100.9:80: connect: connection refused';

function fakeHost(): FakeDockerHost {
  const host = new FakeDockerHost();
  host.addImage({ tag: PROXY_IMAGE, app: "" });
  return host;
}

async function release(host: FakeDockerHost, version: string, proxy: ProxySettings, serverAddress?: string) {
  const s: ReleaseContainerSettings = demoReleaseContainerSettings(version, `pydeploy/demo:${version}`, [WEB]);
  host.addImage({ tag: s.image, app: "demo" });
  const lines: string[] = [];
  const started = Date.now();
  try {
    await deployRelease(host, s, { healthTimeoutSeconds: 1, keepImages: 3, log: (l) => lines.push(l), pollMs: 5, reachSeconds: 1, proxy: { spec: proxy, appDir: ".pydeploy/demo", serverAddress } });
    return { lines, error: undefined as Error | undefined, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    return { lines, error: err as Error, seconds: (Date.now() - started) / 1000 };
  }
}

describe("a release with a domain waits for its certificate", { timeout: 30_000 }, () => {
  test("the CA issues: the release is live, and says the certificate is in place", async () => {
    const host = fakeHost();
    host.acme.set(DOMAIN, "issue");
    const r = await release(host, "v1", HTTPS());
    assert.equal(r.error, undefined, `released: ${r.error?.message}`);
    assert.ok(r.lines.includes(`HTTPS for ${DOMAIN}: the proxy has its certificate`), r.lines.join("\n"));
    assert.equal(host.states()["demo-web-v1"], "running");
  });

  test("the CA refuses on the first release: it fails with the name, the server's address and the CA's problem; nothing of it stays, and the next up asks again", async () => {
    const host = fakeHost();
    host.acme.set(DOMAIN, REFUSED);
    const r = await release(host, "v1", HTTPS(), "203.0.113.7");
    assert.ok(r.error, "the release failed");
    assert.equal(r.error.message, challengeFailed(DOMAIN, [`http-01: ${REFUSED}`], "203.0.113.7"));
    assert.match(r.error.message, /^HTTPS for app\.example\.com: the ACME challenge failed/, "it says what failed, for which name");
    assert.match(r.error.message, /reach this server \(203\.0\.113\.7\) at app\.example\.com/, "and where the name should point");
    assert.match(r.error.message, /dial tcp 198\.51\.100\.9:80: connect: connection refused/, "and what the CA met at the address it found");
    assert.ok(r.seconds < 4, `it failed on the CA's answer, not at the timeout (${r.seconds}s)`);
    assert.deepEqual(host.states(), { "demo-proxy": "running" }, "the new container is gone");
    assert.ok(!host.files.has(CONFIG_FILE), "no config is recorded as loaded");
    host.acme.set(DOMAIN, "issue");
    const again = await release(host, "v1", HTTPS());
    assert.equal(again.error, undefined, `the next up succeeds once the name points here: ${again.error?.message}`);
    assert.equal(host.proxyConfigs.length, 2, "its config was loaded again, so the CA was asked again");
  });

  test("adding a domain the CA cannot reach: the release is rolled back and the proxy serves the plain config it had", async () => {
    const host = fakeHost();
    assert.equal((await release(host, "v1", PLAIN)).error, undefined, "v1 over plain HTTP");
    const plain = host.files.get(CONFIG_FILE);
    host.acme.set(DOMAIN, REFUSED);
    const r = await release(host, "v2", HTTPS());
    assert.match(r.error?.message ?? "", /the ACME challenge failed/, `failed: ${r.error?.message}`);
    assert.deepEqual(host.states(), { "demo-proxy": "running", "demo-web-v1": "running" }, "v1 runs, v2 is gone");
    assert.ok([...host.containers.values()].find((c) => c.name === "demo-web-v1")!.networks.get("demo-proxy")?.includes("demo-web"), "v1 holds the role's alias again");
    assert.equal(host.proxyConfigs.length, 3, "plain, with the domain, plain again");
    assert.equal(host.proxyConfigs[2], plain, "the proxy serves the plain config again");
    assert.equal(host.files.get(CONFIG_FILE), plain, "and that is the config recorded as loaded");
    assert.ok(r.lines.includes("rollback: the proxy serves its previous config again"), r.lines.join("\n"));
  });

  test("a CA that never answers: the release fails at deploy.acme.timeoutSeconds and says so", async () => {
    const host = fakeHost();
    const r = await release(host, "v1", HTTPS(1));
    assert.match(r.error?.message ?? "", /^HTTPS for app\.example\.com: no certificate within 1s \(deploy\.acme\.timeoutSeconds\), and no answer from the CA/, `${r.error?.message}`);
    assert.ok(r.seconds >= 1, `it waited the whole second (${r.seconds}s)`);
    assert.ok(r.lines.includes(`HTTPS for ${DOMAIN}: waiting for the certificate (up to 1s)`), r.lines.join("\n"));
  });

  test("a certificate already on the volume: a redeploy neither reloads the config nor waits", async () => {
    const host = fakeHost();
    host.acme.set(DOMAIN, "issue");
    assert.equal((await release(host, "v1", HTTPS())).error, undefined);
    host.acme.set(DOMAIN, REFUSED); // the CA would refuse now: it is not asked
    const r = await release(host, "v2", HTTPS());
    assert.equal(r.error, undefined, `${r.error?.message}`);
    assert.equal(host.proxyConfigs.length, 1, "the config was loaded once");
    assert.equal(host.states()["demo-web-v2"], "running");
  });

  test("on this machine, the error names this machine as where the name should point", () => {
    assert.match(challengeFailed(DOMAIN, ["http-01: x"], undefined), /reach this server \(this machine\)/);
  });
});

describe("awaitCertificates: the wait itself", { timeout: 30_000 }, () => {
  const NAMES = proxyNames("demo");
  const proxyHost = () => {
    const host = fakeHost();
    host.containers.set("demo-proxy", {
      id: "demo-proxy", name: "demo-proxy", image: PROXY_IMAGE, labels: { "pydeploy.proxy": "demo" }, argv: [], status: "running", restartCount: 0,
      finishedAt: "0001-01-01T00:00:00Z", behaviour: { kind: "healthy" }, probes: 0, networks: new Map(),
    });
    return host;
  };
  const wait = async (host: FakeDockerHost, o: { timeoutSeconds?: number; since?: number } = {}) => {
    const lines: string[] = [];
    const started = Date.now();
    try {
      await awaitCertificates(host, NAMES, { domains: [DOMAIN], timeoutSeconds: o.timeoutSeconds ?? 1, since: o.since ?? Date.now(), pollMs: 5, log: (l) => lines.push(l) });
      return { lines, error: undefined as Error | undefined, seconds: (Date.now() - started) / 1000 };
    } catch (err) {
      return { lines, error: err as Error, seconds: (Date.now() - started) / 1000 };
    }
  };
  const failedOrder = (at: number) =>
    [
      { at, line: JSON.stringify({ logger: "http.acme_client", msg: "challenge failed", identifier: DOMAIN, challenge_type: "http-01", error: "an older order" }) },
      { at, line: JSON.stringify({ logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: DOMAIN, error: "an older order" }) },
    ];

  test("no answer: it polls, says once that it waits, and fails at the timeout with what to check", async () => {
    const host = proxyHost();
    const r = await wait(host);
    assert.equal(
      r.error?.message,
      "HTTPS for app.example.com: no certificate within 1s (deploy.acme.timeoutSeconds), and no answer from the CA in the proxy's log. Check that the proxy reaches the ACME directory, then run pulumi up again",
    );
    assert.ok(r.seconds >= 1 && r.seconds < 3, `at the timeout (${r.seconds}s)`);
    assert.deepEqual(r.lines, [`HTTPS for ${DOMAIN}: waiting for the certificate (up to 1s)`], "one waiting line");
    const looks = host.history.filter((a) => a[1] === "exec" && a[3] === "find").length;
    assert.ok(looks > 20, `it looked every few ms, as asked (${looks} looks)`);
  });

  test("a failure logged before the config was loaded is an earlier order's: it does not fail this wait", async () => {
    const host = proxyHost();
    host.proxyLog.push(...failedOrder(Date.now() - 60_000));
    const r = await wait(host, { since: Date.now() - 1000 });
    assert.match(r.error?.message ?? "", /no certificate within 1s/, `the wait ran to its timeout: ${r.error?.message}`);
  });

  test("a failure logged since the config was loaded fails it at once", async () => {
    const host = proxyHost();
    host.proxyLog.push(...failedOrder(Date.now() - 2000));
    const r = await wait(host, { since: Date.now() - 3000, timeoutSeconds: 10 });
    assert.match(r.error?.message ?? "", /the ACME challenge failed.*http-01: an older order/, `${r.error?.message}`);
    assert.ok(r.seconds < 1, `at once (${r.seconds}s)`);
  });

  test("a proxy that cannot be asked (gone) is no command error: the wait runs to its timeout", async () => {
    const host = fakeHost();
    const r = await wait(host);
    assert.match(r.error?.message ?? "", /^HTTPS for app\.example\.com: no certificate within 1s/, `${r.error?.message}`);
  });

  test("the challenge error in full", () => {
    assert.equal(
      challengeFailed(DOMAIN, ["http-01: refused", "tls-alpn-01: refused too"], "203.0.113.7"),
      "HTTPS for app.example.com: the ACME challenge failed, so no certificate was issued. " +
        "The CA must reach this server (203.0.113.7) at app.example.com on port 80 or 443, and did not: http-01: refused; tls-alpn-01: refused too. " +
        "Point app.example.com's DNS record (A or AAAA) at 203.0.113.7, open ports 80 and 443 to the internet, and run pulumi up again",
    );
  });
});
