// The services' passwords: generated once by @pulumi/random and kept in the state as secrets
// (a new one only when the service is renamed). Letters and digits only: safe in a URL and in
// redis.conf without quoting.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ServiceConfig } from "../../config/schema";

export interface ServiceCredentialsArgs {
  /** Plain: which services need a password is known before anything runs. */
  services: ServiceConfig[];
}

export class ServiceCredentials extends pulumi.ComponentResource {
  /** Per PostgreSQL and Redis service, its password (secret). */
  readonly passwords: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ServiceCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:deploy:ServiceCredentials", name, {}, opts);
    const entries = args.services
      .filter((s) => s.kind !== "accessory")
      .map((s) => {
        const password = new random.RandomPassword(`${name}-${s.name}-password`, { length: 32, special: false, minUpper: 1, minLower: 1, minNumeric: 1 }, { parent: this });
        return pulumi.all([s.name, password.result]);
      });
    this.passwords = pulumi.secret(pulumi.all(entries).apply((pairs) => Object.fromEntries(pairs)));
    this.registerOutputs({ passwords: this.passwords });
  }
}
