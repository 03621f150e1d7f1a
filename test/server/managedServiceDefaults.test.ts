// The pure half of the managed services: versions and classes sent to RDS and KVStore, what is
// refused before anything is created, and the URLs the app gets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { managedPostgres, managedRedis } from "../support/config/serviceConfigs";
import {
  DEFAULT_POSTGRES_INSTANCE_CLASS,
  DEFAULT_REDIS_INSTANCE_CLASS,
  PASSWORD_SPECIALS,
  encodeUserinfo,
  endpointOf,
  instanceClassOf,
  kvstoreRedisEngineVersion,
  managedNameProblems,
  passwordProblem,
  postgresUrl,
  rdsPostgresEngineVersion,
  redisUrl,
} from "../../components/server/managedServiceDefaults";

const postgres = managedPostgres;
const redis = managedRedis;

describe("engine versions", () => {
  test("RDS takes a PostgreSQL major as <major>.0, from 10 to 18", () => {
    assert.deepEqual([10, 14, 16, 18].map(rdsPostgresEngineVersion), ["10.0", "14.0", "16.0", "18.0"], "versions");
  });

  test("a PostgreSQL major RDS does not offer is refused with the ones it does", () => {
    assert.throws(() => rdsPostgresEngineVersion(9), /offers versions 10, 11.*18, not 9/, "too old");
    assert.throws(() => rdsPostgresEngineVersion(19), /not 19/, "too new");
  });

  test("KVStore takes a Redis major as <major>.0: 5, 6 and 7", () => {
    assert.deepEqual([5, 6, 7].map(kvstoreRedisEngineVersion), ["5.0", "6.0", "7.0"], "versions");
    assert.throws(() => kvstoreRedisEngineVersion(8), /offers Redis 5, 6, 7, not 8/, "Redis 8");
  });
});

describe("instance classes", () => {
  test("defaults: the smallest Basic Edition RDS class and the 1 GB cloud-native standard Redis class", () => {
    assert.equal(instanceClassOf(postgres()), DEFAULT_POSTGRES_INSTANCE_CLASS, "postgres default");
    assert.equal(DEFAULT_POSTGRES_INSTANCE_CLASS, "pg.n2.2c.1m", "2 cores 4 GB, Basic Edition");
    assert.equal(instanceClassOf(redis()), DEFAULT_REDIS_INSTANCE_CLASS, "redis default");
    assert.equal(DEFAULT_REDIS_INSTANCE_CLASS, "redis.shard.small.2.ce", "1 GB, cloud-native standard architecture");
  });

  test("instanceClass from the config wins", () => {
    assert.equal(instanceClassOf(postgres({ instanceClass: "pg.n2.2c.2m" })), "pg.n2.2c.2m", "postgres");
    assert.equal(instanceClassOf(redis({ instanceClass: "redis.shard.mid.2.ce" })), "redis.shard.mid.2.ce", "redis");
  });
});

describe("names RDS would refuse", () => {
  test("names the config derives from an app name pass", () => {
    assert.deepEqual(managedNameProblems(postgres({ database: "my_shop", user: "my_shop" })), [], "my_shop");
    assert.deepEqual(managedNameProblems(redis()), [], "a redis has no names");
  });

  test("a leading or trailing underscore, or a single letter, is reported per field", () => {
    assert.deepEqual(
      managedNameProblems(postgres({ database: "_shop", user: "shop_" })).map((p) => p.split(":")[0]),
      ["services.db.database", "services.db.user"],
      "both fields",
    );
    assert.equal(managedNameProblems(postgres({ database: "a" })).length, 1, "a one-letter database");
    assert.equal(managedNameProblems(postgres({ user: `a${"b".repeat(63)}` })).length, 1, "a 64-character account name");
    assert.equal(managedNameProblems(postgres({ database: `a${"b".repeat(63)}` })).length, 0, "a 64-character database name");
  });
});

describe("passwords", () => {
  test("a password of three kinds from the allowed characters passes", () => {
    for (const password of ["Abcdefg1", "abcdefg1!", `Aa1${PASSWORD_SPECIALS}`.slice(0, 32), "ABCDEFGH-1234567890abcdefghijklm"]) {
      assert.equal(passwordProblem(password), undefined, `${password} is accepted`);
    }
  });

  test("too short, too long, other characters, or two kinds are refused, and the message never shows the password", () => {
    const cases: [string, RegExp][] = [
      ["Ab1!", /is 4 characters long/],
      [`Aa1!${"x".repeat(29)}`, /is 33 characters long/],
      ["Abcdefg1~", /other than letters, digits/],
      ["Abcdefg 1", /other than letters, digits/],
      ["abcdefgh12", /at least three/],
      ["ABCDEFGH!!", /at least three/],
    ];
    for (const [password, expected] of cases) {
      const problem = passwordProblem(password);
      assert.match(problem ?? "", expected, `${password}: ${problem}`);
      assert.ok(!problem!.includes(password), `the message for ${password} does not contain it`);
    }
  });
});

describe("URLs", () => {
  test("DATABASE_URL from the instance's address and port, the account and the database", () => {
    assert.equal(
      postgresUrl({ host: "pgm-bp1abc.pg.rds.aliyuncs.com", port: "5432", user: "shop", password: "Secret123", database: "shop" }),
      "postgres://shop:Secret123@pgm-bp1abc.pg.rds.aliyuncs.com:5432/shop",
      "url",
    );
  });

  test("every special character a password may have is percent-encoded, so the URL parses back to it", () => {
    const password = `Aa1${PASSWORD_SPECIALS}`;
    const url = postgresUrl({ host: "h.example", port: 5432, user: "u", password, database: "d" });
    const parsed = new URL(url);
    assert.equal(decodeURIComponent(parsed.password), password, "password round-trips");
    assert.equal(parsed.host, "h.example:5432", "host unaffected by the password");
    assert.equal(parsed.pathname, "/d", "database");
    assert.match(url, /^postgres:\/\/u:Aa1[A-Za-z0-9%_.~-]+@h\.example:5432\/d$/, "only unreserved characters and escapes in the password");
    assert.equal(encodeUserinfo("!*()'"), "%21%2A%28%29%27", "sub-delims too");
  });

  test("REDIS_URL: the password alone, database 0", () => {
    assert.equal(redisUrl({ host: "r-bp1abc.redis.rds.aliyuncs.com", port: 6379, password: "Secret#1" }), "redis://:Secret%231@r-bp1abc.redis.rds.aliyuncs.com:6379/0", "url");
    const parsed = new URL(redisUrl({ host: "h", port: 6379, password: "P@ss:w/rd1" }));
    assert.deepEqual([parsed.username, decodeURIComponent(parsed.password), parsed.pathname], ["", "P@ss:w/rd1", "/0"], "parts");
  });

  test("an endpoint is host:port; a missing address or port is an error, not a broken URL", () => {
    assert.equal(endpointOf({ host: "h", port: "5432" }), "h:5432", "endpoint");
    assert.throws(() => endpointOf({ host: "", port: 5432 }), /no connection address/, "no host");
    assert.throws(() => endpointOf({ host: "h", port: "" }), /reported no port/, "no port");
  });
});
