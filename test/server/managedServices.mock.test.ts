// ManagedServices under Pulumi's mocks: what RDS and KVStore resources one `up` registers, the
// network they are let into, and where the passwords go (secret inputs and the secret URLs only).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  captureUnhandledRejections,
  drainRegistrations,
  installMocks,
  isWireSecret,
  MOCK_PRIVATE_IP,
  MOCK_ZONE,
  recordArgs,
  recordChildren,
  recordRegistrations,
  reveal,
  valueOf,
  type RecordedResource,
} from "../support/mocks/mocks";
import { managedPostgres, managedRedis } from "../support/config/serviceConfigs";
import { encodeUserinfo } from "../../components/server/managedServiceDefaults";
import type { ManagedServices, ManagedServicesArgs } from "../../components/server/managedServices";

const T = {
  rds: "alicloud:rds/instance:Instance",
  database: "alicloud:rds/database:Database",
  account: "alicloud:rds/rdsAccount:RdsAccount",
  privilege: "alicloud:rds/accountPrivilege:AccountPrivilege",
  kvstore: "alicloud:kvstore/instance:Instance",
};

/** What the provider reads back after a create; resources named *-noport-* report no KVStore port. */
const rdsHost = (resourceName: string) => `pgm-${resourceName}.pg.rds.aliyuncs.com`;
const kvHost = (resourceName: string) => `r-${resourceName}.redis.rds.aliyuncs.com`;
const mocks = installMocks({
  stack: "dev",
  outputs: (r) => {
    if (r.type === T.rds) return { connectionString: rdsHost(r.name), port: "5432" };
    if (r.type === T.kvstore) return { connectionDomain: kvHost(r.name), privateConnectionPort: r.name.includes("-noport-") ? "" : "6380" };
    return undefined;
  },
});
const registrations = recordRegistrations();

let Managed: typeof ManagedServices;
before(async () => {
  ({ ManagedServices: Managed } = await import("../../components/server/managedServices"));
});

// Passwords RDS and KVStore accept, with characters a URL must escape.
const DB_PASSWORD = "Db#Pass%word+1=";
const CACHE_PASSWORD = "Cache@Pass=word2!";
const NETWORK = { vpcId: "vpc-server", vswitchId: "vsw-server", zoneId: MOCK_ZONE } as const;
const TAGS = { app: "shop", env: "dev" };

const postgres = managedPostgres;
const redis = managedRedis;

function args(over: Partial<ManagedServicesArgs> = {}): ManagedServicesArgs {
  return {
    appName: "shop",
    services: [postgres(), redis()],
    ...NETWORK,
    // As the server gives it: an output.
    privateIps: [pulumi.output(MOCK_PRIVATE_IP)],
    tags: TAGS,
    // As the lead gives them: RandomPassword results, secret.
    passwords: { db: pulumi.secret(DB_PASSWORD), cache: pulumi.secret(CACHE_PASSWORD) },
    ...over,
  };
}

let counter = 0;
/** Creates the component under a fresh name and waits for everything it registers. */
async function create(over: Partial<ManagedServicesArgs> = {}, opts?: pulumi.ComponentResourceOptions, label = "ms") {
  const name = `${label}${++counter}`;
  const managed = new Managed(name, args(over), opts);
  const urls = await valueOf(managed.urls);
  const endpoints = await valueOf(managed.endpoints);
  await valueOf(managed.urn);
  await drainRegistrations();
  const mine = (type: string) => mocks.resources.filter((r) => r.type === type && r.name.startsWith(`${name}-`));
  return { name, managed, urls, endpoints, mine };
}

const one = (rs: RecordedResource[]): RecordedResource => {
  assert.equal(rs.length, 1, `expected exactly one resource, got ${rs.map((r) => r.name).join(", ") || "none"}`);
  return rs[0];
};

/** Every string in a wire value outside secrets, with its path. */
function plainStrings(value: unknown, path = ""): [string, string][] {
  if (isWireSecret(value)) return [];
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainStrings(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => plainStrings(v, path ? `${path}.${k}` : k));
  return [];
}

/** The password as it could appear anywhere: raw, or percent-encoded in a URL. */
const leaks = (text: string, password: string) =>
  [password, encodeURIComponent(password), encodeUserinfo(password)].some((form) => text.includes(form));

