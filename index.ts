// The program: read and validate the stack config, then wire the components.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./components/config/load";
import { AppDeployment } from "./components/deploy/deployment";
import { fleetPsCommand, operatorCommands } from "./components/deploy/operatorCommands";
import { releasedBefore, releaseWaitsFor } from "./components/deploy/rollingOrder";
import { appUrls as urlsOf, hostPorts, proxySites, roleSpecs } from "./components/deploy/roles";
import { ServiceCredentials } from "./components/deploy/services/serviceCredentials";
import { serviceSecretsOf, serviceSettingsOf, serviceUrlEnv, serviceUrls, snapshotSettingsOf } from "./components/deploy/services/serviceSpec";
import { zoneSwitchesOf } from "./components/config/server";
import { sharedServicePort } from "./components/config/services";
import { appDirOf } from "./components/deploy/spec";
import { AppImage, requireDockerDaemon } from "./components/image/appImage";
import { AlicloudServer } from "./components/server/alicloudServer";
import { LoadBalancer } from "./components/server/loadBalancer";
import { appBehindLoadBalancer, appPortsBehind, listenerPlans } from "./components/server/loadBalancerPlan";
import { ManagedServices } from "./components/server/managedServices";
import type { SshConnection } from "./components/server/sshConnection";
import { fleetMemberName } from "./components/server/fleet";

const config = loadStackConfig();
// Every preview, up and destroy needs the docker provider's daemon: said plainly, before anything is registered.
const dockerHost = requireDockerDaemon();
const { deploy, registry, secrets, services } = config;
// Behind the CLB (alicloud), HTTPS ends there: each server serves the domain's role on plain HTTP.
const loadBalanced = config.server?.loadBalancer.enabled ?? false;
const app = loadBalanced ? appBehindLoadBalancer(config.app) : config.app;
// The CLB's listeners, one per published port (a domain: HTTPS on 443, and 80 redirecting to it).
const listeners = listenerPlans(config.app);
const roles = roleSpecs(app);
// The proxy's ports (a role's publish, or 80 and 443 for a domain) and those of roles that publish their own.
const publishedPorts = hostPorts(app);
const withProxy = proxySites(app).length > 0;
const hasLsof = app.aptPackages.some((p) => p.split("=")[0] === "lsof");
const fleetSize = config.server?.count ?? Math.max(config.hosts.length, 1);
// Several servers: the service containers run on the first; the others reach them at its private address.
const sharedServices = fleetSize > 1 ? services.filter((s) => sharedServicePort(s) !== undefined) : [];

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
/** The servers the app runs on, in release order; one for the local target. */
let members: { name: string; connection?: pulumi.Output<SshConnection>; instanceId?: pulumi.Output<string>; address: pulumi.Output<string>; privateIp?: pulumi.Output<string> }[];
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
    vswitchIds: s.vswitchIds,
    zoneSwitches: s.zoneIds ? zoneSwitchesOf(s) : undefined,
    securityGroupId: s.securityGroupId,
    vpcCidr: s.vpcCidr,
    vswitchCidr: s.vswitchCidr,
    internetMaxBandwidthOut: s.internetMaxBandwidthOut,
    systemDisk: s.systemDisk,
    tags: { "managed-by": "pydeploy", app: app.name, stack: config.stack, ...s.tags },
    deletionProtection: s.deletionProtection,
    ssh: { port: s.sshPort, user: s.sshUser, allowedCidrs: s.sshAllowedCidrs },
    // Behind the CLB, the app's ports let in the balancer (and, for layer 4, the clients it passes on).
    appPorts: loadBalanced ? appPortsBehind(listeners, s.appAllowedCidrs) : publishedPorts.map((port) => ({ port, allowedCidrs: s.appAllowedCidrs })),
    publicKey: s.publicKey,
    privateKey: s.publicKey ? secrets.sshPrivateKey : undefined,
    cloudInit: { mirror: deploy.dockerMirror, registryMirrors: deploy.registryMirrors },
    count: s.count,
    fleetPorts: sharedServices.map((svc) => sharedServicePort(svc)!),
  });
  members = server.servers.map((m) => ({ name: m.name, connection: m.connection, instanceId: m.instanceId, address: m.address, privateIp: m.privateIp }));
} else if (config.target === "existing") {
  members = config.hosts.map((h, i) => ({
    name: fleetMemberName(app.name, i),
    connection: pulumi.secret(
      secrets.sshPrivateKey!.apply((privateKey): SshConnection => ({ host: h.address, port: h.port, user: h.user, privateKey, ...(h.hostKey ? { hostKey: h.hostKey } : {}) })),
    ),
    address: pulumi.output(h.address),
    privateIp: h.privateIp === undefined ? undefined : pulumi.output(h.privateIp),
  }));
} else {
  members = [{ name: app.name, address: pulumi.output("localhost") }];
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
        privateIps: server.servers.map((m) => m.privateIp),
        tags: { "managed-by": "pydeploy", app: app.name, stack: config.stack },
        passwords: Object.fromEntries(managedServices.map((s) => [s.name, passwords.apply((p) => p[s.name])])),
        keepDataOnDestroy: !deploy.removeVolumesOnDestroy,
      })
    : undefined;
const urls = pulumi.all([passwords, managed?.urls ?? pulumi.output<Record<string, string>>({})]).apply(([p, m]) => serviceUrls(services, p, m));
// The app's env: secretEnv plus each service's URL under its urlEnv names (DATABASE_URL, REDIS_URL, ...).
const appSecretEnv = services.length ? pulumi.secret(pulumi.all([secrets.env, urls]).apply(([env, u]) => ({ ...env, ...serviceUrlEnv(services, u) }))) : secrets.env;

