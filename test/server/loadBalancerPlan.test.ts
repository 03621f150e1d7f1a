// The load balancer's listeners and the servers' app-port sources behind it
// (components/server/loadBalancerPlan.ts), and the fleet's member names (fleet.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RoleConfig } from "../../components/config/schema";
import { fleetMemberName } from "../../components/server/fleet";
import { appBehindLoadBalancer, appPortsBehind, CLB_SOURCE_CIDR, listenerPlans } from "../../components/server/loadBalancerPlan";

const role = (r: Partial<RoleConfig> & { name: string }): RoleConfig => ({ command: ["python", "app.py"], proxy: true, ...r }) as RoleConfig;

describe("listener plans", () => {
  it("a proxied role with a healthcheck: an HTTP listener on its published port, checked on its path, 2xx and 3xx healthy", () => {
    const roles = [role({ name: "web", port: 8000, publish: 80, healthcheck: { path: "/health", intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 10 } }), role({ name: "worker" })];
    assert.deepEqual(listenerPlans({ roles }), [{ port: 80, backendPort: 80, role: "web", protocol: "http", healthCheck: { kind: "http", path: "/health", httpCodes: "http_2xx,http_3xx" } }], "web only: the worker publishes nothing");
  });

  it("without a healthcheck, any answer but a 5xx on / is healthy; a role outside the proxy gets a TCP listener", () => {
    const roles = [role({ name: "web", port: 8000, publish: 8080 }), role({ name: "mqtt", port: 1883, publish: 1883, proxy: false })];
    assert.deepEqual(
      listenerPlans({ roles }),
      [
        { port: 8080, backendPort: 8080, role: "web", protocol: "http", healthCheck: { kind: "http", path: "/", httpCodes: "http_2xx,http_3xx,http_4xx" } },
        { port: 1883, backendPort: 1883, role: "mqtt", protocol: "tcp", healthCheck: { kind: "tcp" } },
      ],
      "one listener per published port",
    );
  });
});

describe("a role with a domain behind the CLB: HTTPS ends there", () => {
  const web = role({ name: "web", port: 8000, domain: "shop.example.com", healthcheck: { path: "/health", intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 10 } });

  it("HTTPS on 443 to the servers' plain 80, health-checked on the role's path; 80 only redirects to 443", () => {
    assert.deepEqual(
      listenerPlans({ roles: [web] }),
      [
        { port: 443, backendPort: 80, role: "web", protocol: "https", healthCheck: { kind: "http", path: "/health", httpCodes: "http_2xx,http_3xx" } },
        { port: 80, role: "web", protocol: "http", redirectTo: 443 },
      ],
      "two listeners",
    );
    assert.deepEqual(appPortsBehind(listenerPlans({ roles: [web] }), ["0.0.0.0/0"]), [{ port: 80, allowedCidrs: ["100.64.0.0/10"] }], "the servers open 80 to CLB only, and not 443");
  });

  it("each server runs the role on plain HTTP port 80, without the domain; other roles are unchanged", () => {
    const worker = role({ name: "worker" });
    assert.deepEqual(appBehindLoadBalancer({ roles: [web, worker] }).roles, [{ ...web, domain: undefined, publish: 80 }, worker], "web on 80, no certificate of its own");
  });
});

describe("app ports behind the load balancer", () => {
  it("an HTTP port lets in only CLB's block; a TCP port also the allowed clients, whose addresses a layer-4 listener keeps", () => {
    const listeners = listenerPlans({ roles: [role({ name: "web", port: 8000, publish: 80 }), role({ name: "mqtt", port: 1883, publish: 1883, proxy: false })] });
    assert.equal(CLB_SOURCE_CIDR, "100.64.0.0/10", "CLB's documented source block");
    assert.deepEqual(
      appPortsBehind(listeners, ["0.0.0.0/0"]),
      [
        { port: 80, allowedCidrs: ["100.64.0.0/10"] },
        { port: 1883, allowedCidrs: ["0.0.0.0/0", "100.64.0.0/10"] },
      ],
      "web from the balancer only",
    );
  });
});

describe("fleet member names", () => {
  it("the first keeps the single server's name, then -2, -3…", () => {
    assert.deepEqual([0, 1, 2].map((i) => fleetMemberName("shop", i)), ["shop", "shop-2", "shop-3"], "index 0 is unnumbered");
  });
});
