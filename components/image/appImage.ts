// Writes the generated build files into the project and builds the image with docker.Image.
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig } from "../config/schema";
import { dockerBuildNetwork, dockerfilePath, renderBuildFiles, writeBuildFiles } from "./buildFiles";
import { checkDockerDaemon, DockerDaemonError } from "./dockerDaemon";
import { PROXY_BUILD_DIR, proxyBuildFile } from "./proxyBuildFiles";

export interface RegistryLogin {
  server: pulumi.Input<string>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
}

/**
 * Stops the program, before it registers anything, when the docker provider's daemon does not
 * answer: the provider pings it at every preview, up and destroy, and fails less clearly.
 * Returns the `docker:host` config (undefined when unset), which the deploy steps use too.
 */
export function requireDockerDaemon(): string | undefined {
  const configuredHost = new pulumi.Config("docker").get("host");
  try {
    checkDockerDaemon({ configuredHost });
  } catch (err) {
    // RunError prints the message without a stack trace: the message is the whole story.
    if (err instanceof DockerDaemonError) throw new pulumi.RunError(err.message);
    throw err;
  }
  return configuredHost;
}

export interface AppImageArgs {
  /** The validated app config: which files to generate and where the project is. */
  app: pulumi.Input<AppConfig>;
  /** Repository without tag, e.g. "pydeploy/demo" or "registry.cn-hangzhou.aliyuncs.com/ns/demo". */
  repository: pulumi.Input<string>;
  tag: pulumi.Input<string>;
  /** Push to this registry; without one the image stays in the local engine. */
  registry?: RegistryLogin;
  /** e.g. linux/amd64, what ECS instances run; absent: this machine's own platform (the local target). */
  platform?: pulumi.Input<string>;
  /** Also build the reverse proxy's image (<repository>-proxy), when roles are served through it. Plain. */
  withProxy?: boolean;
}

export class AppImage extends pulumi.ComponentResource {
  /** repository:tag. Not unique per build: deploy by `repoDigest`. */
  readonly imageName: pulumi.Output<string>;
  /** Unique per build: the registry digest (repo@sha256:...) when pushed, else the local image ID (sha256:...). */
  readonly repoDigest: pulumi.Output<string>;
  /** Absolute paths of the generated Dockerfile, .dockerignore and entrypoint. */
  readonly generatedFiles: pulumi.Output<string[]>;
  /** The reverse proxy's image, when `withProxy`. */
  readonly proxy?: { imageName: pulumi.Output<string>; repoDigest: pulumi.Output<string> };

  constructor(name: string, args: AppImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:image:AppImage", name, {}, opts);

    const app = pulumi.output(args.app);
    // Written before the build reads them; rendering is deterministic, so a no-op update rewrites nothing.
    this.generatedFiles = app.apply((a) => writeBuildFiles(a.path, renderBuildFiles(a)));

    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: pulumi.interpolate`${args.repository}:${args.tag}`,
        build: {
          context: app.path,
          dockerfile: pulumi.all([app, this.generatedFiles]).apply(([a]) => dockerfilePath(a)),
          platform: args.platform,
          network: app.apply(dockerBuildNetwork),
        },
        skipPush: args.registry === undefined,
        registry: args.registry,
      },
      { parent: this },
    );

    this.imageName = image.imageName;
    this.repoDigest = image.repoDigest;
    if (args.withProxy) {
      const files = app.apply((a) => writeBuildFiles(a.path, [proxyBuildFile(a)]));
      const proxy = new docker.Image(
        `${name}-proxy-image`,
        {
          imageName: pulumi.interpolate`${args.repository}-proxy:${args.tag}`,
          build: {
            context: app.apply((a) => path.join(a.path, PROXY_BUILD_DIR)),
            dockerfile: pulumi.all([app, files]).apply(([a]) => path.join(a.path, PROXY_BUILD_DIR, "Dockerfile")),
            platform: args.platform,
          },
          skipPush: args.registry === undefined,
          registry: args.registry,
        },
        { parent: this },
      );
      this.proxy = { imageName: proxy.imageName, repoDigest: proxy.repoDigest };
    }
    this.registerOutputs({ imageName: this.imageName, repoDigest: this.repoDigest, generatedFiles: this.generatedFiles, proxyImage: this.proxy?.imageName });
  }
}
