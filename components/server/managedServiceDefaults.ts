// What a managed service (`services.<name>.managed: true` on the alicloud target) is created
// with, what is refused before anything is created, and the URLs the app gets. Pure: no Pulumi.
//
// Where each value was read (@pulumi/alicloud 3.108, terraform-provider-alicloud at 1.289):
// - RDS engineVersion "<major>.0": rds/instance.d.ts lists PostgreSQL "10.0"…"15.0"; the
//   provider does not validate it, and its acceptance tests create PostgreSQL "16.0"…"18.0"
//   (alicloud/resource_alicloud_db_instance_test.go, resource_alicloud_db_backup_policy_test.go).
// - pg.n2.2c.1m: RDS PostgreSQL Basic Edition, general-purpose, 2 cores 4 GB, ESSD PL1 20 GB to
//   64,000 GB (Alibaba's "Primary instance types" page, help.aliyun.com document_detail/276990).
//   The edition (category) follows from the class, so it is not set.
// - KVStore engineVersion: kvstore/instance.d.ts, ["2.8", "4.0", "5.0", "6.0", "7.0"].
// - redis.shard.small.2.ce: Redis Open-Source Edition, cloud-native, standard architecture, 1 GB
//   (Alibaba's "Instance types for Redis Open-Source Edition cloud native instances"); the class
//   the provider's 7.0 acceptance tests and Alibaba's templates use with 7.0.
// - Names and passwords: rds/database.d.ts and the provider's data_base_name ValidateFunc,
//   rds/rdsAccount.d.ts (accountName, accountPassword), kvstore/instance.d.ts (password).
import type { PostgresServiceConfig, RedisServiceConfig } from "../config/services";

export type ManagedServiceConfig = PostgresServiceConfig | RedisServiceConfig;

export const DEFAULT_POSTGRES_INSTANCE_CLASS = "pg.n2.2c.1m";
export const DEFAULT_REDIS_INSTANCE_CLASS = "redis.shard.small.2.ce";
/** ESSD PL1: what pg.n2.2c.1m takes from 20 GB, the smallest storageGb the config allows. */
export const POSTGRES_STORAGE_TYPE = "cloud_essd";
/** RDS for PostgreSQL takes a major version and an encoding; collation C and ctype en_US.utf8 are its defaults. */
export const POSTGRES_CHARACTER_SET = "UTF8";
/** The privilege that makes a Normal account the owner of a PostgreSQL database (rds/accountPrivilege.d.ts). */
export const POSTGRES_PRIVILEGE = "DBOwner";

/** The PostgreSQL majors RDS creates (see the header). */
export const RDS_POSTGRES_MAJORS: readonly number[] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
/** The Redis majors KVStore creates at 5 and above (the config's minimum). */
export const KVSTORE_REDIS_MAJORS: readonly number[] = [5, 6, 7];

/** RDS's EngineVersion for a PostgreSQL major, e.g. 16 -> "16.0". */
export function rdsPostgresEngineVersion(major: number): string {
  if (!RDS_POSTGRES_MAJORS.includes(major)) {
    throw new Error(`RDS for PostgreSQL offers versions ${RDS_POSTGRES_MAJORS.join(", ")}, not ${major}`);
  }
  return `${major}.0`;
}

/** KVStore's EngineVersion for a Redis major, e.g. 7 -> "7.0". */
export function kvstoreRedisEngineVersion(major: number): string {
  if (!KVSTORE_REDIS_MAJORS.includes(major)) {
    throw new Error(`KVStore (Tair) offers Redis ${KVSTORE_REDIS_MAJORS.join(", ")}, not ${major}`);
  }
  return `${major}.0`;
}

export function instanceClassOf(service: ManagedServiceConfig): string {
  return service.instanceClass ?? (service.kind === "postgres" ? DEFAULT_POSTGRES_INSTANCE_CLASS : DEFAULT_REDIS_INSTANCE_CLASS);
}

/**
 * What RDS would refuse in a managed postgres's names, which the config's own rules allow:
 * `services.<name>.<field>: <problem>` lines, empty when none.
 */
export function managedNameProblems(service: ManagedServiceConfig): string[] {
  if (service.kind !== "postgres") return [];
  const problems: string[] = [];
  const key = `services.${service.name}`;
  // The provider's data_base_name ValidateFunc: ^[a-z][a-z0-9_-]*[a-z0-9]$, 2 to 64 characters.
  if (!/^[a-z][a-z0-9_-]{0,62}[a-z0-9]$/.test(service.database)) {
    problems.push(`${key}.database: RDS takes a database name of 2 to 64 characters that starts with a letter and ends with a letter or digit, not ${service.database}`);
  }
  // rdsAccount.d.ts: starts with a letter, ends with a letter or digit; 2 to 63 characters on cloud disks.
  if (!/^[a-z][a-z0-9_]{0,61}[a-z0-9]$/.test(service.user)) {
    problems.push(`${key}.user: RDS takes an account name of 2 to 63 characters that starts with a letter and ends with a letter or digit, not ${service.user}`);
  }
  return problems;
}

/** The special characters RDS account and KVStore passwords may contain. */
export const PASSWORD_SPECIALS = "!@#$%^&*()_+-=";

/**
 * Why RDS or KVStore would refuse this password, or undefined. Never includes the password:
 * 8 to 32 characters, only letters, digits and PASSWORD_SPECIALS, at least three of the four kinds.
 */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 8 || password.length > 32) return `is ${password.length} characters long; RDS and KVStore take 8 to 32`;
  const allowed = new RegExp(`^[A-Za-z0-9${PASSWORD_SPECIALS.replace(/[\\^\-\]]/g, "\\$&")}]*$`);
  if (!allowed.test(password)) return `has a character other than letters, digits and ${PASSWORD_SPECIALS}`;
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((kind) => kind.test(password)).length;
  if (kinds < 3) return "needs at least three of: lowercase letters, uppercase letters, digits, special characters";
  return undefined;
}

/** A URL userinfo part: percent-encodes everything but unreserved characters (RFC 3986), ! ' ( ) * included. */
export function encodeUserinfo(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface Endpoint {
  host: string;
  port: string | number;
}

/** "host:port": what a managed service is reached at, with no credentials. */
export function endpointOf({ host, port }: Endpoint): string {
  if (!host) throw new Error("the instance reported no connection address");
  if (port === "" || port === undefined) throw new Error(`the instance at ${host} reported no port`);
  return `${host}:${port}`;
}

/** DATABASE_URL: postgres://<user>:<password>@<host>:<port>/<database>. */
export function postgresUrl(e: Endpoint & { user: string; password: string; database: string }): string {
  return `postgres://${encodeUserinfo(e.user)}:${encodeUserinfo(e.password)}@${endpointOf(e)}/${encodeURIComponent(e.database)}`;
}

/** REDIS_URL: redis://:<password>@<host>:<port>/0 (KVStore's default account takes the password alone). */
export function redisUrl(e: Endpoint & { password: string }): string {
  return `redis://:${encodeUserinfo(e.password)}@${endpointOf(e)}/0`;
}
