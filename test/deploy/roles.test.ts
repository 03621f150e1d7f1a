// From the app config to what each container runs: boot order, gates, single mode.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appUrls, hostPorts, proxySites, roleSpecs } from "../../components/deploy/roles";
import { exampleStack } from "../support/config/exampleStack";

const worker = { command: ["python", "-m", "demo.worker"] };
const web = { command: ["python", "-m", "demo.web"], port: 8000, publish: 80, healthcheck: { path: "/health" } };
const api = { command: ["python", "-m", "demo.api"], port: 9000 };

describe("roleSpecs", () => {
  test("a role with proxy: false publishes its own port (a protocol the proxy does not speak)", () => {
    const [spec] = roleSpecs(exampleStack({ app: { roles: { api: { ...api, publish: 9100, proxy: false } } } }).app);
    assert.deepEqual([spec.ports, spec.upstreams], [[{ host: 9100, container: 9000 }], []], "published directly, nothing behind the proxy");
  });

  test("serving roles boot first, whatever the declaration order", () => {
    const app = exampleStack({ app: { roles: { worker, web, api } } }).app;
    assert.deepEqual(roleSpecs(app).map((r) => r.role), ["web", "api", "worker"], "web and api before the worker");
  });

  test("gates: HTTP on the container port with a healthcheck path, TCP with a port only, running without", () => {
    const specs = Object.fromEntries(roleSpecs(exampleStack({ app: { roles: { worker, web, api } } }).app).map((r) => [r.role, r]));
    assert.deepEqual(specs.web.gate, { kind: "http", port: 8000, path: "/health" }, "web");
    assert.deepEqual(specs.api.gate, { kind: "tcp", port: 9000 }, "api");
    assert.deepEqual(specs.worker.gate, { kind: "running" }, "worker");
    assert.deepEqual([specs.web.ports, specs.web.upstreams], [[], [{ port: 8000, reach: { kind: "http", path: "/health" } }]], "the web publishes nothing itself: the proxy reaches it on 8000");
    assert.deepEqual([specs.api.ports, specs.api.upstreams], [[], [{ port: 9000, reach: { kind: "tcp" } }]], "without a healthcheck the proxy checks TCP");
    assert.equal(specs.worker.healthcheck, undefined, "the worker gets no healthcheck (the image's is for the web)");
    assert.equal(specs.web.healthcheck?.intervalSeconds, 10, "the web's healthcheck timing comes from the config defaults");
  });

  test("single mode: one container running the image's entrypoint, every role's port, the web's gate", () => {
    const specs = roleSpecs(exampleStack({ app: { mode: "single", roles: { worker, web, api } } }).app);
    assert.equal(specs.length, 1, "one container");
    assert.deepEqual(specs[0].command, [], "the image's CMD (the generated entrypoint)");
    assert.deepEqual(specs[0].upstreams.map((u) => u.port), [8000, 9000], "the proxy reaches every role's port");
    assert.deepEqual(specs[0].gate, { kind: "http", port: 8000, path: "/health" }, "gated on the web");
  });
});

describe("proxySites, hostPorts and appUrls", () => {
  test("a published port is a plain HTTP site; a domain is HTTPS on 443 with 80 redirecting", () => {
    const app = exampleStack({ app: { roles: { worker, web: { ...web, publish: undefined, domain: "demo.example.com" }, api } } }).app;
    assert.deepEqual(proxySites(app), [
      { domain: "demo.example.com", upstream: { alias: "demo-web", port: 8000 } },
      { publishedPort: 9000, upstream: { alias: "demo-api", port: 9000 } },
    ], "one site per proxied role, reached by the role's alias");
    assert.deepEqual(hostPorts(app), [80, 443, 9000], "the security group opens 80 and 443 for the domain");
    assert.deepEqual(appUrls(app, "203.0.113.7"), ["https://demo.example.com/", "http://203.0.113.7:9000/"], "the URLs users open");
  });

  test("app.domain is the domain of the one role with a port", () => {
    const app = exampleStack({ app: { domain: "demo.example.com", roles: { worker, web: { command: web.command, port: 8000 } } } }).app;
    assert.deepEqual(app.roles.find((r) => r.name === "web")?.domain, "demo.example.com", "the web gets it");
    assert.deepEqual(hostPorts(app), [80, 443], "and only 80 and 443 are opened");
  });
});