describe("RDS for PostgreSQL", () => {
  test("an instance in the server's vSwitch and zone that lets in the server's private IP only", async () => {
    const { name, mine } = await create({ services: [postgres()] });
    const i = one(mine(T.rds)).inputs;
    assert.deepEqual([i.vpcId, i.vswitchId, i.zoneId], [NETWORK.vpcId, NETWORK.vswitchId, NETWORK.zoneId], "the server's network");
    assert.deepEqual(i.securityIps, [MOCK_PRIVATE_IP], "whitelist: the server's private IP, nothing else");
    assert.deepEqual(
      [i.engine, i.engineVersion, i.instanceType, i.instanceStorage, i.dbInstanceStorageType],
      ["PostgreSQL", "16.0", "pg.n2.2c.1m", 20, "cloud_essd"],
      "engine, version, default class, storage",
    );
    assert.deepEqual([i.instanceChargeType, i.deletionProtection], ["Postpaid", false], "pay-as-you-go, deletable");
    assert.deepEqual(i.tags, TAGS, "tags");
    assert.equal(i.instanceName, "shop-db-dev", "physical name: app, service, stack");
    assert.equal(i.category, undefined, "the edition follows from the class");
    assert.equal(mine(T.kvstore).length, 0, `${name}: no KVStore for a postgres`);
  });

  test("the database, a Normal account with the secret password, and that account as the database's owner", async () => {
    const { name, mine } = await create({ services: [postgres({ database: "orders", user: "orders_app" })] });
    const rds = one(mine(T.rds));
    const database = one(mine(T.database));
    const account = one(mine(T.account));
    const privilege = one(mine(T.privilege));
    assert.deepEqual([database.inputs.instanceId, database.inputs.dataBaseName, database.inputs.characterSet], [rds.id, "orders", "UTF8"], "database");
    assert.deepEqual([account.inputs.dbInstanceId, account.inputs.accountName, account.inputs.accountType], [rds.id, "orders_app", "Normal"], "account");
    assert.equal(isWireSecret(account.inputs.accountPassword), true, "the account password is sent as a secret");
    assert.equal(reveal(account.inputs.accountPassword), DB_PASSWORD, "the given password");
    assert.deepEqual(
      [privilege.inputs.instanceId, privilege.inputs.accountName, privilege.inputs.dbNames, privilege.inputs.privilege],
      [rds.id, "orders_app", ["orders"], "DBOwner"],
      "privilege: PostgreSQL's DBOwner on the database",
    );

    const registered = (resourceName: string) => registrations.find((r) => r.name === resourceName)!;
    const urnOf = (resourceName: string) => registered(resourceName).urn;
    const dependsOn = (resourceName: string) => registered(resourceName).dependencies;
    for (const child of [`${name}-db-database`, `${name}-db-account`]) {
      assert.ok(dependsOn(child).includes(urnOf(`${name}-db-rds`)), `${child} waits for the instance`);
    }
    for (const before of [`${name}-db-account`, `${name}-db-database`]) {
      assert.ok(dependsOn(`${name}-db-privilege`).includes(urnOf(before)), `the privilege waits for ${before}`);
    }
  });

  test("instanceClass, storageGb and version from the config", async () => {
    const { mine } = await create({ services: [postgres({ instanceClass: "pg.n2.2c.2m", storageGb: 100, version: 17 })] });
    const i = one(mine(T.rds)).inputs;
    assert.deepEqual([i.instanceType, i.instanceStorage, i.engineVersion], ["pg.n2.2c.2m", 100, "17.0"], "class, storage, version");
  });

  test("DATABASE_URL from the instance's address and port, the account, the encoded password and the database", async () => {
    const { name, urls, endpoints } = await create({ services: [postgres()] });
    const host = rdsHost(`${name}-db-rds`);
    assert.deepEqual(urls, { db: `postgres://shop:Db%23Pass%25word%2B1%3D@${host}:5432/shop` }, "urls");
    assert.deepEqual(endpoints, { db: `${host}:5432` }, "endpoints");
    const parsed = new URL(urls.db);
    assert.deepEqual(
      [parsed.protocol, parsed.username, decodeURIComponent(parsed.password), parsed.hostname, parsed.port, parsed.pathname],
      ["postgres:", "shop", DB_PASSWORD, host, "5432", "/shop"],
      "the URL parses back to its parts",
    );
  });
});

