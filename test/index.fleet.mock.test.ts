// The program (index.ts) with several Alibaba Cloud servers, under Pulumi mocks: N = 1, 2 and 3
// of the committed dev stack (server.count). The load balancer, its listener, health check and
// backends, the security group's app port, the rolling order of the releases, the fleet's
// outputs; raising N only adds the new server's resources, lowering it removes only the last's,
// the balancer's hold on it first.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { execFileSync } from "node:child_process";
import { runFleetProgram, type FleetRun } from "./support/mocks/fleetRun";
import { isWireSecret, reveal } from "./support/mocks/mocks";

const T = {
  clb: "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
  group: "alicloud:slb/serverGroup:ServerGroup",
  attachment: "alicloud:slb/serverGroupServerAttachment:ServerGroupServerAttachment",
  listener: "alicloud:slb/listener:Listener",
  instance: "alicloud:ecs/instance:Instance",
  rule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
};

const CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBshop\n-----END CERTIFICATE-----\n";
const CERTIFICATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEshopkey\n-----END PRIVATE KEY-----\n";
/** The dev stack's roles, the web without its publish port: a domain's role takes none. */
const DOMAIN_ROLES = { web: { command: ["python", "-m", "demo.web"], port: 8000, healthcheck: { path: "/health" } }, worker: { command: ["python", "-m", "demo.worker"] } };
const runs: Record<string, FleetRun> = {};
before(async () => {
  const [one, two, three, threeByTwo, migrating, spread, https, withServices, zones] = await Promise.all([
    runFleetProgram(1),
    runFleetProgram(2),
    runFleetProgram(3),
    runFleetProgram(3, 2),
    runFleetProgram(3, 2, { app: { release: ["python", "-m", "demo.migrate"] } }),
    runFleetProgram(3, 1, { server: { vpcId: "vpc-given", vswitchIds: ["vsw-zonea", "vsw-zoneb"] } }),
    runFleetProgram(2, 1, { server: { loadBalancer: { certificate: CERTIFICATE } }, app: { domain: "shop.example.com", roles: DOMAIN_ROLES }, config: { "pydeploy:loadBalancerCertificateKey": CERTIFICATE_KEY } }),
    runFleetProgram(3, 2, { config: { "pydeploy:services": { db: { kind: "postgres", version: 16 }, cache: { kind: "redis", version: 7 } } } }),
    runFleetProgram(3, 1, { server: { zoneIds: ["cn-hangzhou-h", "cn-hangzhou-i"] } }),
  ]);
  Object.assign(runs, { one, two, three, threeByTwo, migrating, spread, https, withServices, zones });
});

const ofType = (run: FleetRun, type: string) => run.resources.filter((r) => r.type === type);
const urnOf = (run: FleetRun, name: string) => {
  const r = run.registrations.find((x) => x.name === name);
  assert.ok(r, `a registration named ${name}`);
  return r.urn;
};
const depsOf = (run: FleetRun, name: string) => run.registrations.find((x) => x.name === name)!.dependencies;
const appPortRules = (run: FleetRun) => ofType(run, T.rule).filter((r) => r.inputs.portRange === "80/80").map((r) => r.inputs.cidrIp);

describe("one server (N = 1): as before, no load balancer", () => {
  test("one instance, no CLB resources, port 80 open to the allowed clients, the server's own URL", () => {
    const run = runs.one;
    assert.deepEqual(ofType(run, T.instance).map((r) => r.name), ["demo-instance"], "one instance, its old name");
    for (const type of [T.clb, T.group, T.attachment, T.listener]) assert.equal(ofType(run, type).length, 0, `no ${type}`);
    assert.deepEqual(appPortRules(run), ["0.0.0.0/0"], "port 80 from appAllowedCidrs");
    assert.deepEqual(run.outputs.appUrls, ["http://203.0.113.10/"], "the server's address");
    assert.deepEqual([run.outputs.servers, run.outputs.fleetPs, run.outputs.loadBalancerAddress], [null, null, null], "no fleet outputs");
  });
});

