// The managed services of the alicloud target: per managed postgres an RDS for PostgreSQL
// instance with its database, account and privilege; per managed redis a KVStore (Tair) instance.
// Each goes into the server's vSwitch and zone and lets in the server's private IP only.
// The values chosen and where they were read: managedServiceDefaults.ts.
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_PORTS, type PostgresServiceConfig, type RedisServiceConfig } from "../config/services";
import {
  POSTGRES_CHARACTER_SET,
  POSTGRES_PRIVILEGE,
  POSTGRES_STORAGE_TYPE,
  endpointOf,
  instanceClassOf,
  kvstoreRedisEngineVersion,
  managedNameProblems,
  passwordProblem,
  postgresUrl,
  rdsPostgresEngineVersion,
  redisUrl,
  type ManagedServiceConfig,
} from "./managedServiceDefaults";

export interface ManagedServicesArgs {
  /** Part of each instance's name: <appName>-<service>-<stack>. */
  appName: pulumi.Input<string>;
  /** The services with `managed: true` (plain config). */
  services: (PostgresServiceConfig | RedisServiceConfig)[];
  /** The server's network: the instances go into its vSwitch and zone. */
  vpcId: pulumi.Input<string>;
  vswitchId: pulumi.Input<string>;
  zoneId: pulumi.Input<string>;
  /** The servers' private IPs: the only addresses let in. */
  privateIps: pulumi.Input<string>[];
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Per service name: the account (RDS) or instance (KVStore) password. Kept secret. */
  passwords: Record<string, pulumi.Input<string>>;
  /** `pulumi destroy` (or dropping the service) leaves the instances and their data in the account (deploy.removeVolumesOnDestroy unset). */
  keepDataOnDestroy?: boolean;
}

/** One managed service's address and its URL (with the password). */
interface Created {
  endpoint: pulumi.Output<string>;
  url: pulumi.Output<string>;
}

export class ManagedServices extends pulumi.ComponentResource {
  /** Secret: per service name, the URL the app gets (postgres://… or redis://…, with the password). */
  readonly urls: pulumi.Output<Record<string, string>>;
  /** Per service name, host:port (no credentials). */
  readonly endpoints: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ManagedServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    // Refused before anything is registered: what the provider or the API would refuse mid-deployment.
    const problems: string[] = [];
    for (const s of args.services) {
      if (!s.managed) problems.push(`services.${s.name}: is not managed; it runs in a container`);
      if (args.passwords[s.name] === undefined) problems.push(`services.${s.name}: no password was given for it`);
      problems.push(...managedNameProblems(s));
      try {
        if (s.kind === "postgres") rdsPostgresEngineVersion(s.version);
        else kvstoreRedisEngineVersion(s.version);
      } catch (e) {
        problems.push(`services.${s.name}.version: ${(e as Error).message}`);
      }
    }
    if (problems.length) throw new Error(`ManagedServices ${name}:\n  ${problems.join("\n  ")}`);
    super("pydeploy:server:ManagedServices", name, {}, opts);

    const created = new Map<string, Created>();
    for (const s of args.services) {
      created.set(s.name, s.kind === "postgres" ? this.createPostgres(name, s, args) : this.createRedis(name, s, args));
    }
    const collect = (pick: (c: Created) => pulumi.Output<string>) =>
      pulumi.all(Object.fromEntries([...created].map(([service, c]) => [service, pick(c)]))) as pulumi.Output<Record<string, string>>;
    this.urls = pulumi.secret(collect((c) => c.url));
    this.endpoints = collect((c) => c.endpoint);

