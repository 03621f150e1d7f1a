// The stack configuration: one schema, validated once, before any resource is registered.
// Pure (no Pulumi import) so the render script and the tests use the very same checks.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseShellWords } from "shell-quote";
import { z } from "zod";
import { HostKeyError, parseHostKeyLine } from "./hostKey";
import { findRequirementsFile, resolveDependencySource } from "./dependencySource";
import { indexUrlProblem } from "./pipIndexUrl";
import { DependencyError } from "./requirementsFiles";

export const PROJECT = "pydeploy";

/** Keys whose values are Pulumi secrets: never echoed in errors, never in plain outputs. */
export const SECRET_KEYS = ["secretEnv", "sshPrivateKey", "registryPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

// Pulumi's `config set --path` stores "8000" as a number but a plain `config set` keeps a string.
const integer = (min: number, max: number, what: string) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
    z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).min(min, { error: `expected ${what}` }).max(max, { error: `expected ${what}` }),
  );
const boolean = z.preprocess(
  (v) => (v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "expected true or false" }),
);
const port = integer(1, 65535, "a port from 1 to 65535");
const slug = (what: string, max: number) =>
  z
    .string({ error: `expected ${what}` })
    .max(max, { error: `expected ${what} of at most ${max} characters` })
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { error: `expected ${what}: lowercase letters, digits and inner dashes` });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" });
const envValue = z.preprocess(
  (v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v),
  z.string({ error: "expected a string value" }).refine((s) => !/[\r\n\0]/.test(s), { error: "expected a single-line value (no newline or NUL)" }),
);
const cidr = z.cidrv4({ error: "expected an IPv4 CIDR such as 203.0.113.0/24" });
const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).trim().min(1, { error: `expected ${what}` });
// Debian package names, optionally pinned (pkg=1.2-3); nothing a shell would interpret.
const debPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/, { error: "expected a Debian package name such as lsof or libpq-dev" });
const imageReference = z
  .string()
  .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/, {
    error: "expected an image reference such as python:3.12-slim or registry.cn-hangzhou.aliyuncs.com/library/python:3.12-slim",
  });

// A command is argv (exec form). A string is split like a shell would, but shell syntax
// (&&, |, >) is refused: that needs a script in the project, not a hidden `sh -c`.
const command = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const words = parseShellWords(v);
    return words.every((w) => typeof w === "string") ? words : { shellOperators: v };
  },
  z
    .array(nonEmpty("a non-empty argument"), { error: "expected a command: a list of arguments, or a string without shell operators (&&, |, >, ;)" })
    .min(1, { error: "expected a non-empty command" }),
);

const domainName = z
  .string({ error: "expected a domain name such as app.example.com" })
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: "expected a lowercase domain name such as app.example.com" })
  .refine((d) => !/(^|\.)(localhost|local|internal|home\.arpa)$/.test(d), { error: "expected a public name: ACME certificate authorities do not issue for local names" });

const healthcheckSchema = z.strictObject({
  path: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, { error: "expected an HTTP path starting with /" }),
  intervalSeconds: integer(1, 3600, "seconds from 1 to 3600").default(10),
  timeoutSeconds: integer(1, 300, "seconds from 1 to 300").default(3),
  retries: integer(1, 100, "a count from 1 to 100").default(3),
  startPeriodSeconds: integer(0, 3600, "seconds from 0 to 3600").default(10),
});

const roleSchema = z
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

const appSchema = z.strictObject({
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
  // Index URLs are checked in checkSemantics, whose messages never repeat them (they may hold a password).
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
        path: z.string().regex(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/, { error: "expected an absolute container path such as /data" }),
        roles: z.array(z.string(), { error: "expected a list of role names" }).min(1, { error: "expected at least one role (leave roles out for every role)" }).optional(),
      }),
    )
    .default({}),
});

