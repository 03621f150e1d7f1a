// Every default and every validation of the stack schema (issue 11): each test fails when the
// default, the constraint, or the message that names it is removed or changed. Expected values
// are written out here, never computed by the schema. schema.test.ts holds the scenarios.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, parseStackConfig, RawStackConfig, StackConfig } from "../../components/config/schema";
import { REPO_ROOT } from "../support/docker/localEngine";

type Values = Record<string, unknown>;

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const HEX64 = "0123456789abcdef".repeat(4);

const validApp = () => ({
  name: "demo",
  path: "example",
  roles: {
    web: { command: ["python", "-m", "demo.web"], port: 8000, publish: 80, healthcheck: { path: "/health" } },
    worker: { command: ["python", "-m", "demo.worker"] },
  },
});

/** A valid config for each target; the tests change one key at a time. */
const BASES: Record<"local" | "alicloud" | "existing", () => Values> = {
  local: () => ({ app: validApp() }),
  alicloud: () => ({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["203.0.113.0/24"] } }),
  existing: () => ({ target: "existing", app: validApp(), host: { address: "203.0.113.5" }, sshPrivateKey: KEY }),
};

function raw(values: Values, extra: Partial<RawStackConfig> = {}): RawStackConfig {
  return { stack: "dev", values, providerConfig: { "alicloud:region": "cn-hangzhou" }, baseDir: REPO_ROOT, ...extra };
}

/** A copy of `values` with the dotted key set (objects on the way are created). */
function withKey(values: Values, key: string, value: unknown): Values {
  const copy = structuredClone(values);
  const parts = key.split(".");
  let at: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    if (typeof at[p] !== "object" || at[p] === null) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts.at(-1)!] = value;
  return copy;
}

function accepted(values: Values, extra: Partial<RawStackConfig> = {}): StackConfig {
  try {
    return parseStackConfig(raw(values, extra));
  } catch (err) {
    assert.fail(`expected the config to be accepted, got:\n${err instanceof ConfigError ? err.problems.join("\n") : err}`);
  }
}