for (const [label, n] of [["two", 2], ["three", 3]] as const) {
  describe(`${n} servers: behind Alibaba's CLB`, () => {
    test("one internet CLB, pay by spec, and one vServer group on it", () => {
      const run = runs[label];
      const [clb, ...more] = ofType(run, T.clb);
      assert.equal(more.length, 0, "one load balancer");
      assert.deepEqual(
        [clb.inputs.addressType, clb.inputs.loadBalancerSpec, clb.inputs.instanceChargeType, clb.inputs.internetChargeType, clb.inputs.loadBalancerName],
        ["internet", "slb.s1.small", "PayBySpec", "PayByTraffic", "demo-dev"],
        "its settings",
      );
      const groups = ofType(run, T.group);
      assert.deepEqual(groups.map((g) => g.inputs.loadBalancerId), ["demo-lb-id"], "one group, on that CLB");
    });

    test("an HTTP listener on 80, health-checked on the web role's path through the proxy, into the group", () => {
      const [listener, ...more] = ofType(runs[label], T.listener);
      assert.equal(more.length, 0, "one published port, one listener");
      const i = listener.inputs;
      assert.deepEqual([i.protocol, i.frontendPort, i.backendPort, i.loadBalancerId, i.serverGroupId], ["http", 80, 80, "demo-lb-id", "demo-lb-servers-id"], "80 to 80 through the group");
      assert.deepEqual([i.healthCheck, i.healthCheckUri, i.healthCheckConnectPort, i.healthCheckHttpCode], ["on", "/health", 80, "http_2xx,http_3xx"], "the health check");
      assert.deepEqual([i.healthCheckInterval, i.healthyThreshold, i.unhealthyThreshold, i.bandwidth], [2, 2, 2, -1], "fast in and out, no bandwidth cap of its own");
      assert.deepEqual(i.xForwardedFor, { retriveClientIp: true }, "the app sees the client's address in X-Forwarded-For");
    });

    test("every server is a backend on 80, by its own instance id, once", () => {
      const run = runs[label];
      const names = Array.from({ length: n }, (_, k) => (k === 0 ? "demo" : `demo-${k + 1}`));
      assert.deepEqual(ofType(run, T.instance).map((r) => r.name).sort(), names.map((m) => `${m}-instance`).sort(), `${n} instances`);
      const backends = ofType(run, T.attachment).map((a) => [a.name, a.inputs.serverId, a.inputs.port, a.inputs.serverGroupId, a.inputs.weight]);
      assert.deepEqual(backends.sort(), names.map((m) => [`${m}-lb-backend-80`, `${m}-instance-id`, 80, "demo-lb-servers-id", 100]).sort(), "one attachment per server");
      // A server joins once its first release passed: the balancer never sends users to an empty server.
      for (const m of names) assert.ok(depsOf(run, `${m}-lb-backend-80`).includes(urnOf(run, `${m}-release`)), `${m} joins after its release`);
    });

    test("the security group opens 80 to CLB's block only; SSH stays as configured", () => {
      const run = runs[label];
      assert.deepEqual(appPortRules(run), ["100.64.0.0/10"], "80 from 100.64.0.0/10, not from the internet");
      assert.deepEqual(ofType(run, T.rule).filter((r) => r.inputs.portRange === "22/22").map((r) => r.inputs.cidrIp), ["0.0.0.0/0"], "SSH for the deploy");
    });

    test("the releases roll one server at a time: each waits for the one before", () => {
      const run = runs[label];
      const releases = Array.from({ length: n }, (_, k) => (k === 0 ? "demo-release" : `demo-${k + 1}-release`));
      releases.forEach((release, k) => {
        const waitsForReleases = depsOf(run, release).filter((u) => u.endsWith("-release"));
        assert.deepEqual(waitsForReleases, k === 0 ? [] : [urnOf(run, releases[k - 1])], `${release} waits for ${k === 0 ? "nothing" : releases[k - 1]}`);
        // The servers its failure takes back: every earlier one, by address, without key material.
        const spec = JSON.parse(String(run.resources.find((r) => r.name === release)!.inputs.environment.PYDEPLOY_SPEC));
        assert.deepEqual((spec.earlier ?? []).map((t: { host: string }) => t.host), Array.from({ length: k }, (_, j) => `203.0.113.${10 + j}`), `${release}'s earlier servers`);
        assert.equal(JSON.stringify(spec.earlier ?? []).includes("PRIVATE KEY"), false, "no key in the spec");
      });
    });

    test("outputs: the CLB's URL; per server its address, containers and commands; docker ps across the fleet", () => {
      const { outputs } = runs[label];
      assert.deepEqual([outputs.appUrls, outputs.loadBalancerAddress], [["http://198.51.100.20/"], "198.51.100.20"], "users go through the balancer");
      assert.deepEqual(outputs.servers!.map((s) => [s.name, s.address]), Array.from({ length: n }, (_, k) => [k === 0 ? "demo" : `demo-${k + 1}`, `203.0.113.${10 + k}`]), "each server");
      for (const s of outputs.servers!) assert.match(s.commands.ps, new RegExp(`^ssh -i ~/\\.ssh/pydeploy-demo-dev -p 22 root@${s.address.replace(/\./g, "\\.")} 'docker ps -a --filter label=pydeploy\\.app=demo'$`), `${s.name}'s own ps`);
      // Run with a stand-in ssh that prints where it was asked to go.
      const fakeSsh = `ssh() { for a in "$@"; do case $a in root@*) echo "ps on \${a#root@}";; esac; done; }`;
      const printed = execFileSync("bash", ["-c", `${fakeSsh}; ${outputs.fleetPs}`], { encoding: "utf8" });
      assert.equal(printed, Array.from({ length: n }, (_, k) => `== server ${k + 1}\nps on 203.0.113.${10 + k}\n`).join(""), "every server, in order");
    });
  });
}