// One deployment per server; each batch's releases wait for the batch before. A failed gate stops
// the roll, and the servers already released go back to the version they ran.
const waitsFor = releaseWaitsFor(members.length, deploy.rollingBatch, { firstAlone: app.release !== undefined });
const before = releasedBefore(members.length, deploy.rollingBatch);
const deployments: AppDeployment[] = [];
// The server that runs the service containers (the first), and the address the others reach them at.
const runsServices = (i: number) => i === 0;
const servicesServer = sharedServices.length ? { address: members[0].privateIp!, names: sharedServices.map((s) => s.name) } : undefined;
members.forEach((member, i) => {
  deployments.push(
    new AppDeployment(
      member.name,
      {
        target: member.connection ? { kind: "ssh", connection: member.connection } : { kind: "local" },
        app,
        deploy,
        imageName: image.imageName,
        repoDigest: image.repoDigest,
        registry: deploy.ship === "registry" && registryLogin ? registryLogin : undefined,
        secretEnv: appSecretEnv,
        services: runsServices(i) ? services : [],
        serviceSecrets: runsServices(i) ? pulumi.secret(pulumi.all([passwords, secrets.env]).apply(([p, env]) => serviceSecretsOf(services, p, env))) : undefined,
        servicesPublishedOn: runsServices(i) ? servicesServer?.address : undefined,
        servicesOn: runsServices(i) ? undefined : servicesServer,
        dockerInstall: member.connection ? { mirror: deploy.dockerMirror, registryMirrors: deploy.registryMirrors } : undefined,
        proxyImage: image.proxy,
        dockerHost,
        roll: {
          after: [...waitsFor[i].map((j) => deployments[j].release), ...(runsServices(i) ? [] : [deployments[0].servicesStep].filter((r) => r !== undefined))],
          earlier: before[i].map((j) => deployments[j].rollPeer),
          releaseCommand: i === 0,
        },
      },
      { dependsOn: server ? [server] : [] },
    ),
  );
});

// A server joins the balancer once its first release passed; removing one leaves the balancer before its app goes.
const loadBalancer =
  server && loadBalanced
    ? new LoadBalancer(app.name, {
        listeners,
        backends: members.map((m, i) => ({ name: m.name, instanceId: m.instanceId!, readyAfter: [deployments[i].release] })),
        spec: config.server!.loadBalancer.spec,
        certificate: config.server!.loadBalancer.certificate ? { chain: config.server!.loadBalancer.certificate, privateKey: secrets.loadBalancerCertificateKey! } : undefined,
        tags: { "managed-by": "pydeploy", app: app.name, stack: config.stack, ...config.server!.tags },
      })
    : undefined;

const keyFile = `~/.ssh/pydeploy-${app.name}-${config.stack}`;
const sshUserOf = (i: number) => config.server?.sshUser ?? config.hosts[i]?.user ?? "root";
const sshPortOf = (i: number) => config.server?.sshPort ?? config.hosts[i]?.port ?? 22;
const appDir = appDirOf(deploy.remoteDir, app.name);
// psql, redis-cli and the snapshots are on the server that runs the services.
const onServer = (i: number) => ({
  app: app.name,
  roles,
  hasLsof,
  services: runsServices(i) ? serviceSettingsOf(app.name, appDir, services) : [],
  snapshot: runsServices(i) && app.release ? snapshotSettingsOf(app.name, appDir, services) : undefined,
});
const remote = config.target !== "local";
const commandsOf = (i: number) =>
  remote ? members[i].address.apply((h) => operatorCommands({ ...onServer(i), ssh: { user: sshUserOf(i), host: h, port: sshPortOf(i), keyFile } })) : pulumi.output(operatorCommands(onServer(0)));

/** The first server's containers (the only server's, usually). */
export const containers = deployments[0].containers;
/** Where users reach the app: the load balancer, else each server. */
export const appUrls = loadBalancer
  ? loadBalancer.address.apply((a) => urlsOf(config.app, a))
  : pulumi.all(members.map((m) => m.address)).apply((addresses) => [...new Set(addresses.flatMap((a) => urlsOf(app, a)))]);
/** The seed's manual checks on the first server, ready to paste: ssh, docker ps, logs, a shell, the listening ports; psql, redis-cli and a snapshot's restore. */
export const commands = commandsOf(0);
/** Several servers: each one's address, containers and the same commands. */
export const servers = members.length > 1 ? pulumi.all(members.map((m, i) => pulumi.all([m.address, deployments[i].containers, commandsOf(i)]).apply(([address, c, cmds]) => ({ name: m.name, address, containers: c, commands: cmds })))) : undefined;
/** Several servers: `docker ps` of the app on every one, in release order. */
export const fleetPs = members.length > 1 ? pulumi.all(members.map((_, i) => commandsOf(i))).apply((all) => fleetPsCommand(all.map((c) => c.ps))) : undefined;
/** The load balancer's address (alicloud, several servers). */
export const loadBalancerAddress = loadBalancer?.address;
/** Managed services' host:port (no password; the URLs are in the app's env). */
export const serviceEndpoints = managed?.endpoints;
/** Remote targets: the ssh command line (save the key to the file it names first). */
export const sshCommand = remote ? commands.apply((c) => c.ssh) : undefined;
