// roles.ts beyond boot order (roles.test.ts): single mode's gate, the Docker healthcheck a role
// gets, which volumes each role mounts, the proxy's sites, the ports opened and the app's URLs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appUrls, hostPorts, mountsOf, proxySites, roleSpecs, SINGLE_ROLE } from "../../components/deploy/roles";
import { exampleStack } from "../support/config/exampleStack";

const worker = { command: ["python", "-m", "demo.worker"] };
const web = { command: ["python", "-m", "demo.web"], port: 8000, healthcheck: { path: "/ready", intervalSeconds: 7, timeoutSeconds: 4, retries: 6, startPeriodSeconds: 20 } };
const api = { command: ["python", "-m", "demo.api"], port: 9000 };
const raw = { command: ["python", "-m", "demo.raw"], port: 7000, publish: 7001, proxy: false };
const app = (over: Record<string, unknown>) => exampleStack({ app: over }).app;

describe("roleSpecs: single mode", () => {
  test("one container named app, gated on the first role with a healthcheck, with its Docker healthcheck", () => {
    const [spec, ...rest] = roleSpecs(app({ mode: "single", roles: { worker, api, web } }));
    assert.equal(rest.length, 0, "one container");
    assert.equal(spec.role, SINGLE_ROLE, "its role name");
    assert.equal(SINGLE_ROLE, "app", "the single container is the app role");
    assert.deepEqual(spec.gate, { kind: "http", port: 8000, path: "/ready" }, "the web's gate, though api has a port too and comes first");
    assert.equal(spec.healthcheck?.retries, 6, "the web's healthcheck");
  });

  test("without a healthcheck, the first role with a port gives a TCP gate and no Docker healthcheck; without ports, a running gate", () => {
    const [tcp] = roleSpecs(app({ mode: "single", roles: { worker, api, raw } }));
    assert.deepEqual(tcp.gate, { kind: "tcp", port: 9000 }, "TCP on the api's port");
    assert.equal(tcp.healthcheck, undefined, "no Docker healthcheck");
    assert.deepEqual(tcp.ports, [{ host: 7001, container: 7000 }], "the role off the proxy publishes its own port");
    assert.deepEqual(tcp.upstreams, [{ port: 9000, reach: { kind: "tcp" } }], "the proxied role is an upstream");
    const [running] = roleSpecs(app({ mode: "single", roles: { worker, other: { command: ["run"] } } }));
    assert.deepEqual([running.gate, running.healthcheck, running.ports, running.upstreams], [{ kind: "running" }, undefined, [], []], "nothing to probe");
  });

  test("it mounts every volume, whatever roles a volume lists", () => {
    const [spec] = roleSpecs(app({ mode: "single", roles: { worker, web }, volumes: { data: { path: "/data", roles: ["web"] }, cache: { path: "/cache" } } }));
    assert.deepEqual(spec.mounts, [{ volume: "demo-data", path: "/data" }, { volume: "demo-cache", path: "/cache" }], "both volumes");
  });
});

describe("roleSpecs: roles mode", () => {
  test("a role's Docker healthcheck: the python probe on its port and path, with its own timings", () => {
    const spec = roleSpecs(app({ roles: { web } })).find((r) => r.role === "web")!;
    const h = spec.healthcheck!;
    assert.deepEqual([h.intervalSeconds, h.timeoutSeconds, h.retries, h.startPeriodSeconds], [7, 4, 6, 20], "the configured timings");
    assert.deepEqual(h.test.slice(0, 2), ["python", "-c"], "exec form with the image's python");
    assert.deepEqual(h.test.slice(3), ["127.0.0.1", "8000", "/ready", "4"], "loopback, the role's port, path and timeout");
    assert.deepEqual(spec.command, ["python", "-m", "demo.web"], "the role's own command");
  });

  test("volumes: one with a role list goes to those roles only, one without to every role", () => {
    const specs = Object.fromEntries(roleSpecs(app({ roles: { worker, web }, volumes: { media: { path: "/media", roles: ["web"] }, data: { path: "/data" } } })).map((r) => [r.role, r.mounts]));
    assert.deepEqual(specs.web, [{ volume: "demo-media", path: "/media" }, { volume: "demo-data", path: "/data" }], "the web mounts both");
    assert.deepEqual(specs.worker, [{ volume: "demo-data", path: "/data" }], "the worker only the shared one");
  });

  test("mountsOf without a role: every volume (what the release command and the volume set-up see)", () => {
    const a = app({ roles: { worker, web }, volumes: { media: { path: "/media", roles: ["web"] }, data: { path: "/data" } } });
    assert.deepEqual(mountsOf(a).map((m) => m.volume), ["demo-media", "demo-data"], "all volumes");
    assert.deepEqual(mountsOf(a, "worker").map((m) => m.volume), ["demo-data"], "the worker's");
  });

  test("a role off the proxy publishes host:container itself, or its port on both sides", () => {
    const specs = Object.fromEntries(roleSpecs(app({ roles: { raw, same: { command: ["run"], port: 6000, proxy: false } } })).map((r) => [r.role, r]));
    assert.deepEqual(specs.raw.ports, [{ host: 7001, container: 7000 }], "publish 7001 -> 7000");
    assert.deepEqual(specs.same.ports, [{ host: 6000, container: 6000 }], "no publish: the same port");
    assert.deepEqual(specs.raw.gate, { kind: "tcp", port: 7000 }, "gated on its container port");
  });
});

describe("proxySites, hostPorts and appUrls", () => {
  test("single mode: every proxied role is reached through the one container's alias", () => {
    assert.deepEqual(
      proxySites(app({ mode: "single", roles: { worker, web: { ...web, publish: 8080 }, api } })),
      [
        { publishedPort: 8080, upstream: { alias: "demo-app", port: 8000 } },
        { publishedPort: 9000, upstream: { alias: "demo-app", port: 9000 } },
      ],
      "both sites on demo-app",
    );
    assert.deepEqual(proxySites(app({ roles: { worker, raw } })), [], "no proxied role: no site");
  });

  test("hostPorts: the proxy's ports and the roles' own, in numeric order", () => {
    assert.deepEqual(hostPorts(app({ roles: { big: { command: ["run"], port: 10000 }, web: { ...web, publish: 8080 }, raw, side: { command: ["run"], port: 900, proxy: false } } })), [900, 7001, 8080, 10000], "900 < 7001 < 8080 < 10000: numbers, not strings");
    assert.deepEqual(hostPorts(app({ roles: { worker, raw } })), [7001], "without a proxy site only the direct ports");
    assert.deepEqual(hostPorts(app({ roles: { worker } })), [], "a worker alone opens nothing");
  });

  test("appUrls: http on the published port (none for 80), https for a domain, brackets for IPv6, nothing for a worker", () => {
    const a = app({ roles: { worker, web: { ...web, publish: 80 }, api, raw } });
    assert.deepEqual(appUrls(a, "203.0.113.7"), ["http://203.0.113.7/", "http://203.0.113.7:9000/", "http://203.0.113.7:7001/"], "IPv4");
    assert.deepEqual(appUrls(a, "2001:db8::7"), ["http://[2001:db8::7]/", "http://[2001:db8::7]:9000/", "http://[2001:db8::7]:7001/"], "IPv6 in brackets");
    assert.deepEqual(appUrls(app({ roles: { web: { ...web, domain: "app.example.com" } } }), "203.0.113.7"), ["https://app.example.com/"], "a domain");
    assert.deepEqual(appUrls(app({ roles: { worker } }), "localhost"), [], "no URL without a published port");
  });
});