describe("growing and shrinking", () => {
  const urns = (run: FleetRun) => new Set(run.registrations.map((r) => r.urn));
  const inputsByUrn = (run: FleetRun) => new Map(run.registrations.map((r) => [r.urn, JSON.stringify(run.resources.find((x) => x.name === r.name && r.urn.endsWith(`::${x.name}`) && r.urn.includes(x.type))?.inputs ?? null)]));
  const THIRD = ["demo-3-host-key", "demo-3-instance", "demo-3", "demo-3-host", "demo-3-ship", "demo-3-release", "demo-3-lb-backend-80"];

  test("raising N from 2 to 3 adds exactly the third server's instance, host key, deployment and backend; nothing else changes", () => {
    const before2 = urns(runs.two);
    const added = [...urns(runs.three)].filter((u) => !before2.has(u)).map((u) => u.split("::").at(-1)!);
    assert.deepEqual(added.sort(), [...THIRD].sort(), "only the third server's resources are new");
    assert.equal([...before2].every((u) => urns(runs.three).has(u)), true, "nothing of the two servers goes away");
    const twoInputs = inputsByUrn(runs.two);
    const threeInputs = inputsByUrn(runs.three);
    const compared = [...twoInputs.values()].filter((v) => v !== "null").length;
    assert.ok(compared >= 20, `the inputs of every custom resource are compared (${compared})`);
    const changed = [...twoInputs.keys()].filter((u) => twoInputs.get(u) !== threeInputs.get(u)).map((u) => u.split("::").at(-1));
    assert.deepEqual(changed, [], "every resource the two servers had keeps its inputs: no update, no replacement");
  });

  test("lowering N from 3 to 2 removes exactly the third server's resources, the balancer's hold on it before its app and its instance", () => {
    const kept = urns(runs.two);
    const removed = [...urns(runs.three)].filter((u) => !kept.has(u)).map((u) => u.split("::").at(-1)!);
    assert.deepEqual(removed.sort(), [...THIRD].sort(), "the last server only; demo and demo-2 stay");
    // The engine deletes dependents first: backend (drained from the CLB), then the release, ship and host (whose delete removes the app), then the instance.
    const run = runs.three;
    assert.ok(depsOf(run, "demo-3-lb-backend-80").includes(urnOf(run, "demo-3-release")), "the backend goes before the release");
    assert.ok(depsOf(run, "demo-3-release").includes(urnOf(run, "demo-3-ship")), "the release before the ship");
    assert.ok(depsOf(run, "demo-3-ship").includes(urnOf(run, "demo-3-host")), "the ship before the host step, whose delete removes the app");
    assert.ok(depsOf(run, "demo-3-host").includes(urnOf(run, "demo-3-instance")), "the host step before the instance");
    assert.equal(depsOf(run, "demo-3-host").includes(urnOf(run, "demo-2-instance")), false, "the third server's app does not hang on another server");
  });
});

