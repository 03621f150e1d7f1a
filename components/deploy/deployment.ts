// Runs the app on a Docker host: this machine's engine, or a server over SSH. Three steps, four
// with services, each a local.Command running the deployer (runner/main.ts) with its spec in the
// environment and its secrets on stdin:
//   host     SSH answers, boot finished, Docker usable, app folder claimed.
//            Replaced when the machine changes (not its user: hostTrigger); its delete (`remove`)
//            takes the app off the old machine.
//   ship     the image onto the host, verified (SSH: copied or pulled; local: tagged).
//   services the service containers (PostgreSQL, Redis, accessories) on the app's network: runs
//            only when their settings or secrets change, so an app deploy never restarts them.
//            With several servers only the first runs them; the others reach them by host entries.
//   release  the containers of this image, env and settings, health-gated, with rollback.
// Every change is an in-place update of ship/services/release (their spec or stdin changed); ship
// and release have no delete, so nothing of a running release is removed at the end of a
// deployment. The services step's delete (`remove-services`) takes the service containers off
// when no service is left; their volumes stay.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { baseImageOf } from "../config/resolve";
import type { AppConfig, DeployConfig, ServiceConfig } from "../config/schema";
import type { SshConnection } from "../server/sshConnection";
import type { ContainerSettings } from "./containerSpec";
import { serverTag } from "./containerSpec";
import { mountsOf, proxySites, roleSpecs } from "./roles";
import { type ServiceSecrets, serviceSettingsOf, servicesNetworkOf, snapshotSettingsOf } from "./services/serviceSpec";
import {
  appDirOf,
  envFileOf,
  HostSpec,
  hostTrigger,
  parseResult,
  releaseResultSchema,
  ReleaseSpec,
  RollPeer,
  runnerCommand,
  ServicesSpec,
  ShipSpec,
  SPEC_ENV,
  SshTarget,
  SPEC_VERSION,
  stepLogOf,
  StepSecrets,
  Target,
} from "./spec";

export type DeployTarget = { kind: "local" } | { kind: "ssh"; connection: pulumi.Input<SshConnection> };

export interface AppDeploymentArgs {
  target: DeployTarget;
  /** Plain: the roles and settings are known before anything is built. */
  app: AppConfig;
  deploy: DeployConfig;
  /** The built image: repository:tag, and docker.Image's repoDigest (local ID, or registry digest). */
  imageName: pulumi.Input<string>;
  repoDigest: pulumi.Input<string>;
  /** Pull from this registry instead of copying the image (SSH targets). */
  registry?: { server: string; username: string; password: pulumi.Input<string> };
  /** Written to the host's env file (mode 600) through stdin; never in a command line. */
  secretEnv: pulumi.Input<Record<string, string>>;
  /** SSH targets: where Docker CE is installed from when missing, and the registry mirrors. */
  dockerInstall?: { mirror: string; registryMirrors: string[] };
  /** The reverse proxy's image: required when a role is served through the proxy (proxySites). */
  proxyImage?: { imageName: pulumi.Input<string>; repoDigest: pulumi.Input<string> };
  /** The `docker:host` config, when set: the docker provider builds there, so the deployer's local docker commands go there too. */
  dockerHost?: string;
  /** The app's services (plain); those not managed run as containers on the host. */
  services?: ServiceConfig[];
  /** Per service: its password (PostgreSQL, Redis) and an accessory's secret env, on stdin. */
  serviceSecrets?: pulumi.Input<ServiceSecrets>;
  /** Several servers, on the one that runs the services: its private address, where their ports are published for the others. */
  servicesPublishedOn?: pulumi.Input<string>;
  /** Several servers, on the others: the services run on another server; the app's containers reach them by name at its private address. */
  servicesOn?: { address: pulumi.Input<string>; names: string[] };
  /** A rolling release: this server's release waits for the previous batch's, and, when it fails, takes every earlier server back. */
  roll?: {
    after: pulumi.Resource[];
    /** The servers released before this one, each as its `rollPeer` gives it. */
    earlier: pulumi.Input<RollPeer>[];
    /** Only the first server runs app.release (migrations): once for the fleet. */
    releaseCommand: boolean;
  };
}

/** Where and as whom, without the key. */
function sshTargetOf(c: SshConnection): SshTarget {
  return { kind: "ssh", host: c.host, port: c.port, user: c.user, ...(c.hostKey ? { hostKey: c.hostKey } : {}) };
}

