// The program (index.ts) with the dev stack (Alibaba Cloud) given a domain, under Pulumi mocks:
// the security group opens exactly what the server's proxy serves for HTTPS (80 for the ACME
// challenge and the redirect, 443), the release step is told to serve the domain, and the app's
// URL is https. What the server then serves on 80 and 443 is tested end to end in
// test/lifecycle/httpsServer.e2e.test.ts.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { SPEC_ENV } from "../components/deploy/spec";
import { publishedPorts } from "../components/deploy/proxy/proxyConfig";
import { committedStackConfig, importProgram } from "./support/mocks/program";
import { drainRegistrations, installMocks, valueOf } from "./support/mocks/mocks";

const DOMAIN = "shop.example.com";
const T = {
  image: "docker:index/image:Image",
  rule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
  step: "command:local:Command",
};

function devStackWithDomain(): Record<string, unknown> {
  const config = committedStackConfig("dev");
  const app = structuredClone(config["pydeploy:app"]) as { roles: Record<string, Record<string, unknown>> };
  delete app.roles.web.publish;
  app.roles.web.domain = DOMAIN;
  return { ...config, "pydeploy:app": app, "pydeploy:deploy": { acme: { email: "ops@example.com" } } };
}

const mocks = installMocks({
  stack: "dev",
  config: devStackWithDomain(),
  outputs: (r) => {
    if (r.type === T.image) return { repoDigest: `sha256:${"34".repeat(32)}` };
    if (r.type === T.step && r.name.endsWith("-release")) return { stdout: 'pydeploy-result: {"version":"0123456789ab","containers":["demo-web-0123456789ab","demo-worker-0123456789ab"]}' };
    return undefined;
  },
});

let program: typeof import("../index");
before(async () => {
  program = await importProgram();
  await Promise.all([valueOf(program.containers), valueOf(program.appUrls)]);
  await drainRegistrations();
});

describe("program, dev stack (alicloud) with a domain", () => {
  test("the security group opens 80 and 443 (and SSH): exactly the ports the release's proxy publishes", () => {
    const rules = mocks.byType(T.rule).map((r) => ({ port: Number(String(r.inputs.portRange).split("/")[0]), range: r.inputs.portRange, cidr: r.inputs.cidrIp }));
    assert.deepEqual(rules.map((r) => `${r.range} ${r.cidr}`).sort(), ["22/22 0.0.0.0/0", "443/443 0.0.0.0/0", "80/80 0.0.0.0/0"]);
    const release = mocks.byType(T.step).find((r) => r.name === "demo-release");
    assert.ok(release, "the release step is registered");
    const spec = JSON.parse(String(release.inputs.environment[SPEC_ENV]));
    assert.deepEqual(spec.proxy.sites, [{ domain: DOMAIN, upstream: { alias: "demo-web", port: 8000 } }], "the proxy serves the domain");
    assert.deepEqual(spec.proxy.acme, { email: "ops@example.com", timeoutSeconds: 120 }, "Let's Encrypt (no directory set), waited for 120 s");
    const appPorts = rules.filter((r) => r.port !== 22).map((r) => r.port).sort((a, b) => a - b);
    assert.deepEqual(appPorts, publishedPorts(spec.proxy.sites), "the open app ports are the proxy's published ports");
  });

  test("the app's URL is https on the domain", async () => {
    assert.deepEqual(await valueOf(program.appUrls), [`https://${DOMAIN}/`]);
  });
});
