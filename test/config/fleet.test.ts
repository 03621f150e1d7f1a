// Several servers in the stack config (components/config/fleet.ts, host.ts, server.ts): the
// counts and their bounds, the rolling batch, and what a fleet refuses before anything is created.
// Each bad input names its key and says what was expected.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseStackConfig, type StackConfig } from "../../components/config/schema";
import { zoneSwitchesOf } from "../../components/config/server";
import { REPO_ROOT } from "../support/docker/localEngine";

type Values = Record<string, unknown>;
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

const app = (over: Values = {}) => ({
  name: "demo",
  path: "example",
  roles: {
    web: { command: ["python", "-m", "demo.web"], port: 8000, publish: 80, healthcheck: { path: "/health" } },
    worker: { command: ["python", "-m", "demo.worker"] },
  },
  ...over,
});
const alicloud = (server: Values, over: Values = {}): Values => ({ target: "alicloud", app: app(), server: { sshAllowedCidrs: ["203.0.113.0/24"], ...server }, ...over });
const existing = (hosts: Values[], over: Values = {}): Values => ({ target: "existing", app: app(), hosts, sshPrivateKey: KEY, ...over });
const host = (address: string, over: Values = {}) => ({ address, hostKey: HOST_KEY, ...over });

function parse(values: Values, stack = "dev"): StackConfig {
  return parseStackConfig({ stack, values, providerConfig: { "alicloud:region": "cn-hangzhou" }, baseDir: REPO_ROOT });
}