function problemsOf(values: Values, extra: Partial<RawStackConfig> = {}): string[] {
  try {
    parseStackConfig(raw(values, extra));
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail(`the config was accepted: ${JSON.stringify(values).slice(0, 300)}`);
}

/** The config is refused with a problem on `key` matching `pattern`. */
function refused(values: Values, key: string, pattern: RegExp, extra: Partial<RawStackConfig> = {}): void {
  const problems = problemsOf(values, extra);
  const hit = problems.find((p) => p.startsWith(`${key}: `));
  assert.ok(hit, `no problem names ${key}; got:\n${problems.join("\n")}`);
  assert.match(hit, pattern, `the problem on ${key} says what was expected`);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("schema defaults: a minimal config gets exactly these values", () => {
  it("deploy: every default, with or without a deploy key", () => {
    const expected = {
      keepImages: 3,
      healthTimeoutSeconds: 60,
      runningGateSeconds: 3,
      logMaxSize: "10m",
      logMaxFiles: 3,
      // The public mirror: mirrors.cloud.aliyuncs.com answers only inside an Alibaba VPC, so an
      // existing server elsewhere could not install Docker from it.
      dockerMirror: "https://mirrors.aliyun.com/docker-ce",
      registryMirrors: [],
      remoteDir: ".pydeploy",
      sshTimeoutSeconds: 600,
      releaseTimeoutSeconds: 600,
      acme: { timeoutSeconds: 120 },
      removeVolumesOnDestroy: false,
      stopGraceSeconds: 30,
      // One server at a time.
      rollingBatch: 1,
      ship: "copy",
    };
    assert.deepEqual(accepted(BASES.local()).deploy, expected, "no deploy key at all");
    assert.deepEqual(accepted({ ...BASES.local(), deploy: {} }).deploy, expected, "an empty deploy key");
  });

  it("app and roles: python, packages, pip, build, env, workdir, user, mode, volumes; healthcheck timings; roles go through the proxy", () => {
    const c = accepted(BASES.local());
    const { path: _path, roles, requirements, ...app } = c.app;
    assert.deepEqual(
      app,
      {
        name: "demo",
        python: "3.12",
        aptPackages: [],
        buildPackages: [],
        extras: [],
        pipTrustedHost: [],
        buildNetwork: "default",
        buildCommands: [],
        env: {},
        workdir: "/app",
        user: { name: "app", uid: 10001 },
        mode: "roles",
        volumes: {},
      },
      "app defaults",
    );
    assert.equal(requirements, "requirements.txt", "example/requirements.txt is detected");
    assert.deepEqual(
      roles,
      [
        {
          name: "web",
          command: ["python", "-m", "demo.web"],
          port: 8000,
          publish: 80,
          healthcheck: { path: "/health", intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 10 },
          domain: undefined,
          proxy: true,
        },
        { name: "worker", command: ["python", "-m", "demo.worker"], port: undefined, publish: undefined, healthcheck: undefined, domain: undefined, proxy: false },
      ],
      "a role with a port goes through the proxy by default; one without a port has nothing to proxy",
    );
    refused(withKey(BASES.local(), "app.user", { name: "web" }), "pydeploy:app.user.uid", /^pydeploy:app\.user\.uid: expected a uid from 1000 to 65533 \(missing\)$/);
  });

  it("top level: target local, environment from the stack name, no secrets, no server or host", () => {
    const c = accepted(BASES.local());
    assert.equal(c.target, "local", "target");
    assert.equal(c.environment, "development", "a dev stack");
    assert.equal(c.project, "pydeploy", "the project");
    assert.equal(c.stack, "dev", "the stack");
    assert.deepEqual(c.secrets, { env: {}, sshPrivateKey: undefined, registryPassword: undefined, loadBalancerCertificateKey: undefined }, "no secrets");
    assert.deepEqual([c.server, c.hosts, c.registry], [undefined, [], undefined], "nothing target-specific");
    assert.deepEqual(c.warnings, [], "nothing to warn about");
    for (const stack of ["prod", "production", "prod-eu"]) assert.equal(accepted(BASES.local(), { stack }).environment, "production", `stack ${stack}`);
    for (const stack of ["dev", "staging", "preprod", "my-prod"]) assert.equal(accepted(BASES.local(), { stack }).environment, "development", `stack ${stack}: prod only as a prefix`);
    assert.equal(accepted({ ...BASES.local(), environment: "production" }).environment, "production", "environment set explicitly");
  });

  it("server: every default, with no server key or an empty one", () => {
    const expected = {
      cpuCores: 2,
      memoryGb: 2,
      imageNameRegex: "^ubuntu_22_04_x64_20G_alibase_",
      vpcCidr: "172.16.0.0/16",
      vswitchCidr: "172.16.1.0/24",
      internetMaxBandwidthOut: 5,
      systemDisk: { category: "cloud_essd", sizeGb: 40 },
      tags: {},
      deletionProtection: false,
      sshPort: 22,
      sshUser: "root",
      appAllowedCidrs: ["0.0.0.0/0"],
      // One server, reached directly: no load balancer.
      count: 1,
      loadBalancer: { enabled: false, spec: "slb.s1.small" },
      sshAllowedCidrs: ["0.0.0.0/0"],
    };
    assert.deepEqual(accepted({ target: "alicloud", app: validApp() }).server, expected, "no server key");
    assert.deepEqual(accepted({ target: "alicloud", app: validApp(), server: { systemDisk: {} } }).server, expected, "an empty server.systemDisk");
    assert.deepEqual(
      accepted({ target: "alicloud", app: validApp(), server: { systemDisk: { sizeGb: 100 } } }).server?.systemDisk,
      { category: "cloud_essd", sizeGb: 100 },
      "the category defaults inside a given systemDisk",
    );
    assert.deepEqual(
      accepted({ target: "alicloud", app: validApp(), server: { systemDisk: { category: "cloud_ssd" } } }).server?.systemDisk,
      { category: "cloud_ssd", sizeGb: 40 },
      "the size defaults inside a given systemDisk",
    );
  });

  it("host: port 22 and user root; only the existing target keeps it", () => {
    const c = accepted(BASES.existing());
    assert.deepEqual(c.hosts, [{ address: "203.0.113.5", port: 22, user: "root" },], "host defaults");
    assert.equal(c.secrets.sshPrivateKey, KEY, "the key is a secret");
    assert.equal(c.server, undefined, "no server");
  });
});

/** [key, lowest, highest, the words after "expected ", default, where the parsed value is, target] */
type IntegerRule = [string, number, number, string, number | undefined, (c: StackConfig) => unknown, keyof typeof BASES];
const INTEGER_RULES: IntegerRule[] = [
  ["app.roles.web.port", 1, 65535, "a port from 1 to 65535", undefined, (c) => c.app.roles[0].port, "local"],
  ["app.roles.web.publish", 1, 65535, "a port from 1 to 65535", undefined, (c) => c.app.roles[0].publish, "local"],
  ["app.roles.web.healthcheck.intervalSeconds", 1, 3600, "seconds from 1 to 3600", 10, (c) => c.app.roles[0].healthcheck?.intervalSeconds, "local"],
  ["app.roles.web.healthcheck.timeoutSeconds", 1, 300, "seconds from 1 to 300", 3, (c) => c.app.roles[0].healthcheck?.timeoutSeconds, "local"],
  ["app.roles.web.healthcheck.retries", 1, 100, "a count from 1 to 100", 3, (c) => c.app.roles[0].healthcheck?.retries, "local"],
  ["app.roles.web.healthcheck.startPeriodSeconds", 0, 3600, "seconds from 0 to 3600", 10, (c) => c.app.roles[0].healthcheck?.startPeriodSeconds, "local"],
  ["app.user.uid", 1000, 65533, "a uid from 1000 to 65533", 10001, (c) => c.app.user.uid, "local"],
  ["deploy.keepImages", 2, 20, "a count from 2 to 20 (the running image plus at least one to roll back to)", 3, (c) => c.deploy.keepImages, "local"],
  ["deploy.healthTimeoutSeconds", 5, 1800, "seconds from 5 to 1800", 60, (c) => c.deploy.healthTimeoutSeconds, "local"],
  ["deploy.logMaxFiles", 1, 100, "a count from 1 to 100", 3, (c) => c.deploy.logMaxFiles, "local"],
  ["deploy.sshTimeoutSeconds", 10, 3600, "seconds from 10 to 3600", 600, (c) => c.deploy.sshTimeoutSeconds, "local"],
  ["deploy.releaseTimeoutSeconds", 10, 7200, "seconds from 10 to 7200", 600, (c) => c.deploy.releaseTimeoutSeconds, "local"],
  ["deploy.stopGraceSeconds", 0, 600, "seconds from 0 to 600", 30, (c) => c.deploy.stopGraceSeconds, "local"],
  ["deploy.acme.timeoutSeconds", 10, 3600, "seconds from 10 to 3600", 120, (c) => c.deploy.acme.timeoutSeconds, "local"],
  ["deploy.runningGateSeconds", 1, 600, "seconds from 1 to 600", 3, (c) => c.deploy.runningGateSeconds, "local"],
  ["server.cpuCores", 1, 256, "a core count from 1 to 256", 2, (c) => c.server?.cpuCores, "alicloud"],
  ["server.internetMaxBandwidthOut", 0, 100, "Mbit/s from 0 to 100 (above 0 gives the server a public IP)", 5, (c) => c.server?.internetMaxBandwidthOut, "alicloud"],
  ["server.systemDisk.sizeGb", 20, 2048, "GiB from 20 to 2048", 40, (c) => c.server?.systemDisk.sizeGb, "alicloud"],
  ["server.sshPort", 1, 65535, "a port from 1 to 65535", 22, (c) => c.server?.sshPort, "alicloud"],
  ["host.port", 1, 65535, "a port from 1 to 65535", 22, (c) => c.hosts[0]?.port, "existing"],
];

describe("schema integers: the bounds are inclusive, one beyond is refused, fractions are refused, digit strings count", () => {
  for (const [key, min, max, what, fallback, read, target] of INTEGER_RULES) {
    it(`${key}: ${min} to ${max}${fallback === undefined ? "" : `, default ${fallback}`}`, () => {
      const base = BASES[target]();
      // A user's uid is only given with its name.
      const set = (v: unknown) => (key === "app.user.uid" ? withKey(base, "app.user", { name: "app", uid: v }) : withKey(base, key, v));
      const message = (got: string) => new RegExp(`^pydeploy:${escape(key)}: expected ${escape(what)}, got ${escape(got)}$`);
      for (const ok of [min, max]) assert.equal(read(accepted(set(ok))), ok, `${key} accepts ${ok}`);
      assert.equal(read(accepted(set(String(max)))), max, `${key} accepts the string "${max}" (pulumi config set stores strings) as a number`);
      refused(set(min - 1), `pydeploy:${key}`, message(String(min - 1)));
      refused(set(max + 1), `pydeploy:${key}`, message(String(max + 1)));
      refused(set(min + 0.5), `pydeploy:${key}`, message(String(min + 0.5)));
      refused(set(`${min}x`), `pydeploy:${key}`, message(JSON.stringify(`${min}x`)));
      refused(set(` ${min}`), `pydeploy:${key}`, message(JSON.stringify(` ${min}`)));
      if (fallback !== undefined && key !== "app.user.uid") {
        const without = structuredClone(base);
        const parts = key.split(".");
        const parent = parts.slice(0, -1).reduce<Record<string, unknown> | undefined>((o, p) => o?.[p] as Record<string, unknown> | undefined, without);
        if (parent) delete parent[parts.at(-1)!];
        assert.equal(read(accepted(without)), fallback, `${key} defaults to ${fallback}`);
      }
    });
  }
});

/** [key, accepted values, refused values, the message pattern of a refusal, target, the key the problem names (default: key, .0 for a list)] */
type FormatRule = [string, unknown[], unknown[], RegExp, keyof typeof BASES, string?];
const FORMAT_RULES: FormatRule[] = [
  ["app.name", ["a", "demo-2", "0demo", "a".repeat(40)], ["-demo", "demo-", "Demo", "de_mo", "de mo", ""], /expected an app name: lowercase letters, digits and inner dashes, got /, "local"],
  ["app.python", ["3.12", "2.7", "3.12.1", "3.12.10", "3.9"], ["4.0", "3", "3.123", "3.12.", "v3.12", "3.12.123", "3.12-slim", "3.x"], /^pydeploy:app\.python: expected a Python version such as 3\.12, got /, "local"],
  [
    "app.baseImage",
    ["python:3.12-slim", "registry.cn-hangzhou.aliyuncs.com/library/python:3.12-slim", "localhost:5000/py", `python@sha256:${HEX64}`, `python:3.12-slim@sha256:${HEX64}`, "a.b_c-d/e", "registry.example.com/my-ns/py_thon.base:3.12"],
    ["Python:3.12", "python:3.12 slim", "python:", ":3.12", "python@sha256:abc", "/python", "python/", "python:-slim", "py..thon", "python:3.12-slim;rm"],
    /^pydeploy:app\.baseImage: expected an image reference such as python:3\.12-slim or registry\.cn-hangzhou\.aliyuncs\.com\/library\/python:3\.12-slim, got /,
    "local",
  ],
  ["app.aptPackages", [["libpq-dev", "g++", "lsof=4.95.0-1", "python3.11", "ab", "libc6=2.36-9+deb12u4~x:1"]], [["l"], ["Lsof"], ["lsof="], ["-lsof"], ["lsof;rm"], ["lsof=1 2"], ["lsof=1;x"], [".ab"]], /^pydeploy:app\.aptPackages\.0: expected a Debian package name such as lsof or libpq-dev, got /, "local"],
  ["app.buildPackages", [["build-essential"]], [["gcc && curl"]], /^pydeploy:app\.buildPackages\.0: expected a Debian package name such as lsof or libpq-dev/, "local"],
  ["app.pipTrustedHost", ["mirrors.aliyun.com", "10.0.0.5:3141", "a", ["a.example", "b.example:80"]], ["bad host", "host:", "host:123456", "-host", "host-", "http://host", ".host"], /^pydeploy:app\.pipTrustedHost\.0: expected a host or host:port such as mirrors\.aliyun\.com, got /, "local", "app.pipTrustedHost.0"],
  // BuildKit (the docker provider's builder) accepts no named network: moby builder/builder-next/builder.go.
  ["app.buildNetwork", ["default", "host", "none"], ["my_net.1", "n", "bridge", "Host", "-net", "host; rm", "net work", "", "_net"], /^pydeploy:app\.buildNetwork: expected default, host or none: the docker provider builds with BuildKit, which accepts no named network \(use host to reach a service on the build machine\), got /, "local"],
  ["app.workdir", ["/app", "/srv/my-app_1.0", "/"], ["app", "/app dir", "/app$HOME", " /app"], /^pydeploy:app\.workdir: expected an absolute path such as \/app, got /, "local"],
  ["app.mode", ["single", "roles"], ["multi", "Single"], /^pydeploy:app\.mode: expected roles \(one container per process\) or single \(one container, generated entrypoint\), got /, "local"],
  ["app.domain", ["app.example.com", "x-1.example.org", "a.b.co", "app.example.x", "local.example.com", "localhost.example.com"], ["App.example.com", "example", "app.example.com.", "app..example.com", "-app.example.com", "app-.example.com", "app.example.1com", "app.example.c-", "app.example.com/x"], /^pydeploy:app\.domain: expected a lowercase domain name such as app\.example\.com, got /, "local"],
  ["app.domain", [], ["app.local", "my.localhost", "x.internal", "a.home.arpa", "home.arpa", "localhost.local"], /^pydeploy:app\.domain: expected a public name: ACME certificate authorities do not issue for local names, got /, "local"],
  ["deploy.ship", ["copy"], ["scp", "Copy"], /^pydeploy:deploy\.ship: expected copy \(docker save \+ scp\) or registry \(push and pull\), got /, "local"],
  ["deploy.logMaxSize", ["10m", "1k", "100g", "20m"], ["10", "0m", "10M", "10mb", "m", "10 m", "01m"], /^pydeploy:deploy\.logMaxSize: expected a size such as 10m, got /, "local"],
  ["deploy.dockerMirror", ["http://mirror.example/docker-ce", "https://mirror.example:8443/docker-ce"], ["ftp://mirror.example", "mirror.example", "httpx://mirror.example", "xhttp://mirror.example", "https://"], /^pydeploy:deploy\.dockerMirror: expected an http\(s\) URL, got /, "local"],
  ["deploy.registryMirrors", [["https://a.mirror.aliyuncs.com", "http://10.0.0.5:5000"]], [["ftp://mirror.example"]], /^pydeploy:deploy\.registryMirrors\.0: expected an http\(s\) URL, got /, "local"],
  ["deploy.remoteDir", [".pydeploy", "/opt/pydeploy", "apps/pd", "_x", "a"], ["~/apps", "../x", "pd dir", "", "-x", "$HOME/x"], /^pydeploy:deploy\.remoteDir: expected a path such as \.pydeploy \(relative to the SSH user's home\) or \/opt\/pydeploy, got /, "local"],
  ["deploy.platform", ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x"], ["linux/arm", "amd64", "linux/amd64/v2", "windows/amd64", "xlinux/amd64"], /^pydeploy:deploy\.platform: expected a platform such as linux\/amd64 or linux\/arm64, got /, "local"],
  ["deploy.acme.email", ["ops@example.com"], ["ops", "ops@"], /^pydeploy:deploy\.acme\.email: expected an email address for the ACME account, got /, "local"],
  ["deploy.acme.directory", ["https://acme.example/directory"], ["http://acme.example/directory", "acme.example", "xhttps://acme.example/directory", "httpsx://acme.example/directory"], /^pydeploy:deploy\.acme\.directory: expected the https:\/\/ URL of an ACME directory, got /, "local"],
  [
    "deploy.acme.caRoot",
    ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "  -----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----"],
    ["MIIB", "-----BEGIN CERTIFICATE-----\nMIIB\n", "-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----", "x-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----x"],
    /^pydeploy:deploy\.acme\.caRoot: expected a PEM certificate \(-----BEGIN CERTIFICATE-----\), got /,
    "local",
  ],
  ["deploy.removeVolumesOnDestroy", [true, false, "true", "false"], ["yes", 1, "True"], /^pydeploy:deploy\.removeVolumesOnDestroy: expected true or false, got /, "local"],
  ["environment", ["development", "production"], ["staging", "prod"], /^pydeploy:environment: expected development or production, got /, "local"],
  ["target", ["local"], ["cloud", "Local"], /^pydeploy:target: expected local \(this machine's Docker\), existing \(a server you have\) or alicloud \(a new ECS server\), got /, "local"],
  ["registry.server", ["registry.cn-hangzhou.aliyuncs.com", "localhost:5000", "r"], ["Registry.example", "https://registry.example", "reg:", "-reg", "reg-", "reg:123456"], /^pydeploy:registry\.server: expected a registry host such as registry\.cn-hangzhou\.aliyuncs\.com, got /, "local"],
  ["registry.repository", ["team/demo", "a/b/c", "my-ns/demo_app.v2"], ["demo", "Team/demo", "team/", "/demo", "team//demo", "team/-demo", "team/demo:v1"], /^pydeploy:registry\.repository: expected namespace\/name, e\.g\. my-namespace\/demo, got /, "local"],
  ["server.instanceType", ["ecs.t6-c1m2.large", "ecs.g7.large", "ecs.g7.2xlarge"], ["t6.large", "ecs.g7", "ecs.G7.large", "ecs.g7.large.x", "xecs.g7.large", "ecs.g7-.large", "ecs.g7.large-"], /^pydeploy:server\.instanceType: expected an ECS instance type such as ecs\.t6-c1m2\.large, got /, "alicloud"],
  ["server.imageId", ["ubuntu_22_04_x64_20G_alibase_20240508.vhd", "m-bp1abc", "Ubuntu_22.vhd"], ["ubuntu 22.04", "m-", "M-bp1", "m-BP1", "ubuntu.vhd.x", "_ubuntu.vhd", "ubuntu_.vhd", "xm-bp1", "ubuntu.vhdx"], /^pydeploy:server\.imageId: expected an ECS image id such as ubuntu_22_04_x64_20G_alibase_20240508\.vhd or m-bp1\.\.\., got /, "alicloud"],
  ["server.zoneId", ["cn-hangzhou-h", "us-west-1a", "ap-southeast1"], ["cn", "CN-hangzhou-h", "cnx-hangzhou", "cn-hangzhou-", "c-hangzhou", "cn-hang_zhou", " cn-hangzhou-h"], /^pydeploy:server\.zoneId: expected a zone id such as cn-hangzhou-h, got /, "alicloud"],
  ["server.vpcId", ["vpc-bp1abc"], ["vpc-", "VPC-bp1", "vpc-BP1", "xvpc-bp1", "vpc-bp1 "], /^pydeploy:server\.vpcId: expected a VPC id such as vpc-bp1\.\.\., got /, "alicloud"],
  ["server.vswitchId", ["vsw-bp1abc"], ["vsw-", "VSW-bp1", "xvsw-bp1", "vsw-bp1-", "vsw-bp1 "], /^pydeploy:server\.vswitchId: expected a vSwitch id such as vsw-bp1\.\.\., got /, "alicloud"],
  ["server.securityGroupId", ["sg-bp1abc"], ["sg-", "SG-bp1", "sg-bp1_x", "xsg-bp1"], /^pydeploy:server\.securityGroupId: expected a security group id such as sg-bp1\.\.\., got /, "alicloud"],
  ["server.vpcCidr", ["172.16.0.0/12"], ["10.0.0.0", "10.0.0.0/33", "everyone"], /^pydeploy:server\.vpcCidr: expected an IPv4 CIDR such as 203\.0\.113\.0\/24, got /, "alicloud"],
  ["server.systemDisk.category", ["cloud_efficiency", "cloud_ssd", "cloud_auto", "cloud_essd"], ["cloud", "ESSD"], /^pydeploy:server\.systemDisk\.category: expected cloud_essd, cloud_efficiency, cloud_ssd or cloud_auto, got /, "alicloud"],
  ["server.deletionProtection", [true, "false"], ["no"], /^pydeploy:server\.deletionProtection: expected true or false, got /, "alicloud"],
  ["server.sshUser", ["deploy", "_x", "a-b_1", "ubuntu"], ["Deploy", "1user", "us er", "-user", "user!"], /^pydeploy:server\.sshUser: expected a Unix user name, got /, "alicloud"],
  ["server.publicKey", ["ssh-rsa AAAAB3NzaC1yc2E== me@host", "ssh-rsa AAAA"], ["ssh-ed25519 AAAA", "ssh-rsa", "ssh-rsa AAAA\nx", "xssh-rsa AAAA", "ssh-rsa AAAA=x", "ssh-rsa AA AA\n"], /^pydeploy:server\.publicKey: expected an OpenSSH RSA public key \(ssh-rsa AAAA\.\.\.\); Alibaba Cloud key pairs are RSA, got /, "alicloud"],
  ["server.imageNameRegex", ["^centos_", "x"], ["", "   "], /^pydeploy:server\.imageNameRegex: expected a regular expression for system image names, got /, "alicloud"],
  ["host.address", ["203.0.113.5", "2001:db8::1", "server.example.com", "box"], ["not a host", "http://box", "box:22", ""], /^pydeploy:host\.address: expected a host name or IP address, got /, "existing"],
  ["host.user", ["deploy", "_x", "a-b_1"], ["Deploy", "1user", "us er", "user!"], /^pydeploy:host\.user: expected a Unix user name, got /, "existing"],
];

/** Keys that are only accepted with another key set: what that other key is set to. */
const COMPANIONS: Record<string, (v: Values) => Values> = {
  "registry.server": (v) => withRegistry(v),
  "registry.repository": (v) => withRegistry(v),
  "server.publicKey": (v) => ({ ...v, sshPrivateKey: KEY }),
  "server.vswitchId": (v) => withKey(v, "server.vpcId", "vpc-bp1"),
  // A domain takes no publish port: the web keeps only its port.
  "app.domain": (v) => withKey(v, "app.roles.web", { command: ["python", "-m", "demo.web"], port: 8000 }),
};
function withRegistry(v: Values): Values {
  return { ...v, registry: { server: "registry.example.com", username: "me", repository: "team/demo", ...(v.registry as object) }, registryPassword: "pw" };
}

describe("schema formats: what each string key accepts and refuses, and the message", () => {
  for (const [key, good, bad, message, target, problemKey] of FORMAT_RULES) {
    it(`${key}: ${message.source.slice(0, 60)}`, () => {
      const base = BASES[target]();
      const companion = COMPANIONS[key] ?? ((v: Values) => v);
      for (const value of good) {
        const c = accepted(companion(withKey(base, key, value)));
        assert.ok(c, `${key} accepts ${JSON.stringify(value)}`);
      }
      for (const value of bad) refused(companion(withKey(base, key, value)), `pydeploy:${problemKey ?? `${key}${Array.isArray(value) ? ".0" : ""}`}`, message);
    });
  }

  it("string keys that must not be blank: app.path, registry.username, registryPassword, command arguments", () => {
    refused({ app: { ...validApp(), path: "  " } }, "pydeploy:app.path", /^pydeploy:app\.path: expected the path of the Python project, relative to Pulumi\.yaml, got ""$/);
    assert.equal(accepted({ app: { ...validApp(), path: " example " } }).app.path, `${REPO_ROOT}/example`, "app.path is trimmed");
    const registry = { server: "registry.example.com", username: " ", repository: "team/demo" };
    refused({ app: validApp(), registry, registryPassword: "pw" }, "pydeploy:registry.username", /^pydeploy:registry\.username: expected the registry user name, got ""$/);
    refused({ app: validApp(), registry: { ...registry, username: "me" }, registryPassword: " " }, "pydeploy:registryPassword", /^pydeploy:registryPassword: expected the registry password$/);
    refused(withKey(BASES.local(), "app.roles.worker.command", ["python", " "]), "pydeploy:app.roles.worker.command.1", /expected a non-empty argument/);
    refused(withKey(BASES.local(), "app.roles.worker.command", 42), "pydeploy:app.roles.worker.command", /expected a command: a list of arguments, or a string without shell operators \(&&, \|, >, ;\), got 42/);
  });
});

describe("schema records, lists and objects", () => {
  it("role names: lowercase, 1 to 20 characters, no leading digit or dash; at least one role", () => {
    const roles = (name: string) => ({ app: { ...validApp(), roles: { [name]: { command: ["run"] } } } });
    for (const name of ["w", "web", "a1-b2", `a${"b".repeat(19)}`]) assert.equal(accepted(roles(name)).app.roles[0].name, name, `role ${name}`);
    for (const name of ["Web", "1web", "web-", "-web", "we_b", `a${"b".repeat(20)}`]) {
      refused(roles(name), `pydeploy:app.roles.${name}`, /expected a role name such as web or worker: lowercase letters, digits, inner dashes/);
    }
    refused({ app: { ...validApp(), roles: {} } }, "pydeploy:app.roles", /^pydeploy:app\.roles: expected at least one role, e\.g\. web: \{command: \[\.\.\.\], port: 8000\}, got \{\}$/);
  });

  it("env names and values: a variable name, a single-line string; numbers and booleans become strings", () => {
    const env = (e: Record<string, unknown>) => ({ app: { ...validApp(), env: e } });
    assert.deepEqual(accepted(env({ A: "1", _x1: "two words", PORT: 8000, DEBUG: false })).app.env, { A: "1", _x1: "two words", PORT: "8000", DEBUG: "false" }, "values as strings");
    for (const name of ["1A", "A-B", "A B"]) refused(env({ [name]: "x" }), `pydeploy:app.env.${name}`, /expected an environment variable name \(\[A-Za-z_\]\[A-Za-z0-9_\]\*\)/);
    for (const value of ["a\nb", "a\rb", "a\0b"]) refused(env({ A: value }), "pydeploy:app.env.A", /^pydeploy:app\.env\.A: expected a single-line value \(no newline or NUL\), got /);
    refused(env({ A: { nested: 1 } }), "pydeploy:app.env.A", /^pydeploy:app\.env\.A: expected a string value, got \{"nested":1\}$/);
    assert.deepEqual(accepted({ ...BASES.local(), secretEnv: { TOKEN: 12 } }).secrets.env, { TOKEN: "12" }, "secretEnv values too");
    refused({ ...BASES.local(), secretEnv: { "BAD-NAME": "x" } }, "pydeploy:secretEnv.BAD-NAME", /expected an environment variable name/);
  });

  it("user: name is a slug of at most 32 characters", () => {
    assert.deepEqual(accepted(withKey(BASES.local(), "app.user", { name: "a".repeat(32), uid: 2000 })).app.user, { name: "a".repeat(32), uid: 2000 }, "32 characters");
    refused(withKey(BASES.local(), "app.user", { name: "a".repeat(33) }), "pydeploy:app.user.name", /^pydeploy:app\.user\.name: expected a user name of at most 32 characters, got /);
    refused(withKey(BASES.local(), "app.user", { name: "App" }), "pydeploy:app.user.name", /expected a user name: lowercase letters, digits and inner dashes/);
    refused(withKey(BASES.local(), "app.name", "a".repeat(41)), "pydeploy:app.name", /^pydeploy:app\.name: expected an app name of at most 40 characters, got /);
  });

  it("requirements and extras: plain relative paths and extra names", () => {
    for (const bad of ["$HOME/req.txt", "/abs/req.txt", "../req.txt", ".hidden.txt", "req uirements.txt", "req*.txt", "-r.txt"]) {
      refused(withKey(BASES.local(), "app.requirements", bad), "pydeploy:app.requirements", /expected a requirements file path relative to app\.path, such as requirements\/prod\.txt, got /);
    }
    for (const good of ["requirements/prod.txt", "_reqs.txt", "r"]) {
      const problems = problemsOf(withKey(BASES.local(), "app.requirements", good));
      assert.ok(problems.some((p) => /^pydeploy:app\.requirements: expected an existing file/.test(p)), `${good} passes the format check and is then looked for: ${problems.join("\n")}`);
    }
    for (const bad of ["-prod", "prod-", "pr od", "", "prod!"]) {
      refused(withKey(BASES.local(), "app.extras", [bad]), "pydeploy:app.extras.0", /expected the name of an extra in \[project\.optional-dependencies\], e\.g\. prod, got /);
    }
    for (const good of ["prod", "dev_tools", "a", "A.b-c"]) {
      const problems = problemsOf(withKey(BASES.local(), "app.extras", [good]));
      assert.ok(problems.some((p) => /^pydeploy:app\.extras: expected no extras/.test(p)), `${good} passes the format check: ${problems.join("\n")}`);
    }
  });

  it("index URLs must be strings; trusted hosts a host or a list of them", () => {
    refused(withKey(BASES.local(), "app.pipIndexUrl", 42), "pydeploy:app.pipIndexUrl", /^pydeploy:app\.pipIndexUrl: expected an http\(s\) URL, got 42$/);
    refused(withKey(BASES.local(), "app.pipExtraIndexUrl", ["https://a"]), "pydeploy:app.pipExtraIndexUrl", /^pydeploy:app\.pipExtraIndexUrl: expected an http\(s\) URL/);
    refused(withKey(BASES.local(), "app.pipTrustedHost", 42), "pydeploy:app.pipTrustedHost", /^pydeploy:app\.pipTrustedHost: expected a host\[:port\] or a list of them, got 42$/);
    assert.deepEqual(accepted(withKey(BASES.local(), "app.pipTrustedHost", "a.example")).app.pipTrustedHost, ["a.example"], "one host becomes a list");
  });

  it("build commands and the release command: argv lists, or strings split like a shell", () => {
    const c = accepted({ app: { ...validApp(), buildCommands: ["python manage.py collectstatic", ["ls", "-l"]], release: "python manage.py migrate --noinput" } });
    assert.deepEqual(c.app.buildCommands, [["python", "manage.py", "collectstatic"], ["ls", "-l"]], "build commands");
    assert.deepEqual(c.app.release, ["python", "manage.py", "migrate", "--noinput"], "release command");
    refused(withKey(BASES.local(), "app.buildCommands", "python manage.py collectstatic"), "pydeploy:app.buildCommands", /^pydeploy:app\.buildCommands: expected a list of commands, got /);
    refused(withKey(BASES.local(), "app.buildCommands", [[]]), "pydeploy:app.buildCommands.0", /expected a non-empty command/);
    refused(withKey(BASES.local(), "app.release", "migrate > log"), "pydeploy:app.release", /without shell operators.*got "migrate > log"/);
    for (const op of ["a | b", "a; b", "a && b", "a > b"]) refused(withKey(BASES.local(), "app.release", op), "pydeploy:app.release", /expected a command: a list of arguments, or a string without shell operators/);
    assert.deepEqual(accepted(withKey(BASES.local(), "app.release", "echo 'a b' \"c d\"")).app.release, ["echo", "a b", "c d"], "quotes group words");
  });

  it("healthcheck: the path starts with / and has no spaces; unknown keys are refused", () => {
    for (const path of ["/health", "/", "/a/b?x=1&y=2", "/%20"]) assert.equal(accepted(withKey(BASES.local(), "app.roles.web.healthcheck.path", path)).app.roles[0].healthcheck?.path, path, `path ${path}`);
    for (const path of ["health", "/he alth", "/health\n", "x/"]) refused(withKey(BASES.local(), "app.roles.web.healthcheck.path", path), "pydeploy:app.roles.web.healthcheck.path", /expected an HTTP path starting with \//);
    refused(withKey(BASES.local(), "app.roles.web.healthcheck.interval", 5), "pydeploy:app.roles.web.healthcheck", /unknown key "interval"/);
    refused(withKey(BASES.local(), "app.roles.web.proxy", "maybe"), "pydeploy:app.roles.web.proxy", /expected true or false, got "maybe"/);
  });

  it("volumes: a slug name of at most 30, an absolute path, a non-empty role list", () => {
    const vol = (name: string, v: Values) => ({ app: { ...validApp(), volumes: { [name]: v } } });
    assert.deepEqual(accepted(vol("data", { path: "/data", roles: ["web"] })).app.volumes, { data: { path: "/data", roles: ["web"] } }, "a volume");
    for (const path of ["/data", "/var/lib/app", "/a"]) assert.equal(accepted(vol("data", { path })).app.volumes.data.path, path, `path ${path}`);
    for (const path of ["data", "x/data", "/data/", "/", "/da ta", "//"]) refused(vol("data", { path }), "pydeploy:app.volumes.data.path", /expected an absolute container path such as \/data/);
    refused(vol("a".repeat(31), { path: "/data" }), `pydeploy:app.volumes.${"a".repeat(31)}`, /expected a volume name of at most 30 characters/);
    assert.ok(accepted(vol("a".repeat(30), { path: "/data" })).app.volumes["a".repeat(30)], "30 characters");
    refused(vol("Data", { path: "/data" }), "pydeploy:app.volumes.Data", /expected a volume name: lowercase letters/);
    refused(vol("data", { path: "/data", roles: [] }), "pydeploy:app.volumes.data.roles", /^pydeploy:app\.volumes\.data\.roles: expected at least one role \(leave roles out for every role\), got \[\]$/);
    refused(vol("data", { path: "/data", roles: "web" }), "pydeploy:app.volumes.data.roles", /^pydeploy:app\.volumes\.data\.roles: expected a list of role names, got "web"$/);
  });

  it("server lists and maps: CIDR lists are never empty; tags of 1-128 and 0-128 characters; memory is positive", () => {
    const server = (s: Values) => ({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["203.0.113.0/24"], ...s } });
    refused(server({ sshAllowedCidrs: [] }), "pydeploy:server.sshAllowedCidrs", /^pydeploy:server\.sshAllowedCidrs: expected at least one CIDR, got \[\]$/);
    refused(server({ appAllowedCidrs: [] }), "pydeploy:server.appAllowedCidrs", /^pydeploy:server\.appAllowedCidrs: expected at least one CIDR, got \[\]$/);
    assert.deepEqual(accepted(server({ tags: { ["k".repeat(128)]: "v".repeat(128), e: "" } })).server?.tags, { ["k".repeat(128)]: "v".repeat(128), e: "" }, "tags at the limits");
    refused(server({ tags: { ["k".repeat(129)]: "v" } }), `pydeploy:server.tags.${"k".repeat(129)}`, /./);
    refused(server({ tags: { "": "v" } }), "pydeploy:server.tags.", /./);
    refused(server({ tags: { k: "v".repeat(129) } }), "pydeploy:server.tags.k", /./);
    assert.equal(accepted(server({ memoryGb: "4" })).server?.memoryGb, 4, "a string is a number");
    assert.equal(accepted(server({ memoryGb: 0.5 })).server?.memoryGb, 0.5, "fractions are fine");
    for (const bad of [0, -1, "x", " ", ""]) refused(server({ memoryGb: bad }), "pydeploy:server.memoryGb", /^pydeploy:server\.memoryGb: expected GiB of memory, e\.g\. 4, got /);
  });

  it("acme: unknown keys refused; its values reach the deploy config", () => {
    const acme = { email: "ops@example.com", directory: "https://acme.example/dir" };
    assert.deepEqual(accepted(withKey(BASES.local(), "deploy.acme", acme)).deploy.acme, { ...acme, timeoutSeconds: 120 }, "kept, with the certificate wait's default");
    refused(withKey(BASES.local(), "deploy.acme", { mail: "x" }), "pydeploy:deploy.acme", /unknown key "mail"/);
  });
});

describe("error messages: keys, unknown keys, missing keys, long and secret values", () => {
  it("several unknown top-level keys are listed once, with the known keys", () => {
    const problems = problemsOf({ app: validApp(), severs: {}, hots: {} });
    assert.deepEqual(problems, [`pydeploy: unknown keys "severs", "hots" (known keys: environment, target, app, services, deploy, registry, server, host, hosts, secretEnv, sshPrivateKey, registryPassword, loadBalancerCertificateKey)`], "one problem naming both");
    const nested = problemsOf({ app: { ...validApp(), a: 1, b: 2 } });
    assert.deepEqual(nested, ['pydeploy:app: unknown keys "a", "b"'], "nested: no list of known keys");
    assert.deepEqual(problemsOf({ app: { ...validApp(), a: 1 } }), ['pydeploy:app: unknown key "a"'], "one unknown key: singular");
  });

  it("a missing key says (missing); another project prefixes its own name", () => {
    assert.deepEqual(problemsOf({}), ["pydeploy:app: Invalid input: expected object, received undefined (missing)"], "app missing");
    assert.deepEqual(problemsOf({ app: { ...validApp(), name: 5 } }, { project: "shop" }), ["shop:app.name: expected an app name, got 5"], "the project's own prefix");
    const { path: _p, ...noPath } = validApp();
    assert.deepEqual(problemsOf({ app: noPath }), ["pydeploy:app.path: expected the path of the Python project, relative to Pulumi.yaml (missing)"], "a missing string key");
  });

  it("a long value is cut at 80 characters", () => {
    const problems = problemsOf(withKey(BASES.local(), "app.name", "A".repeat(100)));
    const got = `"${"A".repeat(76)}...`;
    assert.ok(problems.some((p) => p.endsWith(`got ${got}`)), `cut to 77 characters and "...": ${problems.join("\n")}`);
    const exact = "B".repeat(78); // 80 characters with its quotes: not cut
    assert.ok(problemsOf(withKey(BASES.local(), "app.name", exact)).some((p) => p.endsWith(`got "${exact}"`)), "80 characters stay whole");
  });

  it("secret values are never repeated: sshPrivateKey, registryPassword, secretEnv", () => {
    const secret = "TOPSECRET-9f2";
    const problems = [
      ...problemsOf({ ...BASES.existing(), sshPrivateKey: secret }),
      ...problemsOf({ ...BASES.local(), secretEnv: { TOKEN: `${secret}\n` } }),
      ...problemsOf({ ...BASES.local(), registryPassword: 42 }),
    ];
    assert.ok(problems.some((p) => p === "pydeploy:sshPrivateKey: expected a PEM or OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)"), `the key problem, without a value: ${problems.join("\n")}`);
    assert.ok(problems.some((p) => p === "pydeploy:registryPassword: expected the registry password"), `the password problem, without a value: ${problems.join("\n")}`);
    assert.ok(!problems.join("\n").includes(secret) && !problems.join("\n").includes("42"), "no secret value in the messages");
    assert.equal(accepted({ ...BASES.existing(), sshPrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----" }).secrets.sshPrivateKey?.includes("RSA"), true, "a PEM RSA key is accepted");
  });
});

describe("checkSemantics: problems and warnings that span keys", () => {
  const webOnly = (role: Values) => ({ ...BASES.local(), app: { ...validApp(), roles: { web: { command: ["run"], ...role }, worker: { command: ["work"] } } } });

  it("a role with a domain: needs a port, takes no publish port, needs the proxy; HTTPS takes 80 and 443", () => {
    refused(webOnly({ domain: "app.example.com" }), "pydeploy:app.roles.web.domain", /^pydeploy:app\.roles\.web\.domain: expected `port` too: the proxy sends the domain's requests to the role's port, got \{/);
    refused(webOnly({ domain: "app.example.com", port: 8000, publish: 8080 }), "pydeploy:app.roles.web.publish", /^pydeploy:app\.roles\.web\.publish: a role with a domain is served on 443 \(and 80 redirects\), so it takes no publish port, got \{/);
    refused(webOnly({ domain: "app.example.com", port: 8000, proxy: false }), "pydeploy:app.roles.web.proxy", /^pydeploy:app\.roles\.web\.proxy: a role with a domain needs the proxy \(it terminates HTTPS\), got \{/);
    refused(webOnly({ publish: 8080 }), "pydeploy:app.roles.web.publish", /^pydeploy:app\.roles\.web\.publish: expected `port` too: publish maps a host port to the role's container port, got \{/);
    const c = accepted(webOnly({ domain: "app.example.com", port: 8000 }));
    assert.deepEqual([c.app.roles[0].domain, c.app.roles[0].publish, c.app.roles[0].proxy], ["app.example.com", undefined, true], "served by the proxy, no published port of its own");
    for (const p of [80, 443]) {
      const values = { ...BASES.local(), app: { ...validApp(), roles: { web: { command: ["run"], port: 8000, domain: "app.example.com" }, api: { command: ["api"], port: 9000, publish: p } } } };
      refused(values, "pydeploy:app.roles.api.publish", new RegExp(`^pydeploy:app\\.roles\\.api\\.publish: port ${p} serves the domain app\\.example\\.com \\(HTTPS on 443, redirect on 80\\); publish another port$`));
    }
  });

  it("two roles with one domain are refused", () => {
    const values = { ...BASES.local(), app: { ...validApp(), roles: { web: { command: ["run"], port: 8000, domain: "app.example.com" }, api: { command: ["api"], port: 9000, domain: "app.example.com" } } } };
    refused(values, "pydeploy:app.roles.api.domain", /^pydeploy:app\.roles\.api\.domain: app\.example\.com is already the domain of role web$/);
    const two = { ...values, app: { ...values.app, roles: { ...values.app.roles, api: { command: ["api"], port: 9000, domain: "api.example.com" } } } };
    assert.deepEqual(accepted(two).app.roles.map((r) => r.domain), ["app.example.com", "api.example.com"], "two domains are fine");
  });

  it("app.domain goes to the one role with a port, and is refused with none or several", () => {
    const c = accepted({ ...BASES.local(), app: { ...validApp(), domain: "app.example.com", roles: { worker: { command: ["work"] }, web: { command: ["run"], port: 8000 } } } });
    assert.deepEqual(c.app.roles.map((r) => [r.name, r.domain, r.publish]), [["worker", undefined, undefined], ["web", "app.example.com", undefined]], "the web gets it and publishes nothing itself");
    refused({ ...BASES.local(), app: { ...validApp(), domain: "app.example.com", roles: { worker: { command: ["work"] } } } }, "pydeploy:app.domain", /^pydeploy:app\.domain: applies to the one role with a port, but no role has a port$/);
    refused(
      { ...BASES.local(), app: { ...validApp(), domain: "app.example.com", roles: { web: { command: ["run"], port: 8000 }, api: { command: ["api"], port: 9000 } } } },
      "pydeploy:app.domain",
      /^pydeploy:app\.domain: applies to the one role with a port, but roles web, api have ports: set app\.roles\.<role>\.domain instead$/,
    );
    refused(
      { ...BASES.local(), app: { ...validApp(), domain: "app.example.com", roles: { web: { command: ["run"], port: 8000, publish: 8080 } } } },
      "pydeploy:app.roles.web.publish",
      /^pydeploy:app\.roles\.web\.publish: a role with a domain \(app\.domain\) is served on 443 and 80, so it takes no publish port$/,
    );
  });

  it("published ports: a role without the proxy still claims its host port; single mode shares one container's ports", () => {
    const values = { ...BASES.local(), app: { ...validApp(), roles: { web: { command: ["run"], port: 8000 }, raw: { command: ["raw"], port: 9000, publish: 8000, proxy: false } } } };
    refused(values, "pydeploy:app.roles.raw.publish", /^pydeploy:app\.roles\.raw\.publish: host port 8000 is already published by role web; each role needs its own host port$/);
    // On alicloud the security group reads the same owners: the clash is one problem there too, not a crash.
    refused({ ...values, target: "alicloud", server: { sshAllowedCidrs: ["203.0.113.0/24"] } }, "pydeploy:app.roles.raw.publish", /host port 8000 is already published by role web/);
    const single = { ...BASES.local(), app: { ...validApp(), mode: "single", roles: { web: { command: ["run"], port: 8000 }, api: { command: ["api"], port: 8000, publish: 8001 } } } };
    refused(single, "pydeploy:app.roles.api.port", /^pydeploy:app\.roles\.api\.port: in single mode all roles share one container, and port 8000 is already used by role web$/);
    assert.equal(accepted({ ...single, app: { ...single.app, mode: "roles" } }).app.roles.length, 2, "in roles mode each container has its own ports");
    const singleOk = { ...single, app: { ...single.app, roles: { web: { command: ["run"], port: 8000 }, worker: { command: ["work"] }, api: { command: ["api"], port: 9000 } } } };
    assert.equal(accepted(singleOk).app.mode, "single", "different ports in single mode; a role without a port is fine");
    const domainAndPort = { ...BASES.local(), app: { ...validApp(), roles: { web: { command: ["run"], port: 8000, domain: "app.example.com" }, api: { command: ["api"], port: 9000, publish: 443, proxy: false } } } };
    const problems = problemsOf(domainAndPort);
    assert.ok(problems.includes("pydeploy:app.roles.api.publish: host port 443 is already published by role web; each role needs its own host port"), `the domain holds 443: ${problems.join("\n")}`);
  });

  it("volumes: role names must exist, paths must differ and must not hide the code", () => {
    const vols = (volumes: Values, extra: Values = {}) => ({ ...BASES.local(), app: { ...validApp(), ...extra, volumes } });
    refused(vols({ data: { path: "/data", roles: ["web", "db"] } }), "pydeploy:app.volumes.data.roles", /^pydeploy:app\.volumes\.data\.roles: role db is not one of app\.roles \(web, worker\)$/);
    refused(vols({ data: { path: "/data" }, more: { path: "/data" } }), "pydeploy:app.volumes.more.path", /^pydeploy:app\.volumes\.more\.path: \/data is already the path of volume data$/);
    for (const path of ["/app", "/"]) {
      refused(vols({ data: { path: path === "/" ? "/srv" : path } }, path === "/" ? { workdir: "/srv/app" } : {}), "pydeploy:app.volumes.data.path", /must not be app\.workdir \(\/(srv\/)?app\) or a folder above it: the volume would hide the code$/);
    }
    assert.deepEqual(Object.keys(accepted(vols({ data: { path: "/app-data" }, cache: { path: "/app/cache" } })).app.volumes), ["data", "cache"], "a sibling with the same prefix, or a folder inside the code, is fine");
  });

  it("server and host keys only with their target", () => {
    refused({ ...BASES.local(), server: {} }, "pydeploy:server", /^pydeploy:server: is only used with target alicloud, but target is local$/);
    refused({ ...BASES.alicloud(), host: { address: "203.0.113.5" } }, "pydeploy:host", /^pydeploy:host: is only used with target existing, but target is alicloud$/);
    assert.equal(accepted({ ...BASES.existing() }).server, undefined, "no server for an existing host");
  });

  it("alicloud: the region's format, a warning for another SSH port, vSwitch and key pair rules", () => {
    refused(BASES.alicloud(), "alicloud:region", /^alicloud:region: expected the Alibaba Cloud region, e\.g\. cn-hangzhou \(pulumi config set alicloud:region cn-hangzhou\), got "Hangzhou"$/, { providerConfig: { "alicloud:region": "Hangzhou" } });
    refused(BASES.alicloud(), "alicloud:region", /got 7$/, { providerConfig: { "alicloud:region": 7 } });
    for (const region of ["cn-hangzhou", "ap-southeast-1"]) assert.ok(accepted(BASES.alicloud(), { providerConfig: { "alicloud:region": region } }).server, `region ${region}`);
    for (const region of ["cn", "cnhangzhou", "x-hangzhou", "cn-hangzhou "]) refused(BASES.alicloud(), "alicloud:region", /expected the Alibaba Cloud region/, { providerConfig: { "alicloud:region": region } });
    const moved = accepted(withKey(BASES.alicloud(), "server.sshPort", 2222));
    assert.deepEqual(moved.warnings, ["pydeploy:server.sshPort is 2222: the security group opens it, but the instance's sshd must be configured to listen there (the stock image listens on 22)."], "another SSH port warns");
    assert.deepEqual(accepted(BASES.alicloud()).warnings, [], "port 22 with allowed CIDRs: no warning");
    assert.ok(accepted(withKey(BASES.alicloud(), "server.vswitchCidr", "172.16.255.0/24")).server, "a vSwitch block inside the VPC");
    refused(withKey(BASES.alicloud(), "server.vswitchCidr", "172.0.0.0/8"), "pydeploy:server.vswitchCidr", /^pydeploy:server\.vswitchCidr: expected a block inside server\.vpcCidr \(172\.16\.0\.0\/16\), got 172\.0\.0\.0\/8$/);
    refused(withKey(BASES.alicloud(), "server.vswitchCidr", "172.17.0.0/24"), "pydeploy:server.vswitchCidr", /expected a block inside server\.vpcCidr/);
    assert.ok(accepted(withKey(withKey(BASES.alicloud(), "server.vpcCidr", "0.0.0.0/0"), "server.vswitchCidr", "10.9.0.0/16")).server, "inside 0.0.0.0/0");
    assert.ok(accepted({ ...BASES.alicloud(), server: { sshAllowedCidrs: ["203.0.113.0/24"], vswitchId: "vsw-bp1", vpcId: "vpc-bp1", vswitchCidr: "192.168.0.0/24" } }).server, "an existing vSwitch: its CIDR is not checked");
    refused({ ...BASES.alicloud(), server: { sshAllowedCidrs: ["203.0.113.0/24"], vswitchId: "vsw-bp1" } }, "pydeploy:server.vpcId", /^pydeploy:server\.vpcId: is needed with server\.vswitchId to create the security group in the same VPC$/);
    assert.ok(accepted({ ...BASES.alicloud(), server: { sshAllowedCidrs: ["203.0.113.0/24"], vswitchId: "vsw-bp1", securityGroupId: "sg-bp1" } }).server, "an existing security group needs no VPC id");
    refused(withKey(BASES.alicloud(), "server.publicKey", "ssh-rsa AAAA"), "pydeploy:sshPrivateKey", /^pydeploy:sshPrivateKey: is required with server\.publicKey: the deployment logs in with its private key/);
    refused({ ...BASES.alicloud(), sshPrivateKey: KEY }, "pydeploy:sshPrivateKey", /^pydeploy:sshPrivateKey: is set but server\.publicKey is not: set both, or neither to have a key pair generated$/);
    assert.equal(accepted({ ...withKey(BASES.alicloud(), "server.publicKey", "ssh-rsa AAAA"), sshPrivateKey: KEY }).server?.publicKey, "ssh-rsa AAAA", "both");
  });

  it("production alicloud: SSH CIDRs are required and never /0; development warns naming the SSH port", () => {
    refused({ target: "alicloud", app: validApp() }, "pydeploy:server.sshAllowedCidrs", /^pydeploy:server\.sshAllowedCidrs: is required in production: list the CIDRs allowed to reach SSH, e\.g\. \["203\.0\.113\.7\/32"\]$/, { stack: "prod" });
    refused({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["203.0.113.0/24", "0.0.0.0/0"] } }, "pydeploy:server.sshAllowedCidrs", /^pydeploy:server\.sshAllowedCidrs: must not open SSH to the whole internet \(\/0\) in production$/, { stack: "prod" });
    assert.deepEqual(accepted({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["10.0.0.0/8"] } }, { stack: "prod" }).server?.sshAllowedCidrs, ["10.0.0.0/8"], "a /8 is fine in production");
    const open = accepted({ target: "alicloud", app: validApp(), server: { sshPort: 2200 } });
    assert.equal(open.warnings[0], 'pydeploy:server.sshAllowedCidrs is not set: SSH (port 2200) is open to 0.0.0.0/0 on this development stack. Set it to your own address, e.g. ["203.0.113.7/32"].', "the warning names the port and the environment");
  });

  it("existing host: host and key required; without a pinned key a warning in development", () => {
    refused({ target: "existing", app: validApp(), sshPrivateKey: KEY }, "pydeploy:host", /^pydeploy:host: is required with target existing: \{address, port, user\} of your server \(or hosts: a list of them\)$/);
    refused({ target: "existing", app: validApp(), host: { address: "203.0.113.5" } }, "pydeploy:sshPrivateKey", /^pydeploy:sshPrivateKey: is required with target existing \(pulumi config set --secret sshPrivateKey < ~\/\.ssh\/id_ed25519\)$/);
    const c = accepted(BASES.existing());
    assert.equal(
      c.warnings[0],
      "pydeploy:host.hostKey is not set: the deploy accepts any SSH host key from 203.0.113.5, so it cannot notice a man in the middle. To pin it, get it with `ssh-keyscan -t ed25519 203.0.113.5`, check it against the server's own /etc/ssh/ssh_host_ed25519_key.pub (e.g. from its console), then `pulumi config set --path pydeploy:host.hostKey 'ssh-ed25519 AAAA…'`.",
      "the warning says the risk and how to pin the key",
    );
  });

  it("registry: shipping through it needs it and its password; without one the deploy copies", () => {
    const registry = { server: "registry.example.com", username: "me", repository: "team/demo" };
    assert.equal(accepted({ ...BASES.local(), registry, registryPassword: "pw", deploy: { ship: "copy" } }).deploy.ship, "copy", "an explicit ship wins over the registry");
    assert.equal(accepted({ ...BASES.local(), registry, registryPassword: "pw" }).deploy.ship, "registry", "a registry means registry shipping");
    assert.deepEqual(accepted({ ...BASES.local(), registry, registryPassword: "pw" }).registry, registry, "the registry is passed on");
    refused({ ...BASES.local(), deploy: { ship: "registry" } }, "pydeploy:registry", /^pydeploy:registry: is required with deploy\.ship registry: \{server, username, repository\}$/);
    refused({ ...BASES.local(), registry }, "pydeploy:registryPassword", /^pydeploy:registryPassword: is required with a registry \(pulumi config set --secret registryPassword\)$/);
  });

  it("a variable in both app.env and secretEnv names the project's own key", () => {
    refused({ ...BASES.local(), app: { ...validApp(), env: { TOKEN: "x" } }, secretEnv: { TOKEN: "y" } }, "shop:secretEnv.TOKEN", /^shop:secretEnv\.TOKEN: is also set in shop:app\.env; keep each variable in one place$/, { project: "shop" });
  });
});

describe("stack config: type conversions, exact messages, CIDR arithmetic and role edge cases", () => {
  it("a list is not a number, though its one element is digits; a boolean is not a memory size", () => {
    refused(withKey(BASES.local(), "app.roles.web.port", [8000]), "pydeploy:app.roles.web.port", /^pydeploy:app\.roles\.web\.port: expected a port from 1 to 65535, got \[8000\]$/);
    refused(withKey(BASES.alicloud(), "server.memoryGb", true), "pydeploy:server.memoryGb", /^pydeploy:server\.memoryGb: expected GiB of memory, e\.g\. 4, got true$/);
    refused(withKey(BASES.alicloud(), "server.memoryGb", " "), "pydeploy:server.memoryGb", /^pydeploy:server\.memoryGb: expected GiB of memory, e\.g\. 4, got " "$/);
  });

  it("\"true\" and \"false\" strings are booleans with their meaning", () => {
    assert.equal(accepted(withKey(BASES.local(), "deploy.removeVolumesOnDestroy", "true")).deploy.removeVolumesOnDestroy, true, '"true" is true');
    assert.equal(accepted(withKey(BASES.local(), "deploy.removeVolumesOnDestroy", "false")).deploy.removeVolumesOnDestroy, false, '"false" is false');
    assert.equal(accepted(withKey(BASES.alicloud(), "server.deletionProtection", "true")).server?.deletionProtection, true, "deletion protection on");
    assert.equal(accepted(withKey(BASES.local(), "app.roles.web.proxy", "false")).app.roles[0].proxy, false, 'proxy: "false" keeps the role off the proxy');
  });

  it("a value of the wrong type says what was expected: a domain, a host key, null", () => {
    refused(withKey(BASES.local(), "app.domain", 5), "pydeploy:app.domain", /^pydeploy:app\.domain: expected a domain name such as app\.example\.com, got 5$/);
    refused(withKey(BASES.existing(), "host.hostKey", 5), "pydeploy:host.hostKey", /^pydeploy:host\.hostKey: expected a host key line such as "ssh-ed25519 AAAAC3Nza…", got 5$/);
    refused(withKey(BASES.local(), "app.name", null), "pydeploy:app.name", /^pydeploy:app\.name: expected an app name, got null$/);
    refused({ ...BASES.existing(), host: {} }, "pydeploy:host.address", /^pydeploy:host\.address: expected a host name or IP address \(missing\)$/);
  });

  it("a bad record key reports every check it fails, joined by ;", () => {
    const name = "A".repeat(31);
    refused(
      { app: { ...validApp(), volumes: { [name]: { path: "/data" } } } },
      `pydeploy:app.volumes.${name}`,
      /: expected a volume name of at most 30 characters; expected a volume name: lowercase letters, digits and inner dashes, got "A{31}"$/,
    );
  });

  it("ConfigError: one message listing every problem on its own line, named ConfigError", () => {
    try {
      parseStackConfig(raw({ app: { ...validApp(), name: "Bad" }, target: "cloud" }));
      assert.fail("the config was accepted");
    } catch (err) {
      assert.ok(err instanceof ConfigError, `a ConfigError, got ${err}`);
      assert.equal(err.name, "ConfigError", "its name");
      assert.equal(
        err.message,
        'invalid stack configuration:\n  - pydeploy:target: expected local (this machine\'s Docker), existing (a server you have) or alicloud (a new ECS server), got "cloud"\n  - pydeploy:app.name: expected an app name: lowercase letters, digits and inner dashes, got "Bad"',
        "the message",
      );
    }
  });

  it("app.domain with several port roles: one problem, no guess at which role meant it", () => {
    const values = { ...BASES.local(), app: { ...validApp(), domain: "app.example.com", roles: { web: { command: ["run"], port: 8000, publish: 8080 }, api: { command: ["api"], port: 9000 } } } };
    assert.deepEqual(problemsOf(values), ["pydeploy:app.domain: applies to the one role with a port, but roles web, api have ports: set app.roles.<role>.domain instead"], "only the app.domain problem");
  });

  it("single mode: roles without a port share nothing", () => {
    const c = accepted({ ...BASES.local(), app: { ...validApp(), mode: "single", roles: { web: { command: ["run"], port: 8000 }, worker: { command: ["work"] }, beat: { command: ["beat"] } } } });
    assert.deepEqual(c.app.roles.map((r) => r.name), ["web", "worker", "beat"], "two roles without a port are fine");
  });

  it("the region must be a string of the region's form", () => {
    refused(BASES.alicloud(), "alicloud:region", /^alicloud:region: expected the Alibaba Cloud region.*, got \["cn-hangzhou"\]$/, { providerConfig: { "alicloud:region": ["cn-hangzhou"] } });
    refused(BASES.alicloud(), "alicloud:region", /got "ccn-hangzhou"$/, { providerConfig: { "alicloud:region": "ccn-hangzhou" } });
  });

  it("CIDR arithmetic: /0 keeps no host bits; a vSwitch block may equal the VPC's but not exceed it, for any prefix length", () => {
    refused(withKey(BASES.alicloud(), "server.sshAllowedCidrs", ["10.0.0.0/0"]), "pydeploy:server.sshAllowedCidrs.0", /expected a network address: 10\.0\.0\.0\/0 has host bits set, write 0\.0\.0\.0\/0/);
    refused(withKey(BASES.alicloud(), "server.vswitchCidr", "172.16.0.0/12"), "pydeploy:server.vswitchCidr", /expected a block inside server\.vpcCidr \(172\.16\.0\.0\/16\), got 172\.16\.0\.0\/12$/);
    assert.ok(accepted(withKey(BASES.alicloud(), "server.vswitchCidr", "172.16.0.0/16")).server, "the whole VPC as one vSwitch");
    assert.ok(accepted(withKey(withKey(BASES.alicloud(), "server.vpcCidr", "10.0.0.0/8"), "server.vswitchCidr", "10.200.0.0/16")).server, "a /16 inside a /8");
    refused(withKey(withKey(BASES.alicloud(), "server.vpcCidr", "10.0.0.0/8"), "server.vswitchCidr", "11.0.0.0/16"), "pydeploy:server.vswitchCidr", /expected a block inside server\.vpcCidr \(10\.0\.0\.0\/8\)/);
  });
});

describe("reading the project fails for a reason that is not the config's", () => {
  it("an I/O error while reading the dependency list propagates as is, not as a problem of some config key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-schema-io-"));
    try {
      // A symlink to itself: stat fails with ELOOP, an error of the file system, not a DependencyError.
      fs.symlinkSync("loop.txt", path.join(dir, "loop.txt"));
      assert.throws(
        () => parseStackConfig(raw({ app: { ...validApp(), path: dir, requirements: "loop.txt" } })),
        (err: unknown) => !(err instanceof ConfigError) && (err as NodeJS.ErrnoException).code === "ELOOP",
        "the ELOOP error itself",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
