// The `local` target: the same containers on this machine's Docker engine, via docker.Container.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig, DeployConfig } from "../config/schema";
import { localContainerSettings } from "./localContainer";
import { roleSpecs } from "./roles";

export interface LocalDeploymentArgs {
  /** Plain: the roles decide how many containers exist. */
  app: AppConfig;
  deploy: pulumi.Input<DeployConfig>;
  /** The image to run: its unique digest, so a new build replaces the containers. */
  repoDigest: pulumi.Input<string>;
  secretEnv: pulumi.Input<Record<string, string>>;
}

export class LocalDeployment extends pulumi.ComponentResource {
  readonly containers: pulumi.Output<string[]>;
  readonly urls: pulumi.Output<string[]>;

  constructor(name: string, args: LocalDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:deploy:LocalDeployment", name, {}, opts);

    const envs = pulumi.secret(pulumi.output(args.secretEnv).apply((env) => Object.entries(env).map(([k, v]) => `${k}=${v}`)));
    const deploy = pulumi.output(args.deploy);
    const containers: docker.Container[] = [];
    let previous: docker.Container | undefined;
    for (const role of roleSpecs(args.app)) {
      const settings = deploy.apply((d) =>
        localContainerSettings(
          { app: args.app.name, logMaxSize: d.logMaxSize, logMaxFiles: d.logMaxFiles, healthTimeoutSeconds: d.healthTimeoutSeconds },
          role,
        ),
      );
      const container = new docker.Container(
        `${name}-${role.role}`,
        {
          image: args.repoDigest,
          envs,
          name: settings.name,
          command: settings.command,
          ports: settings.ports,
          restart: settings.restart,
          init: settings.init,
          labels: settings.labels,
          logDriver: settings.logDriver,
          logOpts: settings.logOpts,
          healthcheck: settings.healthcheck,
          wait: settings.wait,
          waitTimeout: settings.waitTimeout,
          mustRun: settings.mustRun,
        },
        // A fixed name and host port cannot exist twice: remove the old container first.
        // Serving roles boot first; the others wait for their gate (Kamal's order).
        { parent: this, deleteBeforeReplace: true, dependsOn: previous ? [previous] : [] },
      );
      containers.push(container);
      previous = container;
    }

    this.containers = pulumi.all(containers.map((c) => c.name));
    this.urls = pulumi.output(
      args.app.roles.flatMap((r) => (r.publish === undefined ? [] : [`http://localhost:${r.publish}/`])),
    );
    this.registerOutputs({ containers: this.containers, urls: this.urls });
  }
}
