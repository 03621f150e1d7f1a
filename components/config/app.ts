// The `app` section: the Python project, its image and its roles (processes), with the rules
// that span its keys. Derived values (a role's publish port and domain) are in resolve.ts.
import { z } from "zod";
import type { Problem } from "./errors";
import {
  boolean, command, debPackage, domainName, envName, envValue, containerPath, healthcheckTimeoutSeconds, healthIntervalSeconds, healthRetries, healthStartPeriodSeconds,
  httpPath, imageReference, integer, nonEmpty, port, slug,
} from "./fields";
import { indexUrlProblem } from "./pipIndexUrl";

export const healthcheckSchema = z.strictObject({
  path: httpPath,
  intervalSeconds: healthIntervalSeconds.default(10),
  timeoutSeconds: healthcheckTimeoutSeconds.default(3),
  retries: healthRetries.default(3),
  startPeriodSeconds: healthStartPeriodSeconds.default(10),
});

export const roleSchema = z
  .strictObject({
    command,
    port: port.optional(),
    publish: port.optional(),
    healthcheck: healthcheckSchema.optional(),
    // HTTPS for this name on 443 (certificate from ACME), HTTP on 80 redirecting to it.
    domain: domainName.optional(),
    // A published port goes through the reverse proxy (zero-downtime switches) unless false:
    // then the container publishes it itself, for a protocol other than HTTP.
    proxy: boolean.default(true),
  })
  .superRefine((role, ctx) => {
    if (role.domain !== undefined && role.port === undefined)
      ctx.addIssue({ code: "custom", path: ["domain"], message: "expected `port` too: the proxy sends the domain's requests to the role's port" });
    if (role.domain !== undefined && role.publish !== undefined)
      ctx.addIssue({ code: "custom", path: ["publish"], message: "a role with a domain is served on 443 (and 80 redirects), so it takes no publish port" });
    if (role.domain !== undefined && role.proxy === false)
      ctx.addIssue({ code: "custom", path: ["proxy"], message: "a role with a domain needs the proxy (it terminates HTTPS)" });
    if (role.publish !== undefined && role.port === undefined)
      ctx.addIssue({ code: "custom", path: ["publish"], message: "expected `port` too: publish maps a host port to the role's container port" });
    if (role.healthcheck && role.port === undefined)
      ctx.addIssue({ code: "custom", path: ["healthcheck"], message: "expected `port` too: an HTTP healthcheck needs the port the role listens on" });
  });

export const appSchema = z.strictObject({
  name: slug("an app name", 40),
  path: nonEmpty("the path of the Python project, relative to Pulumi.yaml"),
  python: z.string().regex(/^[23]\.\d{1,2}(\.\d{1,2})?$/, { error: "expected a Python version such as 3.12" }).default("3.12"),
  baseImage: imageReference.optional(),
  aptPackages: z.array(debPackage).default([]),
  buildPackages: z.array(debPackage).default([]),
  // COPY would expand globs and $VARS: plain path characters only.
  // A requirements file, pyproject.toml, or "none"; unset: detected (components/config/dependencySource.ts).
  requirements: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._/-]*$/, { error: "expected a requirements file path relative to app.path, such as requirements/prod.txt" }).optional(),
  extras: z.array(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/, { error: "expected the name of an extra in [project.optional-dependencies], e.g. prod" })).default([]),
  // Index URLs are checked in checkApp, whose messages never repeat them (they may hold a password).
  pipIndexUrl: z.string({ error: "expected an http(s) URL" }).optional(),
  pipExtraIndexUrl: z.string({ error: "expected an http(s) URL" }).optional(),
  pipTrustedHost: z
    .preprocess(
      (v) => (typeof v === "string" ? [v] : v),
      z.array(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$/, { error: "expected a host or host:port such as mirrors.aliyun.com" }), { error: "expected a host[:port] or a list of them" }),
    )
    .default([]),
  // `docker build --network`: "host" lets RUN steps reach an index on the build machine's loopback.
  // The docker provider builds with BuildKit, which refuses any other (moby builder/builder-next/builder.go).
  buildNetwork: z
    .enum(["default", "host", "none"], {
      error: "expected default, host or none: the docker provider builds with BuildKit, which accepts no named network (use host to reach a service on the build machine)",
    })
    .default("default"),
  // Run as root after the code is copied, e.g. ["python", "manage.py", "collectstatic", "--noinput"].
  buildCommands: z.array(command, { error: "expected a list of commands" }).default([]),
  env: z.record(envName, envValue).default({}),
  workdir: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, { error: "expected an absolute path such as /app" }).default("/app"),
  user: z
    .strictObject({ name: slug("a user name", 32), uid: integer(1000, 65533, "a uid from 1000 to 65533") })
    .default({ name: "app", uid: 10001 }),
  mode: z.enum(["roles", "single"], { error: "expected roles (one container per process) or single (one container, generated entrypoint)" }).default("roles"),
  roles: z
    .record(
      z.string().regex(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/, { error: "expected a role name such as web or worker: lowercase letters, digits, inner dashes" }),
      roleSchema,
    )
    .refine((r) => Object.keys(r).length > 0, { error: "expected at least one role, e.g. web: {command: [...], port: 8000}" }),
  // Shorthand for the domain of the one role with a port.
  domain: domainName.optional(),
  // Run once per deploy, before any role switches, e.g. ["python", "manage.py", "migrate", "--noinput"].
  release: command.optional(),
  // Named volumes: persistent data that outlives containers (sqlite, uploads).
  volumes: z
    .record(
      slug("a volume name", 30),
      z.strictObject({
        path: containerPath,
        roles: z.array(z.string(), { error: "expected a list of role names" }).min(1, { error: "expected at least one role (leave roles out for every role)" }).optional(),
      }),
    )
    .default({}),
});