    this.registerOutputs({ urls: this.urls, endpoints: this.endpoints });
  }

  /** The password, checked against the rules RDS and KVStore share, and kept secret. */
  private password(service: ManagedServiceConfig, args: ManagedServicesArgs): pulumi.Output<string> {
    return pulumi.secret(
      pulumi.output(args.passwords[service.name]).apply((password) => {
        const problem = passwordProblem(password);
        if (problem) throw new pulumi.RunError(`the password of services.${service.name} ${problem}`);
        return password;
      }),
    );
  }

  private physicalName(service: ManagedServiceConfig, args: ManagedServicesArgs): pulumi.Output<string> {
    return pulumi.interpolate`${args.appName}-${service.name}-${pulumi.getStack()}`;
  }

  /** RDS for PostgreSQL: instance, database, a Normal account, and that account as the database's owner. */
  private createPostgres(name: string, s: PostgresServiceConfig, args: ManagedServicesArgs): Created {
    const parent = { parent: this };
    const prefix = `${name}-${s.name}`;
    const password = this.password(s, args);
    const keep = { retainOnDelete: args.keepDataOnDestroy === true };
    const instance = new alicloud.rds.Instance(
      `${prefix}-rds`,
      {
        instanceName: this.physicalName(s, args),
        engine: "PostgreSQL",
        engineVersion: rdsPostgresEngineVersion(s.version),
        instanceType: instanceClassOf(s),
        instanceStorage: s.storageGb,
        dbInstanceStorageType: POSTGRES_STORAGE_TYPE,
        instanceChargeType: "Postpaid",
        vpcId: args.vpcId,
        vswitchId: args.vswitchId,
        zoneId: args.zoneId,
        securityIps: args.privateIps,
        deletionProtection: false,
        tags: args.tags,
      },
      { ...parent, ...keep },
    );
    const database = new alicloud.rds.Database(
      `${prefix}-database`,
      { instanceId: instance.id, dataBaseName: s.database, characterSet: POSTGRES_CHARACTER_SET },
      parent,
    );
    const account = new alicloud.rds.RdsAccount(
      `${prefix}-account`,
      { dbInstanceId: instance.id, accountName: s.user, accountPassword: password, accountType: "Normal" },
      parent,
    );
    const privilege = new alicloud.rds.AccountPrivilege(
      `${prefix}-privilege`,
      { instanceId: instance.id, accountName: account.accountName, dbNames: [database.dataBaseName], privilege: POSTGRES_PRIVILEGE },
      { ...parent, dependsOn: [account, database] },
    );
    // The URL is usable once the account owns the database: it waits for the privilege.
    const ready = pulumi.all([instance.connectionString, instance.port, privilege.id]);
    return {
      endpoint: ready.apply(([host, port]) => endpointOf({ host, port })),
      url: pulumi
        .all([ready, password])
        .apply(([[host, port], pw]) => postgresUrl({ host, port, user: s.user, password: pw, database: s.database })),
    };
  }

  /** KVStore (Tair) for Redis: one instance; its default account takes the password. */
  private createRedis(name: string, s: RedisServiceConfig, args: ManagedServicesArgs): Created {
    const password = this.password(s, args);
    const instance = new alicloud.kvstore.Instance(
      `${name}-${s.name}-kvstore`,
      {
        dbInstanceName: this.physicalName(s, args),
        instanceType: "Redis",
        engineVersion: kvstoreRedisEngineVersion(s.version),
        instanceClass: instanceClassOf(s),
        paymentType: "PostPaid",
        vswitchId: args.vswitchId,
        zoneId: args.zoneId,
        securityIps: args.privateIps,
        // Open: clients must authenticate, also inside the VPC.
        vpcAuthMode: "Open",
        password,
        instanceReleaseProtection: false,
        tags: args.tags,
      },
      { parent: this, retainOnDelete: args.keepDataOnDestroy === true },
    );
    // The provider reads the VPC port into privateConnectionPort (`port` is a deprecated input it
    // never reads back); KVStore listens on 6379 unless told otherwise.
    const address = pulumi
      .all([instance.connectionDomain, instance.privateConnectionPort])
      .apply(([host, port]) => ({ host, port: port || SERVICE_PORTS.redis }));
    return {
      endpoint: address.apply(endpointOf),
      url: pulumi.all([address, password]).apply(([a, pw]) => redisUrl({ ...a, password: pw })),
    };
  }
}
