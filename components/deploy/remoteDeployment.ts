// Runs the app on a server over SSH: each step of the remote plan becomes one remote.Command
// (or the CopyToRemote of the image archive), each depending on the one before.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig, DeployConfig } from "../config/schema";
import type { RegistryLogin } from "../image/appImage";
import type { SshConnection } from "../server/alicloudServer";
import { planStepNames, PlannedStep, RemoteStep } from "./commands";
import { containerName, renderEnvFile } from "./containerSpec";
import { ensureImageArchive } from "./imageArchive";
import { envFingerprint, remotePlan, RemotePlan } from "./remotePlan";

export interface RemoteDeploymentArgs {
  connection: pulumi.Input<SshConnection>;
  /** Plain, like `deploy`: the roles and timeouts shape resource options. */
  app: AppConfig;
  deploy: DeployConfig;
  /** The built image: repository:tag, and its unique digest (local image ID or registry digest). */
  imageName: pulumi.Input<string>;
  repoDigest: pulumi.Input<string>;
  /** Registry shipping (push and pull) when given, else copy (docker save + upload). Plain:
   *  it decides which resources exist. */
  registry?: RegistryLogin;
  /** Written to the server's env file (mode 0600) through stdin; never in a command line. */
  secretEnv: pulumi.Input<Record<string, string>>;
  /** The idempotent "install Docker if missing" snippet (components/server/dockerInstall.ts). */
  dockerInstallScript: pulumi.Input<string>;
  /** Where local `docker save` archives are cached for the upload (copy shipping). */
  archiveCacheDir: string;
}

type StepName = PlannedStep["name"];

export class RemoteDeployment extends pulumi.ComponentResource {
  /** Names this release's containers: <app>-<role>-<version>. */
  readonly version: pulumi.Output<string>;
  /** The containers this release runs, in boot order. */
  readonly containers: pulumi.Output<string[]>;
  /** What the release step printed: gates passed, containers started, images pruned. */
  readonly releaseLog: pulumi.Output<string>;

  constructor(name: string, args: RemoteDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:deploy:RemoteDeployment", name, {}, opts);

    const mode = args.registry ? "registry" : "copy";
    const connection = pulumi.secret(pulumi.output(args.connection));
    const envFile = pulumi.secret(pulumi.output(args.secretEnv).apply(renderEnvFile));
    // Keyed by the SSH key, the fingerprint reveals nothing about the env: it may be plain.
    const fingerprint = pulumi.unsecret(
      pulumi.all([envFile, connection]).apply(([env, c]) => envFingerprint(env, c.privateKey)),
    );
    const plan: pulumi.Output<RemotePlan> = pulumi
      .all([args.app, args.deploy, args.imageName, args.repoDigest, args.dockerInstallScript, fingerprint, args.registry?.server, args.registry?.username])
      .apply(([app, deploy, imageName, repoDigest, dockerInstallScript, envPrint, server, username]) =>
        remotePlan({
          app,
          deploy,
          imageName,
          repoDigest,
          dockerInstallScript,
          envFingerprint: envPrint,
          registry: mode === "registry" ? { server: server!, username: username! } : undefined,
        }),
      );
    const planned = <N extends StepName>(step: N) =>
      plan.apply((p) => {
        const found = p.steps.find((s) => s.name === step);
        if (!found) throw new Error(`the ${mode} deploy plan has no step ${step}`);
        return found as Extract<PlannedStep, { name: N }>;
      });
    const release = plan.apply((p) => p.release);

    const sshTimeout = `${args.deploy.sshTimeoutSeconds}s`;
    // Every role may use its whole health timeout, and the rollback needs time too.
    const releaseTimeout = `${(args.deploy.healthTimeoutSeconds + 60) * args.app.roles.length + 300}s`;

    let previous: pulumi.Resource | undefined;
    let probe: command.remote.Command | undefined;
    let releaseCommand: command.remote.Command | undefined;
    for (const stepName of planStepNames(mode)) {
      const dependsOn = previous ? [previous] : [];
      if (stepName === "upload") {
        // The archive is made only when the server lacks the image; cached and byte-identical
        // per image, so a repeated `pulumi up` sees the same asset and uploads nothing.
        const source = pulumi.all([probe!.stdout, args.imageName, args.repoDigest]).apply(([probed, image, imageId]) =>
          probed.trim() === "present"
            ? new pulumi.asset.StringAsset("the server already has this image\n")
            : new pulumi.asset.FileAsset(ensureImageArchive({ image, imageId, cacheDir: args.archiveCacheDir })),
        );
        previous = new command.remote.CopyToRemote(
          `${name}-upload`,
          { connection, source, remotePath: planned("upload").apply((u) => u.upload.remotePath), triggers: [args.repoDigest] },
          { parent: this, dependsOn },
        );
        continue;
      }
      const stdinSecret = STDIN_OF[stepName];
      const step: pulumi.Output<RemoteStep> = planned(stepName).apply((s) => {
        const remoteStep = "step" in s ? s.step : ({ create: "" } as RemoteStep);
        if (remoteStep.stdin !== stdinSecret) throw new Error(`step ${stepName} reads ${remoteStep.stdin ?? "nothing"} on stdin, not ${stdinSecret ?? "nothing"}`);
        return remoteStep;
      });
      const isWait = stepName === "wait";
      const timeout = isWait ? sshTimeout : stepName === "release" ? releaseTimeout : undefined;
      const resource = new command.remote.Command(
        `${name}-${stepName}`,
        {
          // The first step dials until the server answers: a new ECS instance takes minutes.
          connection: isWait ? connection.apply((c) => ({ ...c, dialErrorLimit: -1, perDialTimeout: 10 })) : connection,
          create: step.create,
          // On change, run create again rather than delete + create: the release keeps the
          // previous containers for rollback, and a replacement would delete them.
          update: step.create,
          delete: step.apply((s) => s.delete ?? ""),
          stdin: stdinSecret === "envFile" ? envFile : stdinSecret === "registryPassword" ? pulumi.secret(args.registry!.password) : undefined,
          triggers: triggersFor(stepName, args.repoDigest, release.apply((r) => r.version), envFile),
          // The provider would pass previous output through SSH env vars, which need AcceptEnv.
          addPreviousOutputInEnv: false,
          logging: "stdoutAndStderr",
        },
        { parent: this, dependsOn, customTimeouts: timeout ? { create: timeout, update: timeout } : undefined },
      );
      if (stepName === "probe") probe = resource;
      if (stepName === "release") releaseCommand = resource;
      previous = resource;
    }

    this.version = release.apply((r) => r.version);
    this.containers = release.apply((r) => r.roles.map((role) => containerName(r.app, role.role, r.version)));
    this.releaseLog = releaseCommand!.stdout;
    this.registerOutputs({ version: this.version, containers: this.containers, releaseLog: this.releaseLog });
  }
}

/** The steps that read a secret on stdin; the plan marks the same ones (checked above). */
const STDIN_OF: Partial<Record<StepName, RemoteStep["stdin"]>> = { env: "envFile", pull: "registryPassword" };

/** What makes a step run again: a new image, new run settings, or a new env file. */
function triggersFor(
  step: StepName,
  repoDigest: pulumi.Input<string>,
  version: pulumi.Output<string>,
  envFile: pulumi.Output<string>,
): pulumi.Input<unknown[]> | undefined {
  switch (step) {
    case "probe":
    case "load":
    case "pull":
      return [repoDigest];
    case "env":
      // Secret, so the triggers are stored encrypted.
      return [envFile];
    case "release":
      return [repoDigest, version];
    default:
      return undefined;
  }
}
