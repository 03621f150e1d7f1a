// The program: read and validate the stack config, then wire the components.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./components/config/load";
import { AppDeployment } from "./components/deploy/deployment";
import { operatorCommands } from "./components/deploy/operatorCommands";
import { appUrls as urlsOf, hostPorts, proxySites, roleSpecs } from "./components/deploy/roles";
import { ServiceCredentials } from "./components/deploy/services/serviceCredentials";
import { serviceSecretsOf, serviceSettingsOf, serviceUrlEnv, serviceUrls, snapshotSettingsOf } from "./components/deploy/services/serviceSpec";
import { appDirOf } from "./components/deploy/spec";
import { AppImage, requireDockerDaemon } from "./components/image/appImage";
import { AlicloudServer } from "./components/server/alicloudServer";
import { ManagedServices } from "./components/server/managedServices";
import type { SshConnection } from "./components/server/sshConnection";

const config = loadStackConfig();
// Every preview, up and destroy needs the docker provider's daemon: said plainly, before anything is registered.
const dockerHost = requireDockerDaemon();
const { app, deploy, registry, secrets, services } = config;
const roles = roleSpecs(app);
// The proxy's ports (a role's publish, or 80 and 443 for a domain) and those of roles that publish their own.
const publishedPorts = hostPorts(app);
const withProxy = proxySites(app).length > 0;
const hasLsof = app.aptPackages.some((p) => p.split("=")[0] === "lsof");

const registryLogin = registry && {
  server: registry.server,
  username: registry.username,
  password: secrets.registryPassword!,
};

const image = new AppImage(app.name, {
  app,
  repository: registry ? `${registry.server}/${registry.repository}` : `pydeploy/${app.name}`,
  tag: config.stack,
  registry: registryLogin,
  // Servers are x86-64 unless configured; the local target runs what this machine builds natively.
  platform: config.target === "local" ? deploy.platform : (deploy.platform ?? "linux/amd64"),
  withProxy,
});

export const target = config.target;
export const imageName = image.imageName;
export const imageDigest = image.repoDigest;
export const generatedFiles = image.generatedFiles;

let server: AlicloudServer | undefined;
let connection: pulumi.Output<SshConnection> | undefined;
if (config.target === "alicloud") {
  const s = config.server!;
  server = new AlicloudServer(app.name, {
    instanceType: s.instanceType,
    imageId: s.imageId,
    zoneId: s.zoneId,
    cpuCores: s.cpuCores,
    memoryGb: s.memoryGb,
    imageNameRegex: s.imageNameRegex,
    vpcId: s.vpcId,
    vswitchId: s.vswitchId,
    securityGroupId: s.securityGroupId,
    vpcCidr: s.vpcCidr,
    vswitchCidr: s.vswitchCidr,
    internetMaxBandwidthOut: s.internetMaxBandwidthOut,
    systemDisk: s.systemDisk,
    tags: { "managed-by": "pydeploy", app: app.name, stack: config.stack, ...s.tags },
    deletionProtection: s.deletionProtection,
    ssh: { port: s.sshPort, user: s.sshUser, allowedCidrs: s.sshAllowedCidrs },
    appPorts: publishedPorts.map((port) => ({ port, allowedCidrs: s.appAllowedCidrs })),
    publicKey: s.publicKey,
    privateKey: s.publicKey ? secrets.sshPrivateKey : undefined,
    cloudInit: { mirror: deploy.dockerMirror, registryMirrors: deploy.registryMirrors },
  });
  connection = server.connection;
} else if (config.target === "existing") {
  const h = config.host!;
  connection = pulumi.secret(
    secrets.sshPrivateKey!.apply((privateKey) => ({ host: h.address, port: h.port, user: h.user, privateKey, ...(h.hostKey ? { hostKey: h.hostKey } : {}) })),
  );
}

