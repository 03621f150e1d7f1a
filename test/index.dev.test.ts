// The program (index.ts) with the committed dev stack (Alibaba Cloud), under Pulumi mocks: the
// server with exactly the published port and SSH open, a warning about SSH, and the remote
// deploy steps in plan order after the server.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { planStepNames } from "../components/deploy/commands";
import { committedStackConfig, importProgram } from "./support/program";
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
} from "./support/mocks";

const LOCAL_ID = `sha256:${"34".repeat(32)}`;
const T = {
  image: "docker:index/image:Image",
  instance: "alicloud:ecs/instance:Instance",
  sg: "alicloud:ecs/securityGroup:SecurityGroup",
  rule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
  server: "pydeploy:server:AlicloudServer",
  remote: "pydeploy:deploy:RemoteDeployment",
  command: "command:remote:Command",
  copy: "command:remote:CopyToRemote",
  container: "docker:index/container:Container",
};

const mocks = installMocks({
  stack: "dev",
  config: committedStackConfig("dev"),
  outputs: (r) => {
    if (r.type === T.image) return { repoDigest: LOCAL_ID };
    // "present": the upload then needs no real `docker save`.
    if (r.type === T.command && r.name.endsWith("-probe")) return { stdout: "present" };
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

  test("the deploy steps exist in plan order, each after the one before", () => {
    const steps = planStepNames("copy");
    assert.deepEqual(
      mocks.resources.filter((r) => r.type === T.command || r.type === T.copy).map((r) => r.name).sort(),
      steps.map((s) => `demo-${s}`).sort(),
    );
    const remote = registrations.find((r) => r.type === T.remote)!;
    steps.forEach((step, i) => {
      const r = reg(`demo-${step}`);
      assert.equal(r.parent, remote.urn, `${step} is parented to the RemoteDeployment`);
      if (i > 0) assert.ok(r.dependencies.includes(reg(`demo-${steps[i - 1]}`).urn), `${step} depends on ${steps[i - 1]}`);
    });
  });

  test("the deploy depends on the server: the first step waits for the instance and the SSH rule", () => {
    const instance = reg("demo-instance").urn;
    const rules = registrations.filter((r) => r.type === T.rule).map((r) => r.urn);
    const remote = registrations.find((r) => r.type === T.remote)!;
    assert.ok(remote.dependencies.includes(instance), "RemoteDeployment dependsOn the server");
    const wait = reg("demo-wait");
    for (const urn of [instance, ...rules]) assert.ok(wait.dependencies.includes(urn), `wait depends on ${urn}`);
  });

  test("the steps connect to the instance's public IP with the generated key, as a secret", () => {
    for (const r of mocks.resources.filter((x) => x.type === T.command || x.type === T.copy)) {
      assert.equal(isWireSecret(r.inputs.connection), true, r.name);
      const c = reveal(r.inputs.connection);
      assert.deepEqual([c.host, c.port, c.user, c.privateKey], [MOCK_PUBLIC_IP, 22, "root", MOCK_PRIVATE_KEY_PEM], r.name);
    }
  });

  test("no local containers; the image is not pushed (no registry)", () => {
    assert.equal(mocks.byType(T.container).length, 0);
    const image = mocks.byType(T.image);
    assert.equal(image.length, 1);
    assert.equal(image[0].inputs.skipPush, true);
    assert.equal(image[0].inputs.imageName, "pydeploy/demo:dev");
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