describe("KVStore for Redis", () => {
  test("an instance in the server's vSwitch and zone, the private IP only, authentication on, the password secret", async () => {
    const { mine } = await create({ services: [redis()] });
    const i = one(mine(T.kvstore)).inputs;
    assert.deepEqual([i.vswitchId, i.zoneId], [NETWORK.vswitchId, NETWORK.zoneId], "the server's vSwitch and zone");
    assert.deepEqual(i.securityIps, [MOCK_PRIVATE_IP], "whitelist: the server's private IP, nothing else");
    assert.deepEqual(
      [i.instanceType, i.engineVersion, i.instanceClass, i.paymentType, i.vpcAuthMode, i.instanceReleaseProtection],
      ["Redis", "7.0", "redis.shard.small.2.ce", "PostPaid", "Open", false],
      "engine, version, default class, billing, authentication, release protection",
    );
    assert.deepEqual([i.tags, i.dbInstanceName], [TAGS, "shop-cache-dev"], "tags and name");
    assert.equal(isWireSecret(i.password), true, "the password is sent as a secret");
    assert.equal(reveal(i.password), CACHE_PASSWORD, "the given password");
    assert.equal(mine(T.rds).length + mine(T.account).length, 0, "no RDS for a redis");
  });

  test("version and instanceClass from the config", async () => {
    const { mine } = await create({ services: [redis({ version: 6, instanceClass: "redis.shard.mid.2.ce" })] });
    const i = one(mine(T.kvstore)).inputs;
    assert.deepEqual([i.engineVersion, i.instanceClass], ["6.0", "redis.shard.mid.2.ce"], "version and class");
  });

  test("REDIS_URL from the connection domain and the VPC port; 6379 when the provider reports no port", async () => {
    const withPort = await create({ services: [redis()] });
    const host = kvHost(`${withPort.name}-cache-kvstore`);
    assert.deepEqual(withPort.urls, { cache: `redis://:Cache%40Pass%3Dword2%21@${host}:6380/0` }, "urls");
    assert.deepEqual(withPort.endpoints, { cache: `${host}:6380` }, "endpoints");
    assert.equal(decodeURIComponent(new URL(withPort.urls.cache).password), CACHE_PASSWORD, "the URL parses back to the password");

    const noPort = await create({ services: [redis()] }, undefined, "x-noport-");
    assert.deepEqual(noPort.endpoints, { cache: `${kvHost(`${noPort.name}-cache-kvstore`)}:6379` }, "KVStore's default port");
  });
});

describe("secrets", () => {
  test("urls is secret and holds both URLs; endpoints is plain", async () => {
    const { managed, urls, endpoints } = await create();
    assert.equal(await pulumi.isSecret(managed.urls), true, "urls is secret");
    assert.equal(await pulumi.isSecret(managed.endpoints), false, "endpoints is plain");
    assert.deepEqual(Object.keys(urls).sort(), ["cache", "db"], "a URL per managed service");
    assert.deepEqual(Object.keys(endpoints).sort(), ["cache", "db"], "an endpoint per managed service");
  });

  test("no password in any plain resource input or plain output, even when given as plain strings", async () => {
    for (const passwords of [
      { db: pulumi.secret(DB_PASSWORD), cache: pulumi.secret(CACHE_PASSWORD) },
      { db: DB_PASSWORD, cache: CACHE_PASSWORD },
    ]) {
      const { mine, endpoints, managed } = await create({ passwords });
      assert.equal(await pulumi.isSecret(managed.urls), true, "urls is secret");
      const resources = Object.values(T).flatMap(mine);
      assert.equal(resources.length, 5, "the instance, database, account and privilege, and the KVStore instance");
      for (const r of resources) {
        for (const [path, text] of plainStrings(r.inputs)) {
          for (const password of [DB_PASSWORD, CACHE_PASSWORD]) {
            assert.ok(!leaks(text, password), `${r.name}: plain input ${path} carries a password`);
          }
        }
      }
      assert.equal(isWireSecret(one(mine(T.account)).inputs.accountPassword), true, "account password secret on the wire");
      assert.equal(isWireSecret(one(mine(T.kvstore)).inputs.password), true, "KVStore password secret on the wire");
      for (const text of Object.values(endpoints)) {
        assert.ok(!leaks(text, DB_PASSWORD) && !leaks(text, CACHE_PASSWORD) && !text.includes("@"), `endpoint ${text} has no credentials`);
      }
    }
  });
});

