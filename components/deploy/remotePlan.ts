// From the validated config and the built image to the remote deployment plan: the release
// spec and the steps. Pure; the RemoteDeployment component and the end-to-end tests both
// build their plans here, so they run the same strings.
import { createHash, createHmac } from "node:crypto";
import type { AppConfig, DeployConfig } from "../config/schema";
import { appLayout, deployPlan, DeployPlanInput, PlannedStep } from "./commands";
import type { ReleaseSpec } from "./containerSpec";
import { roleSpecs } from "./roles";

export interface RemotePlanInput {
  app: AppConfig;
  deploy: DeployConfig;
  /** As built: repository:tag. */
  imageName: string;
  /** docker.Image's repoDigest: the local image ID (sha256:...) or, pushed, repository@sha256:... */
  repoDigest: string;
  /** Present in registry mode: the server pulls `repoDigest` from here. */
  registry?: { server: string; username: string };
  dockerInstallScript: string;
  /** envFingerprint() of the env file: a new version when only secret env values change. */
  envFingerprint: string;
}

export interface RemotePlan {
  release: ReleaseSpec;
  steps: PlannedStep[];
}

export function remotePlan(i: RemotePlanInput): RemotePlan {
  const layout = appLayout(i.app.name, i.deploy.remoteDir);
  const imageId = digestOf(i.repoDigest);
  const image = serverTag(i.imageName, imageId);
  const settings = {
    app: i.app.name,
    image,
    imageId,
    roles: roleSpecs(i.app),
    envFile: layout.envFile,
    logMaxSize: i.deploy.logMaxSize,
    logMaxFiles: i.deploy.logMaxFiles,
    healthTimeoutSeconds: i.deploy.healthTimeoutSeconds,
    keepImages: i.deploy.keepImages,
  };
  // Any change to the image, a run setting or the env gives new container names, so the
  // running containers stay as they are until the new ones pass their gates.
  const version = createHash("sha256").update(JSON.stringify(settings)).update(i.envFingerprint).digest("hex").slice(0, 12);
  const release: ReleaseSpec = { ...settings, version };
  const ship: DeployPlanInput["ship"] = i.registry
    ? { mode: "registry", registryServer: i.registry.server, username: i.registry.username, imageRef: i.repoDigest, image }
    : { mode: "copy", imageId, image };
  return { release, steps: deployPlan({ layout, dockerInstallScript: i.dockerInstallScript, ship, release }) };
}

/**
 * A keyed hash of the env file: it changes when a secret changes, but, unlike a plain hash,
 * cannot be used to guess a weak secret by whoever reads the (plain) container names. The
 * key is a secret the deployment already holds, such as the SSH private key.
 */
export function envFingerprint(envFile: string, key: string): string {
  return createHmac("sha256", key).update(envFile).digest("hex").slice(0, 16);
}

/** "sha256:<hex>" from a local image ID or a repository@sha256 digest. */
export function digestOf(repoDigest: string): string {
  const match = /(sha256:[0-9a-f]{64})$/.exec(repoDigest);
  if (!match) throw new Error(`image digest ${JSON.stringify(repoDigest)} is neither sha256:<hex> nor repository@sha256:<hex>`);
  return match[1];
}

/** The tag the image gets on the server: the built repository and the first 12 hex digits of its digest. */
export function serverTag(imageName: string, imageId: string): string {
  const repository = imageName.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
  return `${repository}:${imageId.slice("sha256:".length, "sha256:".length + 12)}`;
}