const deploySchema = z.strictObject({
  ship: z.enum(["copy", "registry"], { error: "expected copy (docker save + scp) or registry (push and pull)" }).optional(),
  keepImages: integer(2, 20, "a count from 2 to 20 (the running image plus at least one to roll back to)").default(3),
  healthTimeoutSeconds: integer(5, 1800, "seconds from 5 to 1800").default(60),
  logMaxSize: z.string().regex(/^[1-9][0-9]*[kmg]$/, { error: "expected a size such as 10m" }).default("10m"),
  logMaxFiles: integer(1, 100, "a count from 1 to 100").default(3),
  dockerMirror: httpUrl.default("https://mirrors.aliyun.com/docker-ce"),
  registryMirrors: z.array(httpUrl).default([]),
  remoteDir: z.string().regex(/^(\/|\.?[A-Za-z0-9_])[A-Za-z0-9._/-]*$/, { error: "expected a path such as .pydeploy (relative to the SSH user's home) or /opt/pydeploy" }).default(".pydeploy"),
  sshTimeoutSeconds: integer(10, 3600, "seconds from 10 to 3600").default(600),
  releaseTimeoutSeconds: integer(10, 7200, "seconds from 10 to 7200").default(600),
  // Certificates for domains: Let's Encrypt unless another ACME directory (and its CA root) is set.
  acme: z
    .strictObject({
      email: z.email({ error: "expected an email address for the ACME account" }).optional(),
      directory: z.url({ protocol: /^https$/, error: "expected the https:// URL of an ACME directory" }).optional(),
      caRoot: z.string().refine((pem) => /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/.test(pem.trim() + "\n"), { error: "expected a PEM certificate (-----BEGIN CERTIFICATE-----)" }).optional(),
    })
    .default({}),
  // Volumes hold data: `pulumi destroy` keeps them unless this is true.
  removeVolumesOnDestroy: boolean.default(false),
  // Docker's own default is 10 s; gunicorn's graceful timeout is 30 s.
  stopGraceSeconds: integer(0, 600, "seconds from 0 to 600").default(30),
  // ECS instances are x86-64; the local target builds for this machine unless set.
  platform: z.string().regex(/^linux\/(amd64|arm64|arm\/v7|386|ppc64le|s390x)$/, { error: "expected a platform such as linux/amd64 or linux/arm64" }).optional(),
});

const registrySchema = z.strictObject({
  server: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/, { error: "expected a registry host such as registry.cn-hangzhou.aliyuncs.com" }),
  username: nonEmpty("the registry user name"),
  repository: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/, { error: "expected namespace/name, e.g. my-namespace/demo" }),
});

// A security group rule is identified by its CIDR as written: 10.1.2.3/8 would be a second
// spelling of a network that another entry may already open.
const networkCidr = cidr.superRefine((c, ctx) => {
  const [address, bits] = splitCidr(c);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const network = `${[24, 16, 8, 0].map((shift) => ((address & mask) >>> shift) & 255).join(".")}/${bits}`;
  if (network !== c) ctx.addIssue({ code: "custom", message: `expected a network address: ${c} has host bits set, write ${network}` });
});