export const publicIp = server?.publicIp;
export const privateIp = server?.privateIp;
export const instanceId = server?.instanceId;
export const securityGroupId = server?.securityGroupId;
/** The new server's SSH host key, pinned by every deploy step. */
export const hostKey = server?.hostKey;
/** Only when the key pair was generated; save it with `pulumi stack output --show-secrets sshPrivateKey`. */
export const sshPrivateKey = server && !config.server!.publicKey ? server.privateKey : undefined;

// Services: passwords generated once; managed ones (alicloud) are instances beside the server.
const credentials = services.length ? new ServiceCredentials(app.name, { services }) : undefined;
const passwords: pulumi.Output<Record<string, string>> = credentials?.passwords ?? pulumi.output<Record<string, string>>({});
const managedServices = services.filter((s) => s.managed);
const managed =
  server && managedServices.length
    ? new ManagedServices(app.name, {
        appName: app.name,
        services: managedServices.map((s) => s as Extract<typeof s, { kind: "postgres" | "redis" }>),
        vpcId: server.vpcId(),
        vswitchId: server.vswitchId,
        zoneId: server.zoneId,
        privateIp: server.privateIp,
        tags: { "managed-by": "pydeploy", app: app.name, stack: config.stack },
        passwords: Object.fromEntries(managedServices.map((s) => [s.name, passwords.apply((p) => p[s.name])])),
        keepDataOnDestroy: !deploy.removeVolumesOnDestroy,
      })
    : undefined;
const urls = pulumi.all([passwords, managed?.urls ?? pulumi.output<Record<string, string>>({})]).apply(([p, m]) => serviceUrls(services, p, m));
// The app's env: secretEnv plus each service's URL under its urlEnv names (DATABASE_URL, REDIS_URL, ...).
const appSecretEnv = services.length ? pulumi.secret(pulumi.all([secrets.env, urls]).apply(([env, u]) => ({ ...env, ...serviceUrlEnv(services, u) }))) : secrets.env;

const deployment = new AppDeployment(
  app.name,
  {
    target: connection ? { kind: "ssh", connection } : { kind: "local" },
    app,
    deploy,
    imageName: image.imageName,
    repoDigest: image.repoDigest,
    registry: deploy.ship === "registry" && registryLogin ? registryLogin : undefined,
    secretEnv: appSecretEnv,
    services,
    serviceSecrets: pulumi.secret(pulumi.all([passwords, secrets.env]).apply(([p, env]) => serviceSecretsOf(services, p, env))),
    dockerInstall: connection ? { mirror: deploy.dockerMirror, registryMirrors: deploy.registryMirrors } : undefined,
    proxyImage: image.proxy,
    dockerHost,
  },
  { dependsOn: server ? [server] : [] },
);

const keyFile = `~/.ssh/pydeploy-${app.name}-${config.stack}`;
const host: pulumi.Output<string> | undefined =
  server?.publicIp ?? (config.host ? pulumi.output(config.host.address) : undefined);

export const containers = deployment.containers;
export const appUrls = (host ?? pulumi.output("localhost")).apply((h) => urlsOf(app, h));
const sshUser = config.server?.sshUser ?? config.host?.user ?? "root";
const sshPort = config.server?.sshPort ?? config.host?.port ?? 22;
const appDir = appDirOf(deploy.remoteDir, app.name);
const onServer = {
  app: app.name,
  roles,
  hasLsof,
  services: serviceSettingsOf(app.name, appDir, services),
  snapshot: app.release ? snapshotSettingsOf(app.name, appDir, services) : undefined,
};
/** The seed's manual checks, ready to paste: ssh, docker ps, logs, a shell, the listening ports; psql, redis-cli and a snapshot's restore. */
export const commands = host
  ? host.apply((h) => operatorCommands({ ...onServer, ssh: { user: sshUser, host: h, port: sshPort, keyFile } }))
  : pulumi.output(operatorCommands(onServer));
/** Managed services' host:port (no password; the URLs are in the app's env). */
export const serviceEndpoints = managed?.endpoints;
/** Remote targets: the ssh command line (save the key to the file it names first). */
export const sshCommand = host ? commands.apply((c) => c.ssh) : undefined;