describe("rollingBatch", () => {
  test("three servers in batches of two: the first two release side by side, the third waits for both", () => {
    const run = runs.threeByTwo;
    const waits = (release: string) => depsOf(run, release).filter((u) => u.endsWith("-release")).sort();
    assert.deepEqual(waits("demo-release"), [], "first batch");
    assert.deepEqual(waits("demo-2-release"), [], "first batch, beside the first server");
    assert.deepEqual(waits("demo-3-release"), [urnOf(run, "demo-release"), urnOf(run, "demo-2-release")].sort(), "after the whole first batch");
  });
});

describe("a release command (migrations) in a fleet", () => {
  test("only the first server runs it, and the rest of its batch waits for it", () => {
    const run = runs.migrating;
    const spec = (name: string) => JSON.parse(String(run.resources.find((r) => r.name === name)!.inputs.environment.PYDEPLOY_SPEC));
    assert.deepEqual(spec("demo-release").releaseCommand?.command, ["python", "-m", "demo.migrate"], "the first server migrates");
    for (const name of ["demo-2-release", "demo-3-release"]) assert.equal(spec(name).releaseCommand, undefined, `${name} does not`);
    const waits = (release: string) => depsOf(run, release).filter((u) => u.endsWith("-release")).sort();
    assert.deepEqual(waits("demo-2-release"), [urnOf(run, "demo-release")], "the second server (same batch) after the first's migrations");
    assert.deepEqual(waits("demo-3-release"), [urnOf(run, "demo-release"), urnOf(run, "demo-2-release")].sort(), "the next batch after both");
  });
});

describe("server.vswitchIds", () => {
  test("three servers over two existing vSwitches, round robin; no vSwitch or VPC is created; the security group is in the given VPC", () => {
    const run = runs.spread;
    const byName = Object.fromEntries(ofType(run, T.instance).map((r) => [r.name, r.inputs.vswitchId]));
    assert.deepEqual(byName, { "demo-instance": "vsw-zonea", "demo-2-instance": "vsw-zoneb", "demo-3-instance": "vsw-zonea" }, "one vSwitch after the other");
    assert.equal(run.resources.filter((r) => r.type === "alicloud:vpc/switch:Switch" || r.type === "alicloud:vpc/network:Network").length, 0, "the network is the user's");
    assert.deepEqual(run.resources.filter((r) => r.type === "alicloud:ecs/securityGroup:SecurityGroup").map((r) => r.inputs.vpcId), ["vpc-given"], "the group in their VPC");
  });
});

