// The `services` section (components/config/services.ts): its defaults, and every bad input
// refused with the key and what was expected, before anything is created.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseStackConfig, type StackConfig } from "../../components/config/schema";
import { REPO_ROOT } from "../support/docker/localEngine";

type Values = Record<string, unknown>;
const app = (extra: Values = {}) => ({
  name: "shop",
  path: "example",
  roles: { web: { command: ["gunicorn", "shop.wsgi"], port: 8000, publish: 8080 }, worker: { command: ["celery", "-A", "shop", "worker"] } },
  ...extra,
});
const parse = (values: Values, target = "local") => parseStackConfig({ stack: "dev", values: { target, ...(target === "alicloud" ? { server: { sshAllowedCidrs: ["203.0.113.0/24"] } } : {}), ...(target === "existing" ? { host: { address: "203.0.113.5" }, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n" } : {}), ...values }, providerConfig: { "alicloud:region": "cn-hangzhou" }, baseDir: REPO_ROOT });
function accepted(values: Values, target?: string): StackConfig {
  try {
    return parse(values, target);
  } catch (err) {
    assert.fail(`expected the config to be accepted, got:\n${err instanceof ConfigError ? err.problems.join("\n") : err}`);
  }
}
function problems(values: Values, target?: string): string[] {
  try {
    parse(values, target);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail("expected the config to be refused");
}

describe("services: defaults", () => {
  it("postgres and redis: the official images of their version, the app's name for database and user, the URL variables, a data volume, 5 snapshots", () => {
    const { services } = accepted({ app: app(), services: { db: { kind: "postgres", version: 16 }, cache: { kind: "redis", version: 7 } } });
    assert.deepEqual(services, [
      { kind: "postgres", name: "db", version: 16, image: "postgres:16", database: "shop", user: "shop", urlEnv: ["DATABASE_URL"], volumes: [{ name: "data", path: "/var/lib/postgresql/data" }], snapshots: { keep: 5 }, storageGb: 20, managed: false },
      { kind: "redis", name: "cache", version: 7, image: "redis:7", urlEnv: ["REDIS_URL", "CELERY_BROKER_URL"], volumes: [{ name: "data", path: "/data" }], managed: false },
    ], "the resolved services");
  });

  it("a dashed app name gives an SQL name with underscores; an accessory gets no URL", () => {
    const { services } = accepted({ app: app({ name: "my-shop" }), services: { db: { kind: "postgres", version: 15 }, search: { kind: "accessory", image: "getmeili/meilisearch:v1.8", port: 7700 } } });
    assert.deepEqual([services[0].kind === "postgres" && services[0].database, services[1].urlEnv], ["my_shop", []], "my_shop, and no urlEnv");
  });

  it("no services section: none", () => {
    assert.deepEqual(accepted({ app: app() }).services, [], "an empty list");
  });
});

describe("services: bad input", () => {
  const cases: [string, Values, string | undefined, RegExp][] = [
    ["a service named like a role", { services: { worker: { kind: "redis", version: 7 } } }, undefined, /^pydeploy:services\.worker: is also the name of a role \(app\.roles\.worker\); .*rename one$/],
    ["a loopback port a role publishes", { services: { db: { kind: "postgres", version: 16, loopbackPort: 8080 } } }, undefined, /^pydeploy:services\.db\.loopbackPort: host port 8080 is already published by role web; pick another$/],
    ["two services on one loopback port", { services: { db: { kind: "postgres", version: 16, loopbackPort: 5432 }, cache: { kind: "redis", version: 7, loopbackPort: 5432 } } }, undefined, /^pydeploy:services\.cache\.loopbackPort: host port 5432 is already published by service db; pick another$/],
    ["a volume path under the app's workdir", { services: { db: { kind: "postgres", version: 16, volumes: { data: "/app/pgdata" } } } }, undefined, /^pydeploy:services\.db\.volumes\.data: \/app\/pgdata is under app\.workdir \(\/app\), .* \/var\/lib\/postgresql\/data\)$/],
    ["a service volume that is an app volume's Docker volume", { app: app({ volumes: { "db-data": { path: "/srv/data" } } }), services: { db: { kind: "postgres", version: 16 } } }, undefined, /^pydeploy:services\.db\.volumes\.data: would be the same Docker volume as app\.volumes\.db-data; rename one$/],
    ["a managed service on the local target", { services: { db: { kind: "postgres", version: 16, managed: true } } }, "local", /^pydeploy:services\.db\.managed: a managed RDS instance is created on the alicloud target only \(this stack's target is local\)/],
    ["a managed service on an existing server", { services: { cache: { kind: "redis", version: 7, managed: true } } }, "existing", /^pydeploy:services\.cache\.managed: a managed KVStore instance is created on the alicloud target only \(this stack's target is existing\)/],
    ["an instance class without managed", { services: { db: { kind: "postgres", version: 16, instanceClass: "pg.n2.2c.1m" } } }, "alicloud", /^pydeploy:services\.db\.instanceClass: applies to a managed instance only: set managed: true too$/],
    ["a URL variable the app sets itself", { app: app({ env: { DATABASE_URL: "sqlite:///x" } }), services: { db: { kind: "postgres", version: 16 } } }, undefined, /^pydeploy:services\.db\.urlEnv: DATABASE_URL is also set in app\.env; the service sets it \(rename it with urlEnv\)$/],
    ["two services setting one variable", { services: { a: { kind: "redis", version: 7 }, b: { kind: "redis", version: 7 } } }, undefined, /^pydeploy:services\.b\.urlEnv: REDIS_URL is already set by service a$/],
    ["an accessory sharing a secret that is not set", { services: { search: { kind: "accessory", image: "getmeili/meilisearch:v1.8", secretEnv: ["MEILI_MASTER_KEY"] } } }, undefined, /^pydeploy:services\.search\.secretEnv: MEILI_MASTER_KEY is not set in secretEnv/],
    ["an unknown kind", { services: { db: { kind: "mysql" } } }, undefined, /^pydeploy:services\.db\.kind: expected kind: postgres, redis or accessory/],
    ["a postgres without its version", { services: { db: { kind: "postgres" } } }, undefined, /^pydeploy:services\.db\.version: expected a PostgreSQL major version such as 16 \(missing\)$/],
    ["a service name that is not a slug", { services: { DB: { kind: "redis", version: 7 } } }, undefined, /^pydeploy:services\.DB: expected a service name: lowercase letters, digits and inner dashes, got "DB"$/],
    ["an accessory's loopback port without its port", { services: { search: { kind: "accessory", image: "getmeili/meilisearch:v1.8", loopbackPort: 7700 } } }, undefined, /^pydeploy:services\.search\.loopbackPort: expected `port` too/],
    ["a managed service with a loopback port", { services: { db: { kind: "postgres", version: 16, managed: true, loopbackPort: 5432 } } }, "alicloud", /^pydeploy:services\.db\.loopbackPort: a managed instance runs on no server of this stack/],
  ];
  for (const [what, values, target, expected] of cases) {
    it(`${what}: refused, naming the key`, () => {
      const found = problems({ app: app(), ...values }, target);
      assert.ok(found.some((p) => expected.test(p)), `expected a problem matching ${expected}, got:\n${found.join("\n")}`);
    });
  }

  it("an accessory with its shared secret set, and a managed database on alicloud: accepted", () => {
    const ok = accepted({ app: app(), secretEnv: { MEILI_MASTER_KEY: "k" }, services: { search: { kind: "accessory", image: "getmeili/meilisearch:v1.8", port: 7700, secretEnv: ["MEILI_MASTER_KEY"] }, db: { kind: "postgres", version: 16, managed: true } } }, "alicloud");
    assert.deepEqual(ok.services.map((s) => [s.name, s.managed]), [["search", false], ["db", true]], "both");
  });
});