const serverSchema = z.strictObject({
  instanceType: z.string().regex(/^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$/, { error: "expected an ECS instance type such as ecs.t6-c1m2.large" }).optional(),
  imageId: z.string().regex(/^([A-Za-z0-9]+(_[A-Za-z0-9]+)*\.vhd|m-[a-z0-9]+)$/, { error: "expected an ECS image id such as ubuntu_22_04_x64_20G_alibase_20240508.vhd or m-bp1..." }).optional(),
  zoneId: z.string().regex(/^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$/, { error: "expected a zone id such as cn-hangzhou-h" }).optional(),
  cpuCores: integer(1, 256, "a core count from 1 to 256").default(2),
  memoryGb: z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), z.number({ error: "expected GiB of memory, e.g. 4" }).positive({ error: "expected GiB of memory, e.g. 4" })).default(2),
  imageNameRegex: nonEmpty("a regular expression for system image names").default("^ubuntu_22_04_x64_20G_alibase_"),
  vpcId: z.string().regex(/^vpc-[a-z0-9]+$/, { error: "expected a VPC id such as vpc-bp1..." }).optional(),
  vswitchId: z.string().regex(/^vsw-[a-z0-9]+$/, { error: "expected a vSwitch id such as vsw-bp1..." }).optional(),
  securityGroupId: z.string().regex(/^sg-[a-z0-9]+$/, { error: "expected a security group id such as sg-bp1..." }).optional(),
  vpcCidr: cidr.default("172.16.0.0/16"),
  vswitchCidr: cidr.default("172.16.1.0/24"),
  // The provider's documented range; 0 means no public IP.
  internetMaxBandwidthOut: integer(0, 100, "Mbit/s from 0 to 100 (above 0 gives the server a public IP)").default(5),
  systemDisk: z
    .strictObject({
      category: z.enum(["cloud_essd", "cloud_efficiency", "cloud_ssd", "cloud_auto"], { error: "expected cloud_essd, cloud_efficiency, cloud_ssd or cloud_auto" }).default("cloud_essd"),
      sizeGb: integer(20, 2048, "GiB from 20 to 2048").default(40),
    })
    .default({ category: "cloud_essd", sizeGb: 40 }),
  tags: z.record(z.string().min(1).max(128), z.string().max(128)).default({}),
  deletionProtection: boolean.default(false),
  sshPort: port.default(22),
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "expected a Unix user name" }).default("root"),
  sshAllowedCidrs: z.array(networkCidr).min(1, { error: "expected at least one CIDR" }).optional(),
  appAllowedCidrs: z.array(networkCidr).min(1, { error: "expected at least one CIDR" }).default(["0.0.0.0/0"]),
  publicKey: z.string().regex(/^ssh-rsa [A-Za-z0-9+/]+=*( [^\n]*)?$/, { error: "expected an OpenSSH RSA public key (ssh-rsa AAAA...); Alibaba Cloud key pairs are RSA" }).optional(),
});

const hostSchema = z.strictObject({
  address: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: "expected a host name or IP address" }),
  port: port.default(22),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "expected a Unix user name" }).default("root"),
  // The server's public host key, as `ssh-keyscan -t ed25519 <host>` prints it; kept as "type base64".
  hostKey: z
    .string({ error: "expected a host key line such as \"ssh-ed25519 AAAAC3Nza…\"" })
    .transform((line, ctx) => {
      try {
        return parseHostKeyLine(line).line;
      } catch (err) {
        if (!(err instanceof HostKeyError)) throw err;
        ctx.addIssue({ code: "custom", message: `expected a host key line such as "ssh-ed25519 AAAAC3Nza…" (ssh-keyscan -t ed25519 <host> prints it): ${err.message}` });
        return z.NEVER;
      }
    })
    .optional(),
});

const stackSchema = z.strictObject({
  environment: z.enum(["development", "production"], { error: "expected development or production" }).optional(),
  target: z.enum(["local", "existing", "alicloud"], { error: "expected local (this machine's Docker), existing (a server you have) or alicloud (a new ECS server)" }).default("local"),
  app: appSchema,
  deploy: deploySchema.default(() => deploySchema.parse({})),
  registry: registrySchema.optional(),
  server: serverSchema.optional(),
  host: hostSchema.optional(),
  secretEnv: z.record(envName, envValue).default({}),
  sshPrivateKey: z.string().refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), { error: "expected a PEM or OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)" }).optional(),
  registryPassword: nonEmpty("the registry password").optional(),
});

type ParsedStack = z.output<typeof stackSchema>;
export type HealthcheckConfig = z.output<typeof healthcheckSchema>;
export type RegistryConfig = z.output<typeof registrySchema>;
export type DeployConfig = Omit<z.output<typeof deploySchema>, "ship"> & { ship: "copy" | "registry" };
export type ExistingHostConfig = z.output<typeof hostSchema>;
export type AlicloudServerConfig = Omit<z.output<typeof serverSchema>, "sshAllowedCidrs"> & { sshAllowedCidrs: string[] };

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

