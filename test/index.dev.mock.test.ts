// The program (index.ts) with the committed dev stack (Alibaba Cloud), under Pulumi mocks: the
// server with exactly the published port and SSH open, a warning about SSH, and the deploy
// steps after the server, pinned to its host key.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { SPEC_ENV } from "../components/deploy/spec";
import { committedStackConfig, importProgram } from "./support/mocks/program";
import {
  drainRegistrations,
  installMocks,
  isWireSecret,
  MOCK_PRIVATE_KEY_PEM,
  MOCK_PUBLIC_IP,
  recordRegistrations,
  reveal,
  valueOf,
  type Registration,
} from "./support/mocks/mocks";

const LOCAL_ID = `sha256:${"34".repeat(32)}`;
const T = {
  image: "docker:index/image:Image",
  instance: "alicloud:ecs/instance:Instance",
  sg: "alicloud:ecs/securityGroup:SecurityGroup",
  rule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
  server: "pydeploy:server:AlicloudServer",
  deployment: "pydeploy:deploy:AppDeployment",
  step: "command:local:Command",
};

const mocks = installMocks({
  stack: "dev",
  config: committedStackConfig("dev"),
  outputs: (r) => {
    if (r.type === T.image) return { repoDigest: LOCAL_ID };
    if (r.type === T.step && r.name.endsWith("-release")) return { stdout: 'pydeploy-result: {"version":"0123456789ab","containers":["demo-web-0123456789ab","demo-worker-0123456789ab"]}' };
    return undefined;
  },
});
const registrations = recordRegistrations();

// Config warnings go through pulumi.log.warn: stub it before the program runs.
const warnings: string[] = [];
const logModule = pulumi.log as { warn: (msg: string, ...rest: unknown[]) => Promise<void> };
const originalWarn = logModule.warn;
logModule.warn = (msg: string, ...rest: unknown[]) => {
  warnings.push(msg);
  return originalWarn(msg, ...rest);
};

let program: typeof import("../index");
before(async () => {
  program = await importProgram();
  await Promise.all([valueOf(program.containers), valueOf(program.commands), valueOf(program.appUrls), valueOf(program.imageDigest)]);
  await drainRegistrations();
});

const reg = (name: string): Registration => {
  const r = registrations.find((x) => x.name === name);
  assert.ok(r, `${name} registered`);
  return r;
};

describe("program, dev stack (alicloud)", () => {
  test("the server: one instance as configured, one security group", () => {
    const instances = mocks.byType(T.instance);
    assert.equal(instances.length, 1);
    const i = instances[0].inputs;
    assert.equal(i.instanceType, "ecs.t6-c1m2.large");
    assert.equal(i.internetMaxBandwidthOut, 2);
    assert.deepEqual([i.systemDiskCategory, i.systemDiskSize], ["cloud_efficiency", 40]);
    assert.deepEqual(i.tags, { "managed-by": "pydeploy", app: "demo", stack: "dev", env: "dev" });
    assert.equal(mocks.byType(T.sg).length, 1);
  });

  test("the security group opens exactly the published port 80 and SSH 22", () => {
    assert.deepEqual(mocks.byType(T.rule).map((r) => `${r.inputs.portRange} ${r.inputs.cidrIp}`).sort(), ["22/22 0.0.0.0/0", "80/80 0.0.0.0/0"]);
  });

  test("a warning says SSH is open to the internet", () => {
    const ssh = warnings.filter((w) => w.includes("pydeploy:server.sshAllowedCidrs is not set") && w.includes("0.0.0.0/0"));
    assert.equal(ssh.length, 1, `warnings: ${JSON.stringify(warnings)}`);
  });

  test("the deploy steps run after the server: the first waits for the instance and every SSH rule", () => {
    const steps = mocks.byType(T.step).map((r) => r.name);
    assert.deepEqual(steps, ["demo-host", "demo-ship", "demo-release"], "three steps");
    const deployment = registrations.find((r) => r.type === T.deployment)!;
    assert.ok(deployment.dependencies.includes(reg("demo-instance").urn), "AppDeployment dependsOn the server");
    const host = reg("demo-host");
    for (const rule of registrations.filter((r) => r.type === T.rule)) assert.ok(host.dependencies.includes(rule.urn), `host waits for ${rule.name}`);
    assert.ok(reg("demo-ship").dependencies.includes(host.urn), "ship after host");
    assert.ok(reg("demo-release").dependencies.includes(reg("demo-ship").urn), "release after ship");
  });

  test("every step targets the instance's public IP and pins the host key cloud-init installs; the key travels on secret stdin", async () => {
    const hostKey = await valueOf(program.hostKey!);
    assert.match(hostKey, /^ssh-ed25519 AAAA/, "an ed25519 host key");
    for (const r of mocks.byType(T.step)) {
      assert.deepEqual(JSON.parse(r.inputs.environment[SPEC_ENV]).target, { kind: "ssh", host: MOCK_PUBLIC_IP, port: 22, user: "root", hostKey }, `${r.name} target`);
      assert.equal(isWireSecret(r.inputs.stdin), true, `${r.name} stdin is secret`);
      assert.equal(JSON.parse(reveal(r.inputs.stdin)).privateKey, MOCK_PRIVATE_KEY_PEM, `${r.name} gets the generated key`);
    }
  });

  test("the app's image and the proxy's are built for linux/amd64 and not pushed (no registry)", () => {
    const images = mocks.byType(T.image).map((i) => [i.inputs.imageName, i.inputs.skipPush, i.inputs.build.platform]).sort();
    assert.deepEqual(images, [["pydeploy/demo-proxy:dev", true, "linux/amd64"], ["pydeploy/demo:dev", true, "linux/amd64"]], "two images");
  });

  test("outputs: the generated private key is secret; ssh, URLs and server facts name the public IP", async () => {
    assert.ok(program.sshPrivateKey, "sshPrivateKey is exported for a generated key");
    assert.equal(await pulumi.isSecret(program.sshPrivateKey), true);
    assert.equal(await valueOf(program.sshPrivateKey), MOCK_PRIVATE_KEY_PEM);
    const c = await valueOf(program.commands);
    assert.equal(c.ssh, `ssh -i ~/.ssh/pydeploy-demo-dev -p 22 root@${MOCK_PUBLIC_IP}`);
    assert.ok(c.ps.startsWith(`${c.ssh} `) && c.ps.includes("docker ps -a --filter label=pydeploy.app=demo"), c.ps);
    assert.deepEqual(await valueOf(program.appUrls), [`http://${MOCK_PUBLIC_IP}/`]);
    assert.equal(await valueOf(program.publicIp!), MOCK_PUBLIC_IP);
    assert.equal(await valueOf(program.instanceId!), reg("demo-instance").name + "-id");
    const containers = await valueOf(program.containers);
    assert.equal(containers.length, 2);
    assert.match(containers[0], /^demo-web-[0-9a-f]{12}$/);
    assert.match(containers[1], /^demo-worker-[0-9a-f]{12}$/);
  });
});