describe("refused before anything is created", () => {
  const refusals: [string, Partial<ManagedServicesArgs>, RegExp][] = [
    ["a service without a password", { passwords: { db: DB_PASSWORD } }, /services\.cache: no password/],
    ["a service that is not managed", { services: [postgres({ managed: false })] }, /services\.db: is not managed/],
    ["a database name RDS refuses", { services: [postgres({ database: "_shop" })] }, /services\.db\.database: RDS takes a database name/],
    ["two problems at once, each named", { services: [postgres({ user: "_shop", version: 9 })] }, /services\.db\.user: .*\n.*services\.db\.version: RDS for PostgreSQL offers/],
    ["an account name RDS refuses", { services: [postgres({ user: "shop_" })] }, /services\.db\.user: RDS takes an account name/],
    ["a PostgreSQL version RDS does not offer", { services: [postgres({ version: 9 })] }, /services\.db\.version: RDS for PostgreSQL offers versions 10/],
    ["a Redis version KVStore does not offer", { services: [redis({ version: 8 })] }, /services\.cache\.version: KVStore \(Tair\) offers Redis 5, 6, 7, not 8/],
  ];
  for (const [label, over, expected] of refusals) {
    test(label, async () => {
      const name = `bad${++counter}`;
      assert.throws(() => new Managed(name, args(over)), expected, label);
      await drainRegistrations();
      const registered = mocks.resources.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
      assert.deepEqual(registered.map((r) => r.name), [], "nothing registered, not even the component");
    });
  }

  test("a password RDS and KVStore refuse fails the deployment, without showing the password", async () => {
    const weak = "weakpassword";
    const rejections = await captureUnhandledRejections(async () => {
      new Managed(`weak${++counter}`, args({ services: [redis()], passwords: { cache: pulumi.secret(weak) } }));
    });
    const messages = rejections.map((r) => String((r as Error)?.message ?? r));
    assert.ok(messages.some((m) => /the password of services\.cache needs at least three of/.test(m)), `the reason, got ${messages.join(" | ")}`);
    assert.ok(messages.every((m) => !m.includes(weak)), "no message contains the password");
  });
});

describe("component structure", () => {
  test("every child is parented to the component and prefixed with its name; the type token is pydeploy:server:ManagedServices", async () => {
    const recorder = recordChildren();
    const { name, managed } = await create({}, { transformations: [recorder.transformation] });
    const children = recorder.children.filter((c) => c.resource !== managed);
    assert.deepEqual(children.map((c) => c.type).sort(), Object.values(T).sort(), "one of each: RDS instance, database, account, privilege; KVStore instance");
    for (const c of children) {
      assert.equal(c.parent, managed, `${c.name} is not parented to the component`);
      assert.ok(c.name.startsWith(`${name}-`), `${c.name} is not prefixed with ${name}-`);
    }
    assert.equal(await valueOf(managed.urn), `urn:pulumi:dev::pydeploy::pydeploy:server:ManagedServices::${name}`, "component URN");
  });

  test("the data's lifetime: kept on destroy (retainOnDelete) unless removeVolumesOnDestroy, as the container volumes", async () => {
    for (const keep of [true, false]) {
      const recorder = recordArgs();
      const { managed } = await create({ keepDataOnDestroy: keep }, { transformations: [recorder.transformation] });
      const instances = recorder.records.filter((r) => r.type === T.rds || r.type === T.kvstore);
      assert.equal(instances.length, 2, "an RDS and a KVStore instance");
      for (const r of instances) assert.equal(r.opts.retainOnDelete ?? false, keep, `${r.type}: retainOnDelete ${keep}`);
      assert.ok(managed, "created");
    }
  });

  test("no managed service: no resources, empty outputs", async () => {
    const { mine, urls, endpoints } = await create({ services: [], passwords: {} });
    assert.equal(Object.values(T).flatMap(mine).length, 0, "no resources");
    assert.deepEqual([urls, endpoints], [{}, {}], "empty maps");
  });
});