describe("server.zoneIds", () => {
  test("three servers over two zones: one new vSwitch per zone in the new VPC, the first under its old name; the servers round robin", () => {
    const run = runs.zones;
    const switches = run.resources.filter((r) => r.type === "alicloud:vpc/switch:Switch").map((r) => [r.name, r.inputs.zoneId, r.inputs.cidrBlock]);
    assert.deepEqual(switches, [["demo-vswitch", "cn-hangzhou-h", "172.16.1.0/24"], ["demo-vswitch-2", "cn-hangzhou-i", "172.16.2.0/24"]], "a vSwitch per zone, the next block");
    const byName = Object.fromEntries(ofType(run, T.instance).map((r) => [r.name, r.inputs.vswitchId]));
    assert.deepEqual(byName, { "demo-instance": "demo-vswitch-id", "demo-2-instance": "demo-vswitch-2-id", "demo-3-instance": "demo-vswitch-id" }, "one zone after the other");
    assert.deepEqual(ofType(runs.three, T.instance).map((r) => r.inputs.vswitchId), Array(3).fill("demo-vswitch-id"), "without zoneIds: one vSwitch for all");
    const inputsOf = (r: FleetRun, name: string) => JSON.stringify(r.resources.find((x) => x.name === name)!.inputs);
    for (const name of ["demo-vswitch", "demo-instance", "demo-3-instance"]) {
      assert.equal(inputsOf(run, name), inputsOf(runs.three, name), `${name}: as in the one-zone stack whose zone comes first (moving to zones keeps it)`);
    }
  });
});

describe("HTTPS with several servers: it ends on the CLB", () => {
  test("the certificate uploaded, its key secret; HTTPS on 443 to the servers' 80, health-checked; 80 redirects to 443", () => {
    const run = runs.https;
    const [cert, ...more] = run.resources.filter((r) => r.type === "alicloud:slb/serverCertificate:ServerCertificate");
    assert.equal(more.length, 0, "one certificate");
    assert.equal(cert.inputs.serverCertificate, CERTIFICATE, "the chain as given");
    assert.equal(isWireSecret(cert.inputs.privateKey), true, "the key travels as a secret");
    assert.equal(reveal(cert.inputs.privateKey), CERTIFICATE_KEY, "the key as given");
    const byPort = Object.fromEntries(ofType(run, T.listener).map((l) => [l.inputs.frontendPort, l.inputs]));
    assert.deepEqual(Object.keys(byPort).sort(), ["443", "80"], "two listeners");
    const h = byPort[443];
    assert.deepEqual([h.protocol, h.backendPort, h.serverCertificateId, h.serverGroupId, h.healthCheckUri, h.healthCheckConnectPort], ["https", 80, "demo-lb-certificate-id", "demo-lb-servers-id", "/health", 80], "HTTPS to the servers' plain 80");
    const r = byPort[80];
    assert.deepEqual([r.protocol, r.listenerForward, r.forwardPort, r.serverGroupId], ["http", "on", 443, undefined], "80 only redirects");
  });

  test("each server serves the domain on plain HTTP 80 (no ACME there); 80 is open to CLB only, 443 not at all; the URL is https://<domain>/", () => {
    const run = runs.https;
    const release = JSON.parse(String(run.resources.find((r) => r.name === "demo-release")!.inputs.environment.PYDEPLOY_SPEC));
    assert.deepEqual(release.proxy.sites.map((s: { publishedPort?: number; domain?: string }) => [s.publishedPort, s.domain]), [[80, undefined]], "a plain site on 80");
    assert.equal(release.proxy.acme, undefined, "no ACME settings on the servers");
    assert.deepEqual(ofType(run, T.attachment).map((a) => [a.name, a.inputs.port]).sort(), [["demo-2-lb-backend-80", 80], ["demo-lb-backend-80", 80]], "both servers on 80");
    const appRules = ofType(run, T.rule).filter((r) => r.inputs.portRange !== "22/22").map((r) => [r.inputs.portRange, r.inputs.cidrIp]);
    assert.deepEqual(appRules, [["80/80", "100.64.0.0/10"]], "80 from CLB only");
    assert.deepEqual(run.outputs.appUrls, ["https://shop.example.com/"], "the domain");
  });
});

