// From the app config to what each container runs: one per role, or one for all in single mode.
// Pure; both targets (remote over SSH, local Docker) start containers from these specs.
import type { AppConfig, RoleConfig } from "../config/schema";
import { pythonHealthProbe } from "../image/healthProbe";
import { volumeName, type ContainerHealthcheck, type HealthGate, type RoleSettings, type Upstream, type VolumeMount } from "./containerSpec";
import { HTTP_PORT, ProxySite, publishedPorts } from "./proxy/proxyConfig";
import { upstreamAlias } from "./proxy/proxyContainer";

/** The role name of the one container in single mode. */
export const SINGLE_ROLE = "app";

export function roleSpecs(app: AppConfig): RoleSettings[] {
  if (app.mode === "single") {
    const gated = app.roles.find((r) => r.healthcheck) ?? app.roles.find((r) => r.port !== undefined);
    return [
      {
        role: SINGLE_ROLE,
        command: [], // the image's CMD: the generated entrypoint
        ports: app.roles.flatMap(portMapping),
        upstreams: app.roles.flatMap(upstreamsOf),
        gate: gated ? gateFor(gated) : { kind: "running" },
        healthcheck: gated ? containerHealthcheck(gated) : undefined,
        mounts: mountsOf(app),
      },
    ];
  }
  const specs = app.roles.map((r) => ({
    role: r.name,
    command: r.command,
    ports: portMapping(r),
    upstreams: upstreamsOf(r),
    gate: gateFor(r),
    healthcheck: containerHealthcheck(r),
    mounts: mountsOf(app, r.name),
  }));
  // Roles that serve traffic boot first: if they fail their gate, the others are left alone.
  return [...specs.filter((s) => s.gate.kind !== "running"), ...specs.filter((s) => s.gate.kind === "running")];
}

/** The host port a role publishes itself: only a role kept off the proxy (proxy: false). */
function portMapping(r: RoleConfig): RoleSettings["ports"] {
  return r.port === undefined || r.proxy ? [] : [{ host: r.publish ?? r.port, container: r.port }];
}

/** The port the proxy sends a role's requests to, and how it checks that it reaches it. */
function upstreamsOf(r: RoleConfig): Upstream[] {
  if (r.port === undefined || !r.proxy) return [];
  return [{ port: r.port, reach: r.healthcheck ? { kind: "http", path: r.healthcheck.path } : { kind: "tcp" } }];
}

/** What the reverse proxy serves: a site per proxied role, its published port or its domain. */
export function proxySites(app: AppConfig): ProxySite[] {
  return app.roles.flatMap((r): ProxySite[] => {
    if (r.port === undefined || !r.proxy) return [];
    const upstream = { alias: upstreamAlias(app.name, app.mode === "single" ? SINGLE_ROLE : r.name), port: r.port };
    return [r.domain !== undefined ? { domain: r.domain, upstream } : { publishedPort: r.publish ?? r.port, upstream }];
  });
}

/** Every host port the app opens: the proxy's and those of roles that publish their own. */
export function hostPorts(app: AppConfig): number[] {
  const direct = app.roles.flatMap((r) => portMapping(r).map((p) => p.host));
  const sites = proxySites(app);
  return [...new Set([...(sites.length ? publishedPorts(sites) : []), ...direct])].sort((a, b) => a - b);
}

/** Where users reach the app: https://<domain>/ for a domain, else http://<host>[:port]/. */
export function appUrls(app: AppConfig, host: string): string[] {
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return app.roles.flatMap((r) => {
    if (r.domain !== undefined) return [`https://${r.domain}/`];
    if (r.publish === undefined) return [];
    return [`http://${bracketed}${r.publish === HTTP_PORT ? "" : `:${r.publish}`}/`];
  });
}

// Gates probe the container port from inside the container: no tool is needed on the server,
// and a role behind the proxy (no host port) is gated the same way.
function gateFor(r: RoleConfig): HealthGate {
  if (r.port === undefined) return { kind: "running" };
  return r.healthcheck ? { kind: "http", port: r.port, path: r.healthcheck.path } : { kind: "tcp", port: r.port };
}

function containerHealthcheck(r: RoleConfig): ContainerHealthcheck | undefined {
  if (!r.healthcheck || r.port === undefined) return undefined;
  const h = r.healthcheck;
  return {
    test: pythonHealthProbe({ port: r.port, path: h.path, timeoutSeconds: h.timeoutSeconds }),
    intervalSeconds: h.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds,
    retries: h.retries,
    startPeriodSeconds: h.startPeriodSeconds,
  };
}

/** The app's volumes a role mounts (every volume without a role list); all of them for `role` undefined. */
export function mountsOf(app: AppConfig, role?: string): VolumeMount[] {
  return Object.entries(app.volumes)
    .filter(([, v]) => role === undefined || !v.roles || v.roles.includes(role))
    .map(([name, v]) => ({ volume: volumeName(app.name, name), path: v.path }));
}
