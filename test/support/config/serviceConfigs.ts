// Resolved managed service configs (what components/config/services.ts gives), for the tests of
// the managed services: one field overridden at a time.
import type { PostgresServiceConfig, RedisServiceConfig } from "../../../components/config/services";

export const managedPostgres = (over: Partial<PostgresServiceConfig> = {}): PostgresServiceConfig => ({
  kind: "postgres",
  name: "db",
  image: "postgres:16",
  volumes: [],
  urlEnv: ["DATABASE_URL"],
  version: 16,
  database: "shop",
  user: "shop",
  snapshots: { keep: 5 },
  managed: true,
  storageGb: 20,
  ...over,
});

export const managedRedis = (over: Partial<RedisServiceConfig> = {}): RedisServiceConfig => ({
  kind: "redis",
  name: "cache",
  image: "redis:7",
  volumes: [],
  urlEnv: ["REDIS_URL", "CELERY_BROKER_URL"],
  version: 7,
  managed: true,
  ...over,
});
