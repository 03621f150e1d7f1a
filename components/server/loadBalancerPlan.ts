// What the load balancer in front of several servers listens on, how it checks them, and which
// sources the servers' security group lets in on the app's ports. Pure.
import type { AppConfig } from "../config/schema";

/**
 * Alibaba CLB's own address block: layer-7 listeners forward from it, and every listener's
 * health checks come from it (CLB docs, "Configure security group rules for backend servers").
 */
export const CLB_SOURCE_CIDR = "100.64.0.0/10";

/** Where HTTPS ends for a role with a domain behind the CLB: the servers serve it on plain HTTP here. */
export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;

export type HealthCheckPlan = { kind: "http"; path: string; httpCodes: string } | { kind: "tcp" };

export type ListenerPlan =
  | {
      /** The CLB's port. */
      port: number;
      /** The servers' port (the proxy's, or the role's own). */
      backendPort: number;
      role: string;
      /** http/https: layer 7 (servers see CLB's addresses; https ends TLS on the CLB); tcp: a role's own protocol, clients' addresses kept. */
      protocol: "http" | "https" | "tcp";
      /** http/https: the role's healthcheck path through the proxy, "/" without one (any answer but a 5xx is healthy). */
      healthCheck: HealthCheckPlan;
    }
  | { port: number; role: string; protocol: "http"; /** Answers with a redirect to this HTTPS port; no server behind it. */ redirectTo: number };

/** One listener per published port; a role with a domain: HTTPS on 443 to the servers' port 80, and 80 redirecting to it. */
export function listenerPlans(app: Pick<AppConfig, "roles">): ListenerPlan[] {
  return app.roles.flatMap((r): ListenerPlan[] => {
    const healthCheck: HealthCheckPlan = r.healthcheck
      ? { kind: "http", path: r.healthcheck.path, httpCodes: "http_2xx,http_3xx" }
      : { kind: "http", path: "/", httpCodes: "http_2xx,http_3xx,http_4xx" };
    if (r.domain !== undefined) {
      return [
        { port: HTTPS_PORT, backendPort: HTTP_PORT, role: r.name, protocol: "https", healthCheck },
        { port: HTTP_PORT, role: r.name, protocol: "http", redirectTo: HTTPS_PORT },
      ];
    }
    if (r.publish === undefined) return [];
    if (!r.proxy) return [{ port: r.publish, backendPort: r.publish, role: r.name, protocol: "tcp", healthCheck: { kind: "tcp" } }];
    return [{ port: r.publish, backendPort: r.publish, role: r.name, protocol: "http", healthCheck }];
  });
}

/**
 * The servers' app-port rules behind the load balancer: a layer-7 backend port only from CLB; a
 * tcp port from the allowed clients too, since a layer-4 listener keeps their addresses.
 */
export function appPortsBehind(listeners: ListenerPlan[], appAllowedCidrs: string[]): { port: number; allowedCidrs: string[] }[] {
  return listeners.flatMap((l) => ("redirectTo" in l ? [] : [{ port: l.backendPort, allowedCidrs: l.protocol === "tcp" ? [...new Set([...appAllowedCidrs, CLB_SOURCE_CIDR])] : [CLB_SOURCE_CIDR] }]));
}

/** The app as each server runs it behind a CLB that ends HTTPS: the domain's role on plain HTTP port 80, no certificate of its own. */
export function appBehindLoadBalancer<A extends Pick<AppConfig, "roles">>(app: A): A {
  return { ...app, roles: app.roles.map((r) => (r.domain === undefined ? r : { ...r, domain: undefined, publish: HTTP_PORT })) };
}
