// What the load balancer in front of several servers listens on, how it checks them, and which
// sources the servers' security group lets in on the app's ports. Pure.
import type { AppConfig } from "../config/schema";

/**
 * Alibaba CLB's own address block: layer-7 listeners forward from it, and every listener's
 * health checks come from it (CLB docs, "Configure security group rules for backend servers").
 */
export const CLB_SOURCE_CIDR = "100.64.0.0/10";

export interface ListenerPlan {
  /** Published on the load balancer and on each server (the proxy's port, or the role's own). */
  port: number;
  role: string;
  /** http: a layer-7 listener (servers see CLB's addresses); tcp: a role's own protocol, clients' addresses kept. */
  protocol: "http" | "tcp";
  /** http: the role's healthcheck path through the proxy, "/" without one (any answer but a 5xx is healthy). */
  healthCheck: { kind: "http"; path: string; httpCodes: string } | { kind: "tcp" };
}

/** One listener per published port; a role with a domain is refused with several servers (config/fleet.ts). */
export function listenerPlans(app: Pick<AppConfig, "roles">): ListenerPlan[] {
  return app.roles.flatMap((r): ListenerPlan[] => {
    if (r.publish === undefined) return [];
    if (!r.proxy) return [{ port: r.publish, role: r.name, protocol: "tcp", healthCheck: { kind: "tcp" } }];
    const healthCheck = r.healthcheck
      ? { kind: "http" as const, path: r.healthcheck.path, httpCodes: "http_2xx,http_3xx" }
      : { kind: "http" as const, path: "/", httpCodes: "http_2xx,http_3xx,http_4xx" };
    return [{ port: r.publish, role: r.name, protocol: "http", healthCheck }];
  });
}

/**
 * The servers' app-port rules behind the load balancer: an http port only from CLB; a tcp port
 * from the allowed clients too, since a layer-4 listener keeps their addresses.
 */
export function appPortsBehind(listeners: ListenerPlan[], appAllowedCidrs: string[]): { port: number; allowedCidrs: string[] }[] {
  return listeners.map((l) => ({ port: l.port, allowedCidrs: l.protocol === "http" ? [CLB_SOURCE_CIDR] : [...new Set([...appAllowedCidrs, CLB_SOURCE_CIDR])] }));
}