export interface AppConfig extends Omit<z.output<typeof appSchema>, "roles" | "path" | "requirements"> {
  /** Absolute path of the Python project. */
  path: string;
  /** Requirements file relative to `path`, POSIX separators; undefined when the project has none. */
  requirements?: string;
  /** In declaration order. */
  roles: RoleConfig[];
}

export interface StackConfig {
  project: string;
  stack: string;
  environment: "development" | "production";
  target: "local" | "existing" | "alicloud";
  app: AppConfig;
  deploy: DeployConfig;
  registry?: RegistryConfig;
  server?: AlicloudServerConfig;
  host?: ExistingHostConfig;
  /** Raw secret values: the Pulumi loader wraps them in pulumi.secret() at once. */
  secrets: { env: Record<string, string>; sshPrivateKey?: string; registryPassword?: string };
  /** Things that are allowed but worth saying (logged with pulumi.log.warn). */
  warnings: string[];
}

export interface RawStackConfig {
  project?: string;
  stack: string;
  /** Values of the project's namespace, keys without the "pydeploy:" prefix. */
  values: Record<string, unknown>;
  /** Provider configuration that matters here, e.g. {"alicloud:region": "cn-hangzhou"}. */
  providerConfig: Record<string, unknown>;
  /** Directory that relative paths (app.path) are resolved against: the one holding Pulumi.yaml. */
  baseDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Validates the whole stack config; throws one ConfigError listing every problem, each naming its key. */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const project = raw.project ?? PROJECT;
  const key = (p: PropertyKey[]) => `${project}:${p.map(String).join(".")}`;
  const result = stackSchema.safeParse(raw.values, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const secret = SECRET_KEYS.includes(issue.path[0] as SecretKey);
        if (issue.code === "unrecognized_keys") {
          const where = issue.path.length ? key(issue.path) : project;
          return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${issue.path.length ? "" : ` (known keys: ${Object.keys(stackSchema.shape).join(", ")})`}`;
        }
        const got = !secret && "input" in issue && issue.input !== undefined ? `, got ${describe(issue.input)}` : "";
        // Defaults fill every optional key, so an undefined input is a required key left out (a union's too).
        const missing = "input" in issue && issue.input === undefined ? " (missing)" : "";
        // A bad record key (role, env or volume name): zod says only "Invalid key in record"; the key's own check says what was expected.
        const message = issue.code === "invalid_key" ? issue.issues.map((i) => i.message).join("; ") : issue.message;
        return `${key(issue.path)}: ${message}${missing}${got}`;
      }),
    );
  }
  return checkSemantics(project, raw, result.data);
}

function describe(v: unknown): string {
  if (v !== null && typeof v === "object" && "shellOperators" in v) return JSON.stringify((v as { shellOperators: string }).shellOperators);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// Checks that span several keys or touch the file system.
function checkSemantics(project: string, raw: RawStackConfig, v: ParsedStack): StackConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const problem = (k: string, msg: string) => problems.push(`${project}:${k}: ${msg}`);

  const environment = v.environment ?? (/^prod/.test(raw.stack) ? "production" : "development");

  // The project on disk.
  const appPath = path.resolve(raw.baseDir, v.app.path);
  let requirements: string | undefined;
  if (!isDirectory(appPath)) {
    problem("app.path", `expected a directory holding the Python project, but ${appPath} does not exist or is not a directory`);
  } else {
    // The same reading the Dockerfile renderer does, so a broken include fails here, before anything is created.
    try {
      requirements = findRequirementsFile(appPath, v.app.requirements);
      resolveDependencySource(appPath, requirements, v.app.extras);
    } catch (err) {
      if (!(err instanceof DependencyError)) throw err;
      problem(err.key, err.message);
    }
  }
  for (const k of ["pipIndexUrl", "pipExtraIndexUrl"] as const) {
    const url = v.app[k];
    const wrong = url === undefined ? undefined : indexUrlProblem(url);
    if (wrong) problem(`app.${k}`, wrong);
  }

  // Roles and published ports.
  const withPort = Object.entries(v.app.roles).filter(([, r]) => r.port !== undefined).map(([name]) => name);
  if (v.app.domain !== undefined && withPort.length !== 1) {
    problem("app.domain", `applies to the one role with a port, but ${withPort.length ? `roles ${withPort.join(", ")} have ports: set app.roles.<role>.domain instead` : "no role has a port"}`);
  }
  const roles: RoleConfig[] = Object.entries(v.app.roles).map(([name, r]) => {
    const domain = r.domain ?? (v.app.domain !== undefined && withPort.length === 1 && withPort[0] === name ? v.app.domain : undefined);
    if (domain !== undefined && r.domain === undefined && r.publish !== undefined) problem(`app.roles.${name}.publish`, "a role with a domain (app.domain) is served on 443 and 80, so it takes no publish port");
    return {
      name,
      command: r.command,
      port: r.port,
      publish: r.port === undefined || domain !== undefined ? undefined : (r.publish ?? r.port),
      healthcheck: r.healthcheck,
      domain,
      proxy: r.port !== undefined && r.proxy,
    };
  });
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
  const hostPorts = new Map<number, string>();
  for (const role of roles) {
    if (role.domain !== undefined) for (const p of [80, 443]) hostPorts.set(p, role.name);
    if (role.publish === undefined) continue;
    const other = hostPorts.get(role.publish);
    if (other) problem(`app.roles.${role.name}.publish`, `host port ${role.publish} is already published by role ${other}; each role needs its own host port`);
    else hostPorts.set(role.publish, role.name);
  }
  if (v.app.mode === "single") {
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
  for (const [volume, mount] of Object.entries(v.app.volumes)) {
    for (const role of mount.roles ?? []) {
      if (!roleNames.has(role)) problem(`app.volumes.${volume}.roles`, `role ${role} is not one of app.roles (${[...roleNames].join(", ")})`);
    }
    const other = volumePaths.get(mount.path);
    if (other) problem(`app.volumes.${volume}.path`, `${mount.path} is already the path of volume ${other}`);
    else volumePaths.set(mount.path, volume);
    if (mount.path === v.app.workdir || v.app.workdir.startsWith(`${mount.path}/`)) {
      problem(`app.volumes.${volume}.path`, `must not be app.workdir (${v.app.workdir}) or a folder above it: the volume would hide the code`);
    }
  }
  for (const name of Object.keys(v.secretEnv)) {
    if (name in v.app.env) problem(`secretEnv.${name}`, `is also set in ${project}:app.env; keep each variable in one place`);
  }

  // Target-specific keys.
  const onlyFor = (k: "server" | "host", target: string) => {
    if (v[k] !== undefined && v.target !== target) problem(k, `is only used with target ${target}, but target is ${v.target}`);
  };
  onlyFor("server", "alicloud");
  onlyFor("host", "existing");

  let server: AlicloudServerConfig | undefined;
  if (v.target === "alicloud") {
    const region = raw.providerConfig["alicloud:region"];
    if (typeof region !== "string" || !/^[a-z]{2}-[a-z0-9-]+$/.test(region)) {
      problems.push(`alicloud:region: expected the Alibaba Cloud region, e.g. cn-hangzhou (pulumi config set alicloud:region cn-hangzhou)${region === undefined ? " (missing)" : `, got ${describe(region)}`}`);
    }
    const s = v.server ?? serverSchema.parse({});
    let sshAllowedCidrs = s.sshAllowedCidrs;
    if (environment === "production") {
      if (!sshAllowedCidrs) problem("server.sshAllowedCidrs", "is required in production: list the CIDRs allowed to reach SSH, e.g. [\"203.0.113.7/32\"]");
      else if (sshAllowedCidrs.some((c) => c.endsWith("/0"))) problem("server.sshAllowedCidrs", "must not open SSH to the whole internet (/0) in production");
    } else if (!sshAllowedCidrs) {
      sshAllowedCidrs = ["0.0.0.0/0"];
      warnings.push(`${project}:server.sshAllowedCidrs is not set: SSH (port ${s.sshPort}) is open to 0.0.0.0/0 on this ${environment} stack. Set it to your own address, e.g. ["203.0.113.7/32"].`);
    }
    if (s.sshPort !== 22) {
      warnings.push(`${project}:server.sshPort is ${s.sshPort}: the security group opens it, but the instance's sshd must be configured to listen there (the stock image listens on 22).`);
    }
    // The two would be one security group rule, and one host port cannot serve both.
    if (hostPorts.has(s.sshPort)) problem(`server.sshPort`, `port ${s.sshPort} is also published by role ${hostPorts.get(s.sshPort)}; SSH and the app need different host ports`);
    if (s.internetMaxBandwidthOut === 0) {
      warnings.push(`${project}:server.internetMaxBandwidthOut is 0: the server gets no public IP, so the deploy connects to its private IP and must run inside the VPC (or over a VPN to it).`);
    }
    if (!s.vswitchId && !cidrContains(s.vpcCidr, s.vswitchCidr)) problem("server.vswitchCidr", `expected a block inside server.vpcCidr (${s.vpcCidr}), got ${s.vswitchCidr}`);
    if (s.vswitchId && !s.vpcId && !s.securityGroupId) problem("server.vpcId", "is needed with server.vswitchId to create the security group in the same VPC");
    if (s.publicKey && !v.sshPrivateKey) problem("sshPrivateKey", "is required with server.publicKey: the deployment logs in with its private key (pulumi config set --secret sshPrivateKey < key)");
    if (!s.publicKey && v.sshPrivateKey) problem("sshPrivateKey", "is set but server.publicKey is not: set both, or neither to have a key pair generated");
    server = { ...s, sshAllowedCidrs: sshAllowedCidrs ?? [] };
  }
  if (v.target === "existing") {
    if (!v.host) problem("host", "is required with target existing: {address, port, user} of your server");
    if (!v.sshPrivateKey) problem("sshPrivateKey", "is required with target existing (pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519)");
    if (v.host && !v.host.hostKey) {
      const how = `get it with \`ssh-keyscan -t ed25519 ${v.host.address}\`, check it against the server's own /etc/ssh/ssh_host_ed25519_key.pub (e.g. from its console), then \`pulumi config set --path ${project}:host.hostKey 'ssh-ed25519 AAAA…'\``;
      if (environment === "production") problem("host.hostKey", `is required in production, so the deploy talks only to your server: ${how}`);
      else warnings.push(`${project}:host.hostKey is not set: the deploy accepts any SSH host key from ${v.host.address}, so it cannot notice a man in the middle. To pin it, ${how}.`);
    }
  }