export class AppDeployment extends pulumi.ComponentResource {
  /** Names this release's containers: <app>-<role>-<version>. */
  readonly version: pulumi.Output<string>;
  /** The containers this release runs, in boot order. */
  readonly containers: pulumi.Output<string[]>;
  /** What the release printed: gates passed, containers started, images pruned. */
  readonly releaseLog: pulumi.Output<string>;
  /** The service containers on the host (none when every service is managed, or there are none). */
  readonly serviceContainers: pulumi.Output<string[]>;
  /** The release step: the next batch of a rolling release waits for it. */
  readonly release: pulumi.Resource;
  /** The services step, when this server runs the services: the other servers' releases wait for it. */
  readonly servicesStep?: pulumi.Resource;
  /** This server as a later server's release sees it: to catch it up, or take it back. */
  readonly rollPeer: pulumi.Output<RollPeer>;

  constructor(name: string, args: AppDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:deploy:AppDeployment", name, {}, opts);
    const { app, deploy } = args;
    const appDir = appDirOf(deploy.remoteDir, app.name);
    const base = (target: Target) => ({ specVersion: SPEC_VERSION, target, app: app.name, appDir, connectTimeoutSeconds: deploy.sshTimeoutSeconds });

    // Where and as whom: plain (no key material), so diffs and the delete can show it.
    const target: pulumi.Output<Target> =
      args.target.kind === "local"
        ? pulumi.output({ kind: "local" as const })
        : pulumi.unsecret(pulumi.output(args.target.connection).apply(sshTargetOf));
    const privateKey = args.target.kind === "ssh" ? pulumi.output(args.target.connection).apply((c) => c.privateKey) : undefined;
    const secrets = (s: { [K in keyof StepSecrets]: pulumi.Input<StepSecrets[K]> | undefined }) =>
      pulumi.secret(pulumi.output(s).apply((v) => JSON.stringify(v)));
    const spec = (s: pulumi.Input<object>) => ({
      [SPEC_ENV]: pulumi.output(s).apply((v) => JSON.stringify(v)),
      // Unset, the deployer finds the provider's daemon itself (DOCKER_HOST or the default socket).
      ...(args.dockerHost ? { DOCKER_HOST: args.dockerHost } : {}),
    });
    const step = (stepName: "host" | "ship" | "services" | "release", specValue: pulumi.Input<object>, stdin: pulumi.Output<string>, extra: Partial<command.local.CommandArgs>, dependsOn: pulumi.Resource[]) =>
      new command.local.Command(
        `${name}-${stepName}`,
        {
          create: runnerCommand(stepName),
          environment: spec(specValue),
          stdin,
          logging: "stdoutAndStderr",
          // Long release logs must not be passed back through the environment (ARG_MAX).
          addPreviousOutputInEnv: false,
          ...extra,
        },
        { parent: this, dependsOn },
      );

    const hostSpec: pulumi.Output<HostSpec> = target.apply((t) => ({
      ...base(t),
      removeVolumes: deploy.removeVolumesOnDestroy,
      ...(t.kind === "ssh" && args.dockerInstall ? { dockerInstall: args.dockerInstall } : {}),
    }));
    const host = step("host", hostSpec, secrets({ privateKey }), {
      delete: runnerCommand("remove"),
      // `remove` reads the owner token the create printed.
      addPreviousOutputInEnv: true,
      // A new host is a new resource: the old one's delete takes the app off the old host.
      triggers: [target.apply(hostTrigger)],
    }, []);

    const shipImage = (i: { imageName: pulumi.Input<string>; repoDigest: pulumi.Input<string> }) =>
      pulumi.all([i.imageName, i.repoDigest]).apply(([name, identity]) => ({ name, identity, serverTag: serverTag(name, identity), base: baseImageOf(app) }));
    const image = shipImage(args);
    const sites = proxySites(app);
    if (sites.length > 0 && !args.proxyImage) throw new Error(`AppDeployment ${name}: roles are served through the proxy, but no proxyImage was given`);
    const proxyImage = sites.length > 0 ? shipImage(args.proxyImage!) : pulumi.output(undefined);
    const shipSpec: pulumi.Output<ShipSpec> = pulumi.all([target, image, proxyImage]).apply(([t, i, p]) => ({
      ...base(t),
      image: i,
      ...(p ? { proxyImage: p } : {}),
      ...(args.registry ? { registry: { server: args.registry.server, username: args.registry.username } } : {}),
    }));
    const ship = step("ship", shipSpec, secrets({ privateKey, registryPassword: args.registry?.password }), {}, [host]);

    // Plain: which services run on this server is known now; only a fleet's private address is not.
    const servicesHere = serviceSettingsOf(app.name, appDir, args.services ?? []).map((s) => ({ name: s.name, container: s.container, kind: s.kind, ready: s.ready }));
    const serviceSettings = pulumi
      .output(args.servicesPublishedOn)
      .apply((address) => serviceSettingsOf(app.name, appDir, args.services ?? [], address));
    const network = servicesHere.length > 0 ? servicesNetworkOf(app.name) : undefined;
    let services: command.local.Command | undefined;
    if (network) {
      const servicesSpec: pulumi.Output<ServicesSpec> = pulumi.all([target, serviceSettings]).apply(([t, settings]) => ({
        ...base(t),
        network,
        services: settings,
        readyTimeoutSeconds: deploy.healthTimeoutSeconds,
        logMaxSize: deploy.logMaxSize,
        logMaxFiles: deploy.logMaxFiles,
      }));
      // Its delete (no service left, or destroy) takes the containers off; volumes stay.
      services = step("services", servicesSpec, secrets({ privateKey, services: args.serviceSecrets }), { delete: runnerCommand("remove-services") }, [host]);
    }
    this.servicesStep = services;
    const snapshot = snapshotSettingsOf(app.name, appDir, args.services ?? []);
    const releaseServices = network && {
      network,
      ready: servicesHere.map((s) => ({ name: s.name, container: s.container, kind: s.kind, ...(s.ready ? { command: s.ready } : {}) })),
      ...(snapshot && app.release ? { snapshot } : {}),
    };

    const serviceHosts = args.servicesOn ? pulumi.output(args.servicesOn.address).apply((address) => args.servicesOn!.names.map((n) => ({ name: n, address }))) : pulumi.output(undefined);
    const settings: pulumi.Output<ContainerSettings> = pulumi.all([image, serviceHosts]).apply(([i, hosts]) => ({
      app: app.name,
      image: i.serverTag,
      imageIdentity: i.identity,
      roles: roleSpecs(app),
      envFile: envFileOf(appDir),
      logMaxSize: deploy.logMaxSize,
      logMaxFiles: deploy.logMaxFiles,
      stopGraceSeconds: deploy.stopGraceSeconds,
      ...(network ? { network } : {}),
      ...(hosts?.length ? { serviceHosts: hosts } : {}),
    }));
    const hasDomain = sites.some((site) => site.domain !== undefined);
    const acme = Object.fromEntries(Object.entries(deploy.acme).filter(([, v]) => v !== undefined));
    // Where the earlier servers are (no key material): a failure here rolls them back.
    const earlier = pulumi.all(args.roll?.earlier ?? []);
    const releaseSpec: pulumi.Output<ReleaseSpec> = pulumi.all([target, settings, proxyImage, earlier]).apply(([t, s, p, e]) => ({
      ...base(t),
      settings: s as ContainerSettings,
      healthTimeoutSeconds: deploy.healthTimeoutSeconds,
      runningGateSeconds: deploy.runningGateSeconds,
      keepImages: deploy.keepImages,
      volumes: { names: mountsOf(app).map((m) => m.volume), ownerUid: app.user.uid },
      ...(app.release && (args.roll?.releaseCommand ?? true) ? { releaseCommand: { command: app.release, timeoutSeconds: deploy.releaseTimeoutSeconds } } : {}),
      ...(releaseServices ? { services: releaseServices } : {}),
      ...(p ? { proxy: { image: p.serverTag, sites, ...(hasDomain ? { acme } : {}) } } : {}),
      ...(e.length ? { earlier: e } : {}),
    }));
    const release = step("release", releaseSpec, secrets({ privateKey, env: args.secretEnv }), {}, [ship, ...(services ? [services] : []), ...(args.roll?.after ?? [])]);
    this.release = release;
    this.rollPeer = pulumi.all([target, settings]).apply(([t, s]) => ({
      ...(t as SshTarget),
      ...(s.network ? { network: s.network } : {}),
      ...(s.serviceHosts ? { serviceHosts: s.serviceHosts } : {}),
      ...(releaseServices ? { services: releaseServices } : {}),
    }));
    this.serviceContainers = pulumi.output(servicesHere.map((s) => s.container));

    const result = release.stdout.apply((out) => parseResult("release", releaseResultSchema, out));
    this.version = result.apply((r) => r.version);
    this.containers = result.apply((r) => r.containers);
    this.releaseLog = release.stdout;
    // A step's lines show only as transient status while it runs: the release's log is shown
    // again in the run's diagnostics. Not in a preview, which runs nothing.
    if (!pulumi.runtime.isDryRun()) {
      release.stdout.apply((out) => {
        const log = stepLogOf(out);
        if (log) void pulumi.log.info(`release log (its last run):\n${log}`, this);
      });
    }
    this.registerOutputs({ version: this.version, containers: this.containers, releaseLog: this.releaseLog, serviceContainers: this.serviceContainers });
  }
}