export type ParsedApp = z.output<typeof appSchema>;
export type HealthcheckConfig = z.output<typeof healthcheckSchema>;

export interface RoleConfig {
  name: string;
  command: string[];
  /** Container port the role listens on. */
  port?: number;
  /** Host port published for it (defaults to `port`; none with a domain). */
  publish?: number;
  healthcheck?: HealthcheckConfig;
  /** Served over HTTPS by the proxy. */
  domain?: string;
  /** The published port (or domain) goes through the reverse proxy. */
  proxy: boolean;
}

export interface AppConfig extends Omit<ParsedApp, "roles" | "path" | "requirements"> {
  /** Absolute path of the Python project. */
  path: string;
  /** Requirements file relative to `path`, POSIX separators; undefined when the project has none. */
  requirements?: string;
  /** In declaration order. */
  roles: RoleConfig[];
}

/** The role that serves each host port: its published port, and 80 and 443 for a domain. */
export function hostPortOwners(roles: RoleConfig[], problem?: Problem): Map<number, string> {
  const owners = new Map<number, string>();
  for (const role of roles) {
    if (role.domain !== undefined) for (const p of [80, 443]) owners.set(p, role.name);
    if (role.publish === undefined) continue;
    const other = owners.get(role.publish);
    if (other) problem?.(`app.roles.${role.name}.publish`, `host port ${role.publish} is already published by role ${other}; each role needs its own host port`);
    else owners.set(role.publish, role.name);
  }
  return owners;
}

/** The rules across the app's keys, on the parsed app and its resolved roles (resolveRoles). */
export function checkApp(project: string, app: ParsedApp, roles: RoleConfig[], secretEnv: Record<string, string>, problem: Problem): void {
  for (const k of ["pipIndexUrl", "pipExtraIndexUrl"] as const) {
    const url = app[k];
    const wrong = url === undefined ? undefined : indexUrlProblem(url);
    if (wrong) problem(`app.${k}`, wrong);
  }

  const withPort = roles.filter((r) => r.port !== undefined).map((r) => r.name);
  if (app.domain !== undefined && withPort.length !== 1) {
    problem("app.domain", `applies to the one role with a port, but ${withPort.length ? `roles ${withPort.join(", ")} have ports: set app.roles.<role>.domain instead` : "no role has a port"}`);
  }
  for (const role of roles) {
    const declared = app.roles[role.name];
    if (role.domain !== undefined && declared.domain === undefined && declared.publish !== undefined) problem(`app.roles.${role.name}.publish`, "a role with a domain (app.domain) is served on 443 and 80, so it takes no publish port");
  }
  const domains = new Map<string, string>();
  for (const role of roles) {
    if (role.domain === undefined) continue;
    const other = domains.get(role.domain);
    if (other) problem(`app.roles.${role.name}.domain`, `${role.domain} is already the domain of role ${other}`);
    else domains.set(role.domain, role.name);
    for (const p of [80, 443]) {
      const taken = roles.find((r) => r.publish === p);
      if (taken) problem(`app.roles.${taken.name}.publish`, `port ${p} serves the domain ${role.domain} (HTTPS on 443, redirect on 80); publish another port`);
    }
  }
  hostPortOwners(roles, problem);
  if (app.mode === "single") {
    const containerPorts = new Map<number, string>();
    for (const role of roles) {
      if (role.port === undefined) continue;
      const other = containerPorts.get(role.port);
      if (other) problem(`app.roles.${role.name}.port`, `in single mode all roles share one container, and port ${role.port} is already used by role ${other}`);
      else containerPorts.set(role.port, role.name);
    }
  }
  const roleNames = new Set(roles.map((r) => r.name));
  const volumePaths = new Map<string, string>();
  for (const [volume, mount] of Object.entries(app.volumes)) {
    for (const role of mount.roles ?? []) {
      if (!roleNames.has(role)) problem(`app.volumes.${volume}.roles`, `role ${role} is not one of app.roles (${[...roleNames].join(", ")})`);
    }
    const other = volumePaths.get(mount.path);
    if (other) problem(`app.volumes.${volume}.path`, `${mount.path} is already the path of volume ${other}`);
    else volumePaths.set(mount.path, volume);
    if (mount.path === app.workdir || app.workdir.startsWith(`${mount.path}/`)) {
      problem(`app.volumes.${volume}.path`, `must not be app.workdir (${app.workdir}) or a folder above it: the volume would hide the code`);
    }
  }
  for (const name of Object.keys(secretEnv)) {
    if (name in app.env) problem(`secretEnv.${name}`, `is also set in ${project}:app.env; keep each variable in one place`);
  }
}