function problemsOf(values: Values, stack = "dev"): string[] {
  try {
    parse(values, stack);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail(`the config was accepted: ${JSON.stringify(values).slice(0, 300)}`);
}

/** Refused with a problem on `key` matching `pattern`. */
function refused(values: Values, key: string, pattern: RegExp, stack = "dev"): void {
  const problems = problemsOf(values, stack);
  const hit = problems.find((p) => p.startsWith(`pydeploy:${key}: `));
  assert.ok(hit, `no problem names pydeploy:${key}; got:\n${problems.join("\n")}`);
  assert.match(hit, pattern, `the problem on ${key} says what was expected`);
}

describe("server.count and the load balancer (target alicloud)", () => {
  it("count: 1 by default, 1 to 20; the load balancer is on by default from 2 servers, and can be turned off or sized", () => {
    assert.deepEqual([parse(alicloud({})).server!.count, parse(alicloud({})).server!.loadBalancer], [1, { enabled: false, spec: "slb.s1.small" }], "one server, no balancer");
    assert.deepEqual([parse(alicloud({ count: 3 })).server!.count, parse(alicloud({ count: 3 })).server!.loadBalancer], [3, { enabled: true, spec: "slb.s1.small" }], "three servers, a balancer");
    assert.equal(parse(alicloud({ count: "2" })).server!.count, 2, "a string count from `pulumi config set` is a number");
    assert.deepEqual(parse(alicloud({ count: 2, loadBalancer: { enabled: false } })).server!.loadBalancer, { enabled: false, spec: "slb.s1.small" }, "turned off (the user's own balancer)");
    assert.deepEqual(parse(alicloud({ loadBalancer: { enabled: true, spec: "slb.s2.small" } })).server!.loadBalancer, { enabled: true, spec: "slb.s2.small" }, "one server behind a balancer, sized");
    refused(alicloud({ count: 0 }), "server.count", /expected a server count from 1 to 20, got 0/);
    refused(alicloud({ count: 21 }), "server.count", /expected a server count from 1 to 20, got 21/);
    refused(alicloud({ count: 1.5 }), "server.count", /expected a server count from 1 to 20/);
    refused(alicloud({ loadBalancer: { spec: "big" } }), "server.loadBalancer.spec", /expected a CLB spec such as slb\.s1\.small/);
  });

  it("zoneIds: a new vSwitch per zone, at vswitchCidr and the blocks after it, each zone once, inside the VPC, not with a zone or vSwitch of its own", () => {
    const c = parse(alicloud({ count: 3, zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"] }));
    assert.deepEqual(zoneSwitchesOf(c.server!), [
      { zoneId: "cn-hangzhou-h", cidrBlock: "172.16.1.0/24" },
      { zoneId: "cn-hangzhou-i", cidrBlock: "172.16.2.0/24" },
      { zoneId: "cn-hangzhou-j", cidrBlock: "172.16.3.0/24" },
    ], "one block of the same size after the other");
    assert.deepEqual(zoneSwitchesOf(parse(alicloud({ count: 2, zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"], vswitchCidr: "10.0.255.0/24", vpcCidr: "10.0.0.0/8" })).server!).map((z) => z.cidrBlock), ["10.0.255.0/24", "10.1.0.0/24"], "across an octet");
    refused(alicloud({ count: 2, zoneIds: ["cn-hangzhou-h"] }), "server.zoneIds", /expected two or more zone ids \(one is server\.zoneId\)/);
    refused(alicloud({ count: 2, zoneIds: ["cn-hangzhou-h", "cn-hangzhou-h"] }), "server.zoneIds", /lists cn-hangzhou-h twice: each zone once/);
    refused(alicloud({ count: 2, zoneId: "cn-hangzhou-h", zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"] }), "server.zoneIds", /is set together with server\.zoneId/);
    refused(alicloud({ count: 2, vpcId: "vpc-a1", vswitchIds: ["vsw-a1", "vsw-b1"], zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"] }), "server.zoneIds", /is set together with server\.vswitchIds/);
    refused(alicloud({ count: 2, zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"], vswitchCidr: "172.16.255.0/24" }), "server.vswitchCidr", /gives the vSwitch blocks 172\.16\.255\.0\/24, 172\.17\.0\.0\/24 for 2 zones, but 172\.17\.0\.0\/24 is not inside server\.vpcCidr \(172\.16\.0\.0\/16\)/);
    assert.ok(parse(alicloud({ count: 1, zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"] })).warnings.some((w) => /server\.zoneIds lists 2 zones for 1 server\(s\): the last 1 get none/.test(w)), "more zones than servers: a warning");
  });

  it("vswitchIds: two or more existing vSwitches to spread over, each once, in a given VPC, not with vswitchId", () => {
    assert.deepEqual(parse(alicloud({ count: 2, vpcId: "vpc-a1", vswitchIds: ["vsw-a1", "vsw-b1"] })).server!.vswitchIds, ["vsw-a1", "vsw-b1"], "two vSwitches");
    refused(alicloud({ count: 2, vpcId: "vpc-a1", vswitchIds: ["vsw-a1"] }), "server.vswitchIds", /expected two or more vSwitch ids \(one is server\.vswitchId\)/);
    refused(alicloud({ count: 2, vpcId: "vpc-a1", vswitchIds: ["vsw-a1", "vsw-a1"] }), "server.vswitchIds", /lists vsw-a1 twice: each vSwitch once/);
    refused(alicloud({ count: 2, vpcId: "vpc-a1", vswitchId: "vsw-a1", vswitchIds: ["vsw-a1", "vsw-b1"] }), "server.vswitchIds", /is set together with server\.vswitchId/);
    refused(alicloud({ count: 2, vswitchIds: ["vsw-a1", "vsw-b1"] }), "server.vpcId", /is needed with server\.vswitchIds to create the security group in their VPC/);
    const few = parse(alicloud({ count: 2, vpcId: "vpc-a1", vswitchIds: ["vsw-a1", "vsw-b1", "vsw-c1"] }));
    assert.ok(few.warnings.some((w) => /server\.vswitchIds lists 3 vSwitches for 2 server\(s\): the last 1 get none/.test(w)), `a warning: ${few.warnings.join("\n")}`);
  });

  it("count with target local (or existing) is refused: server belongs to alicloud", () => {
    refused({ app: app(), server: { count: 2 } }, "server", /is only used with target alicloud, but target is local/);
    refused({ ...existing([host("203.0.113.5")]), server: { count: 2 } }, "server", /is only used with target alicloud, but target is existing/);
  });
});

describe("hosts (target existing)", () => {
  it("a list of servers, each with its own host key, in release order; host is a list of one", () => {
    const c = parse(existing([host("203.0.113.5"), host("203.0.113.6", { port: 2222, user: "deploy" })]));
    assert.deepEqual(c.hosts, [{ address: "203.0.113.5", port: 22, user: "root", hostKey: HOST_KEY }, { address: "203.0.113.6", port: 2222, user: "deploy", hostKey: HOST_KEY }], "both, in order, with defaults");
    assert.deepEqual(parse({ target: "existing", app: app(), host: host("203.0.113.9"), sshPrivateKey: KEY }).hosts.map((h) => h.address), ["203.0.113.9"], "host is one server");
  });

  it("a server listed twice is refused, naming both places (also on another SSH port, or in another case)", () => {
    refused(existing([host("203.0.113.5"), host("203.0.113.6"), host("203.0.113.5")]), "hosts[2]", /203\.0\.113\.5 is listed twice \(hosts\[0\] and hosts\[2\]\): each server is deployed to once, so list it once/);
    refused(existing([host("app.example.com"), host("APP.example.com", { port: 2222 })]), "hosts[1]", /APP\.example\.com is listed twice \(hosts\[0\] and hosts\[1\]\)/);
  });

  it("host and hosts together, hosts outside target existing, and an empty list are refused", () => {
    refused({ ...existing([host("203.0.113.5")]), host: host("203.0.113.6") }, "hosts", /is set together with host: list one server under host, or several under hosts/);
    refused({ app: app(), hosts: [host("203.0.113.5")] }, "hosts", /is only used with target existing, but target is local/);
    refused(existing([]), "hosts", /expected at least one host/);
  });

  it("each host key: a warning naming hosts[i] in development, required in production", () => {
    const c = parse(existing([host("203.0.113.5"), { address: "203.0.113.6" }]));
    const warning = c.warnings.find((w) => w.startsWith("pydeploy:hosts[1].hostKey is not set"));
    assert.ok(warning, `a warning on hosts[1].hostKey; got ${c.warnings.join("\n")}`);
    assert.match(warning, /ssh-keyscan -t ed25519 203\.0\.113\.6.*pulumi config set --path 'pydeploy:hosts\[1\]\.hostKey'/, "how to pin it, the key path quoted for the shell");
    assert.equal(c.warnings.some((w) => w.includes("hosts[0].hostKey")), false, "hosts[0] has its key");
    refused(existing([host("203.0.113.5"), { address: "203.0.113.6" }]), "hosts[1].hostKey", /is required in production/, "prod");
  });
});

describe("what several servers refuse, before anything is created", () => {
  it("a rolling batch larger than the fleet", () => {
    refused(alicloud({ count: 2 }, { deploy: { rollingBatch: 3 } }), "deploy.rollingBatch", /^pydeploy:deploy\.rollingBatch: is 3, but the stack has 2 servers \(server\.count\): expected 1 to 2$/);
    refused(existing([host("203.0.113.5"), host("203.0.113.6"), host("203.0.113.7")], { deploy: { rollingBatch: 4 } }), "deploy.rollingBatch", /is 4, but the stack has 3 servers \(hosts\): expected 1 to 3/);
    refused({ app: app(), deploy: { rollingBatch: 2 } }, "deploy.rollingBatch", /is 2, but the stack has one server \(target local\): expected 1 to 1/);
    refused({ app: app(), deploy: { rollingBatch: 0 } }, "deploy.rollingBatch", /expected servers per batch, from 1 to 20/);
    assert.equal(parse(alicloud({ count: 3 }, { deploy: { rollingBatch: 3 } })).deploy.rollingBatch, 3, "the whole fleet at once is allowed");
  });

  it("a volume (a SQLite database, say) with several servers, on either target", () => {
    const withVolume = app({ volumes: { db: { path: "/data", roles: ["web"] } } });
    refused(alicloud({ count: 2 }, { app: withVolume }), "app.volumes.db", /lives on one server, but server\.count gives 2 servers: each would keep its own copy, so a SQLite database or uploads would split between them\. Keep the data in a service/);
    refused(existing([host("203.0.113.5"), host("203.0.113.6")], { app: withVolume }), "app.volumes.db", /but hosts gives 2 servers/);
    assert.deepEqual(Object.keys(parse(alicloud({}, { app: withVolume })).app.volumes), ["db"], "one server keeps its volume");
  });

  it("service containers with several servers live on the first one; on your own hosts its private IP is required; a managed one is fine", () => {
    const cache = { services: { cache: { kind: "redis", version: 7 } } };
    assert.deepEqual(parse(alicloud({ count: 2 }, cache)).services.map((s) => [s.name, s.managed]), [["cache", false]], "alicloud knows each server's private IP");
    const hosts = [host("203.0.113.5", { privateIp: "10.0.0.5" }), host("203.0.113.6")];
    assert.equal(parse(existing(hosts, cache)).hosts[0].privateIp, "10.0.0.5", "the first host's private IP is kept");
    refused(existing([host("203.0.113.5"), host("203.0.113.6")], cache), "hosts[0].privateIp", /is required with 2 servers and the service cache: they run on the first host, and the others reach them at its private IP address/);
    const both = { services: { db: { kind: "postgres", version: 16 }, cache: { kind: "redis", version: 7 } } };
    refused(existing([host("203.0.113.5"), host("203.0.113.6")], both), "hosts[0].privateIp", /is required with 2 servers and the services db, cache: they run on the first host/);
    refused(existing([host("203.0.113.5", { privateIp: "db.internal" }), host("203.0.113.6")], cache), "hosts.0.privateIp", /expected the server's private IP address, such as 10\.0\.0\.5/);
    assert.equal(parse(existing([host("203.0.113.5")], cache)).hosts.length, 1, "one host needs no private IP");
    const quiet = { services: { sidecar: { kind: "accessory", image: "busybox:1" } } };
    assert.equal(parse(existing([host("203.0.113.5"), host("203.0.113.6")], quiet)).services.length, 1, "an accessory without a port is reached by nobody else: no private IP needed");
    const onPort = app({ roles: { web: { command: ["python", "-m", "demo.web"], port: 8000, publish: 6379 } } });
    refused(alicloud({ count: 2 }, { ...cache, app: onPort }), "services.cache", /listens on port 6379 of the first server for the other servers, but role web publishes port 6379 there/);
    const managed = parse(alicloud({ count: 2 }, { services: { db: { kind: "postgres", version: 16, managed: true } } }));
    assert.deepEqual(managed.services.map((s) => [s.name, s.managed]), [["db", true]], "a managed database serves every server");
  });

  it("a domain on several servers of your own is refused: the ACME challenge may land on another server", () => {
    const ownDomain = app({ roles: { web: { command: ["python", "-m", "demo.web"], port: 8000, domain: "shop.example.com" } } });
    refused(existing([host("203.0.113.5"), host("203.0.113.6")], { app: ownDomain }), "app.roles.web.domain", /ACME HTTP challenge on the server, which with 2 servers may land on another one\. HTTPS for several servers ends on a load balancer/);
  });
});

describe("HTTPS on the CLB (alicloud)", () => {
  const CERT = "-----BEGIN CERTIFICATE-----\nMIIBshop\n-----END CERTIFICATE-----\n";
  const KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n";
  const web = { command: ["python", "-m", "demo.web"], port: 8000, healthcheck: { path: "/health" } };
  const withDomain = app({ domain: "shop.example.com", roles: { web, worker: { command: ["python", "-m", "demo.worker"] } } });

  it("a domain behind the CLB with its certificate and key is accepted; the key stays with the secrets", () => {
    const c = parse(alicloud({ count: 2, loadBalancer: { certificate: CERT } }, { app: withDomain, loadBalancerCertificateKey: KEY_PEM }));
    assert.equal(c.server!.loadBalancer.certificate, CERT, "the chain");
    assert.equal(c.secrets.loadBalancerCertificateKey, KEY_PEM, "the key, a secret");
  });

  it("a domain behind the CLB without a certificate, and the certificate and its key apart, are refused", () => {
    refused(alicloud({ count: 2 }, { app: withDomain }), "app.domain", /is behind the load balancer, where HTTPS ends: set server\.loadBalancer\.certificate .* and the secret loadBalancerCertificateKey/);
    refused(alicloud({ count: 2, loadBalancer: { certificate: CERT } }, { app: withDomain }), "loadBalancerCertificateKey", /is required with server\.loadBalancer\.certificate/);
    refused(alicloud({ count: 2 }, { app: withDomain, loadBalancerCertificateKey: KEY_PEM }), "loadBalancerCertificateKey", /is set but server\.loadBalancer\.certificate is not/);
    refused(alicloud({ count: 2, loadBalancer: { certificate: "not a pem" } }, { app: withDomain, loadBalancerCertificateKey: KEY_PEM }), "server.loadBalancer.certificate", /expected a PEM certificate/);
  });

  it("one server with a domain, balancer off, keeps ACME on the server: accepted, also with a second domain", () => {
    const c = parse(alicloud({}, { app: withDomain }));
    assert.deepEqual([c.server!.loadBalancer.enabled, c.app.roles.find((r) => r.name === "web")!.domain], [false, "shop.example.com"], "no balancer, the domain on the server");
    const twoDomains = app({ roles: { web: { ...web, domain: "shop.example.com" }, api: { command: ["python", "-m", "demo.api"], port: 9000, domain: "api.example.com" } } });
    assert.equal(parse(alicloud({}, { app: twoDomains })).app.roles.filter((r) => r.domain).length, 2, "two domains on one server");
  });

  it("the certificate's key on a target without a balancer is refused, naming what it belongs to", () => {
    refused(existing([host("203.0.113.5")], { loadBalancerCertificateKey: KEY_PEM }), "loadBalancerCertificateKey", /is set but server\.loadBalancer\.certificate is not/);
  });

  it("a certificate without a domain, or without the balancer, and a second domain behind it are refused", () => {
    refused(alicloud({ count: 2, loadBalancer: { certificate: CERT } }, { loadBalancerCertificateKey: KEY_PEM }), "server.loadBalancer.certificate", /is set but no role has a domain/);
    refused(alicloud({ loadBalancer: { certificate: CERT } }, { app: withDomain, loadBalancerCertificateKey: KEY_PEM }), "server.loadBalancer.certificate", /is set but the load balancer is off/);
    const twoDomains = app({ roles: { web: { ...web, domain: "shop.example.com" }, api: { command: ["python", "-m", "demo.api"], port: 9000, domain: "api.example.com" } } });
    refused(alicloud({ count: 2, loadBalancer: { certificate: CERT } }, { app: twoDomains, loadBalancerCertificateKey: KEY_PEM }), "app.roles.api.domain", /is a second domain behind the load balancer \(web has shop\.example\.com\)/);
  });
});