describe("services with several servers: containers on the first server, reached by the others at its private IP", () => {
  const specOf = (run: FleetRun, name: string) => JSON.parse(String(run.resources.find((r) => r.name === name)!.inputs.environment.PYDEPLOY_SPEC));
  test("one services step, on the first server, each port published on its private IP; the other servers resolve the services' names there", () => {
    const run = runs.withServices;
    assert.deepEqual(run.resources.filter((r) => r.name.endsWith("-services")).map((r) => r.name), ["demo-services"], "only the first server runs the services");
    const services = specOf(run, "demo-services").services;
    assert.deepEqual(services.map((s: { name: string; privatePort?: object }) => [s.name, s.privatePort]), [["db", { address: "172.16.1.10", port: 5432 }], ["cache", { address: "172.16.1.10", port: 6379 }]], "published on the first server's private IP");
    const first = specOf(run, "demo-release");
    assert.equal(first.settings.network, "demo-services", "the first server's app is on the services' network");
    assert.equal(first.settings.serviceHosts, undefined, "and needs no host entries");
    for (const name of ["demo-2-release", "demo-3-release"]) {
      const spec = specOf(run, name);
      assert.deepEqual(spec.settings.serviceHosts, [{ name: "db", address: "172.16.1.10" }, { name: "cache", address: "172.16.1.10" }], `${name}: db and cache at the first server`);
      assert.equal(spec.settings.network, undefined, `${name}: no services network of its own`);
      assert.equal(spec.services, undefined, `${name}: nothing to wait for or snapshot on this server`);
    }
  });

  test("every server gets the same URLs, by the services' names; the others' releases wait for the services step", () => {
    const run = runs.withServices;
    const envOf = (name: string) => JSON.parse(reveal(run.resources.find((r) => r.name === name)!.inputs.stdin)).env;
    const urls = ["demo-release", "demo-2-release", "demo-3-release"].map((n) => [envOf(n).DATABASE_URL, envOf(n).REDIS_URL]);
    assert.match(urls[0][0], /^postgres:\/\/demo:[^@]*@db:5432\/demo$/, "PostgreSQL by its name");
    assert.match(urls[0][1], /^redis:\/\/:[^@]*@cache:6379(\/0)?$/, "Redis by its name");
    assert.deepEqual(urls[1], urls[0], "the second server: the same URLs");
    assert.deepEqual(urls[2], urls[0], "the third server: the same URLs");
    const servicesUrn = urnOf(run, "demo-services");
    assert.ok(depsOf(run, "demo-2-release").includes(servicesUrn), "the second server (first batch) waits for the services");
    assert.ok(depsOf(run, "demo-3-release").includes(servicesUrn), "so does the third");
  });

  test("the service ports open to the servers of the security group only, never to a CIDR", () => {
    const run = runs.withServices;
    const rules = ofType(run, T.rule).filter((r) => ["5432/5432", "6379/6379"].includes(r.inputs.portRange));
    assert.deepEqual(rules.map((r) => [r.name, r.inputs.sourceSecurityGroupId, r.inputs.cidrIp]).sort(), [
      ["demo-allow-tcp-5432-from-fleet", "demo-sg-id", undefined],
      ["demo-allow-tcp-6379-from-fleet", "demo-sg-id", undefined],
    ], "one rule per port, the group as the source");
    assert.equal(ofType(runs.three, T.rule).filter((r) => r.inputs.sourceSecurityGroupId !== undefined).length, 0, "no services, no such rule");
  });

  test("psql and redis-cli are in the first server's commands only", () => {
    const servers = runs.withServices.outputs.servers as unknown as { commands: { psql?: Record<string, string>; redisCli?: Record<string, string> } }[];
    assert.deepEqual(Object.keys(servers[0].commands.psql ?? {}), ["db"], "psql on the first");
    assert.deepEqual(Object.keys(servers[0].commands.redisCli ?? {}), ["cache"], "redis-cli on the first");
    assert.equal(Object.keys(servers[1].commands.psql ?? {}).length, 0, "none on the second");
  });
});
