// The stack configuration: one schema, composed of its sections, validated once before any
// resource is registered. Pure (no Pulumi import): the render script and the tests use it too.
import { z } from "zod";
import { appSchema, checkApp, hostPortOwners, type AppConfig } from "./app";
import { deploySchema, type DeployConfig } from "./deploy";
import { ConfigError, schemaProblems, type Problem } from "./errors";
import { envName, envValue } from "./fields";
import { checkFleet } from "./fleet";
import { checkExistingHost, checkHostTarget, existingHostsOf, hostSchema, hostsSchema, type ExistingHostConfig } from "./host";
import { checkRegistry, registryPasswordSchema, registrySchema, type RegistryConfig } from "./registry";
import { resolveEnvironment, resolveProject, resolveRoles, resolveServer, resolveShip } from "./resolve";
import { checkAlicloudServer, checkServerTarget, serverSchema, type AlicloudServerConfig } from "./server";
import { checkServices, resolveServices, servicesSchema, type ServiceConfig } from "./services";

export { ConfigError, SECRET_KEYS, type SecretKey } from "./errors";
export type { AppConfig, HealthcheckConfig, RoleConfig } from "./app";
export type { DeployConfig } from "./deploy";
export type { ExistingHostConfig } from "./host";
export type { RegistryConfig } from "./registry";
export type { AlicloudServerConfig } from "./server";
export type { AccessoryServiceConfig, PostgresServiceConfig, RedisServiceConfig, ServiceConfig } from "./services";

export const PROJECT = "pydeploy";

const stackSchema = z.strictObject({
  environment: z.enum(["development", "production"], { error: "expected development or production" }).optional(),
  target: z.enum(["local", "existing", "alicloud"], { error: "expected local (this machine's Docker), existing (a server you have) or alicloud (a new ECS server)" }).default("local"),
  app: appSchema,
  services: servicesSchema,
  deploy: deploySchema.default(() => deploySchema.parse({})),
  registry: registrySchema.optional(),
  server: serverSchema.optional(),
  host: hostSchema.optional(),
  hosts: hostsSchema.optional(),
  secretEnv: z.record(envName, envValue).default({}),
  sshPrivateKey: z.string().refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), { error: "expected a PEM or OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)" }).optional(),
  registryPassword: registryPasswordSchema.optional(),
  loadBalancerCertificateKey: z.string().refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), { error: "expected the certificate's PEM private key (-----BEGIN ... PRIVATE KEY-----)" }).optional(),
});
type ParsedStack = z.output<typeof stackSchema>;

export interface StackConfig {
  project: string;
  stack: string;
  environment: "development" | "production";
  target: "local" | "existing" | "alicloud";
  app: AppConfig;
  /** Beside the app, in declaration order: containers on its network, or managed instances. */
  services: ServiceConfig[];
  deploy: DeployConfig;
  registry?: RegistryConfig;
  server?: AlicloudServerConfig;
  /** Target existing: its servers, in release order (`host` is a list of one). */
  hosts: ExistingHostConfig[];
  /** Raw secret values: the Pulumi loader wraps them in pulumi.secret() at once. */
  secrets: { env: Record<string, string>; sshPrivateKey?: string; registryPassword?: string; loadBalancerCertificateKey?: string };
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

/** Validates the whole stack config; throws one ConfigError listing every problem, each naming its key. */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const project = raw.project ?? PROJECT;
  const result = stackSchema.safeParse(raw.values, { reportInput: true });
  if (!result.success) throw new ConfigError(schemaProblems(project, result.error.issues, Object.keys(stackSchema.shape)));
  return resolveStack(project, raw, result.data);
}

// The sections' cross-key rules, in the order their problems are listed, and the derived values.
function resolveStack(project: string, raw: RawStackConfig, v: ParsedStack): StackConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const problem: Problem = (k, msg) => problems.push(`${project}:${k}: ${msg}`);

  const environment = resolveEnvironment(v.environment, raw.stack);
  const projectOnDisk = resolveProject(raw.baseDir, v.app, problem);
  const roles = resolveRoles(v.app);
  const hostPorts = hostPortOwners(roles);
  checkApp(project, v.app, roles, v.secretEnv, problem);
  const services = resolveServices(v.app.name, v.services);
  checkServices(services, { target: v.target, roles, hostPorts, appEnv: v.app.env, secretEnv: v.secretEnv, appVolumes: Object.keys(v.app.volumes), workdir: v.app.workdir }, problem);
  checkServerTarget(v.target, v.server, problem);
  checkHostTarget(v.target, { host: v.host, hosts: v.hosts }, problem);

  let server: AlicloudServerConfig | undefined;
  if (v.target === "alicloud") {
    const parsedServer = v.server ?? serverSchema.parse({});
    server = resolveServer(project, parsedServer, environment, warnings);
    checkAlicloudServer(project, parsedServer, { region: raw.providerConfig["alicloud:region"], environment, hostPortOwners: hostPorts, sshPrivateKey: v.sshPrivateKey }, problems, warnings);
  }
  const hosts = v.target === "existing" ? existingHostsOf({ host: v.host, hosts: v.hosts }, problem) : [];
  if (v.target === "existing") checkExistingHost(project, { hosts, listed: v.hosts ? "hosts" : "host", sshPrivateKey: v.sshPrivateKey, environment }, problem, warnings);
  const fleet = v.target === "alicloud" ? { size: server!.count, sizeKey: "server.count" } : v.target === "existing" && v.hosts ? { size: hosts.length, sizeKey: "hosts" } : { size: 1, sizeKey: v.target === "local" ? "target local" : "host" };
  const ownDomains = Object.entries(v.app.roles).filter(([, r]) => r.domain !== undefined).map(([name]) => name);
  checkFleet(
    { ...fleet, rollingBatch: v.deploy.rollingBatch, appVolumes: Object.keys(v.app.volumes), services, roles, hostPorts, hosts: v.hosts ? hosts : undefined, ownDomains, loadBalancer: server?.loadBalancer, certificateKey: v.loadBalancerCertificateKey !== undefined },
    problem,
  );

  const ship = resolveShip(v.deploy.ship, v.registry !== undefined);
  checkRegistry(ship, v.registry, v.registryPassword, problem);

  if (problems.length) throw new ConfigError(problems);

  return {
    project,
    stack: raw.stack,
    environment,
    target: v.target,
    app: { ...v.app, path: projectOnDisk.path, requirements: projectOnDisk.requirements, roles },
    services,
    deploy: { ...v.deploy, ship },
    registry: v.registry,
    server,
    hosts,
    secrets: { env: v.secretEnv, sshPrivateKey: v.sshPrivateKey, registryPassword: v.registryPassword, loadBalancerCertificateKey: v.loadBalancerCertificateKey },
    warnings,
  };
}