  // Shipping.
  const ship = v.deploy.ship ?? (v.registry ? "registry" : "copy");
  if (ship === "registry" && !v.registry) problem("registry", "is required with deploy.ship registry: {server, username, repository}");
  if (v.registry && !v.registryPassword) problem("registryPassword", "is required with a registry (pulumi config set --secret registryPassword)");

  if (problems.length) throw new ConfigError(problems);

  return {
    project,
    stack: raw.stack,
    environment,
    target: v.target,
    app: { ...v.app, path: appPath, requirements, roles },
    deploy: { ...v.deploy, ship },
    registry: v.registry,
    server,
    host: v.target === "existing" ? v.host : undefined,
    secrets: { env: v.secretEnv, sshPrivateKey: v.sshPrivateKey, registryPassword: v.registryPassword },
    warnings,
  };
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function cidrContains(outer: string, inner: string): boolean {
  const [oAddr, oBits] = splitCidr(outer);
  const [iAddr, iBits] = splitCidr(inner);
  if (iBits < oBits) return false;
  const mask = oBits === 0 ? 0 : (~0 << (32 - oBits)) >>> 0;
  return ((oAddr & mask) >>> 0) === ((iAddr & mask) >>> 0);
}
function splitCidr(c: string): [number, number] {
  const [addr, bits] = c.split("/");
  const n = addr.split(".").reduce((acc, octet) => (acc * 256 + Number(octet)) >>> 0, 0);
  return [n, Number(bits)];
}
