// The release step on one server: the env file, the version it gives there, then the release.
import { renderEnvFile } from "../containerSpec";
import { writePrivateFile } from "../dockerCommands";
import { envFileOf, releaseCommandFileOf, releaseCommandKey, type ReleaseResult, type ReleaseSpec, releaseVersion, roleVersions, type StepSecrets } from "../spec";
import { appSalt, ensureAppFolder } from "./appFolder";
import { deployRelease, type ReleaseOptions } from "./release";
import type { DockerHost } from "./transport";

/** What names a release on one host: its version and its roles' versions. */
export interface VersionOnHost {
  version: string;
  roleVersions: Record<string, string>;
}

/** The versions this release has on `host`: its settings, env and the host's salt. */
export async function versionOn(host: DockerHost, spec: ReleaseSpec, secrets: StepSecrets): Promise<VersionOnHost> {
  await ensureAppFolder(host, spec.appDir);
  return versionsOf(spec, renderEnvFile(secrets.env ?? {}), await appSalt(host, spec.appDir));
}

function versionsOf(spec: ReleaseSpec, envFile: string, salt: string): VersionOnHost {
  return { version: releaseVersion(spec.settings, envFile, salt), roleVersions: roleVersions(spec.settings, envFile, salt) };
}

/** What a release of `spec` on its target is gated, switched and rolled back with. */
export function releaseOptions(spec: ReleaseSpec, log: (line: string) => void): ReleaseOptions {
  return {
    healthTimeoutSeconds: spec.healthTimeoutSeconds,
    runningGateSeconds: spec.runningGateSeconds,
    keepImages: spec.keepImages,
    log,
    volumes: spec.volumes,
    services: spec.services,
    proxy: spec.proxy && { spec: spec.proxy, appDir: spec.appDir, serverAddress: spec.target.kind === "ssh" ? spec.target.host : undefined },
  };
}

export async function releaseOn(host: DockerHost, spec: ReleaseSpec, secrets: StepSecrets, log: (line: string) => void): Promise<ReleaseResult> {
  await ensureAppFolder(host, spec.appDir);
  const envFile = renderEnvFile(secrets.env ?? {});
  const salt = await appSalt(host, spec.appDir);
  // Read by `docker run --env-file`: the containers keep their env when it changes later.
  await host.run(writePrivateFile(envFileOf(spec.appDir)), { stdin: envFile });
  const releaseCommand = spec.releaseCommand;
  return deployRelease(host, { ...spec.settings, ...versionsOf(spec, envFile, salt) }, {
    ...releaseOptions(spec, log),
    releaseCommand: releaseCommand && {
      ...releaseCommand,
      key: releaseCommandKey(spec.settings.imageIdentity, releaseCommand.command, envFile, salt),
      markerFile: releaseCommandFileOf(spec.appDir),
    },
  });
}
