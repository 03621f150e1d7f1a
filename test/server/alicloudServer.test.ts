import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  captureUnhandledRejections,
  installMocks,
  MOCK_IMAGE_ID,
  MOCK_INSTANCE_TYPE,
  MOCK_PRIVATE_IP,
  MOCK_PRIVATE_KEY_PEM,
  MOCK_PUBLIC_IP,
  MOCK_PUBLIC_KEY,
  MOCK_ZONE,
  recordChildren,
  TOKENS,
  valueOf,
  type RecordedResource,
} from "../support/mocks";
import { ALIYUN_DOCKER_CE_MIRROR } from "../../components/server/dockerInstall";
import type { AlicloudServer, AlicloudServerArgs } from "../../components/server/alicloudServer";

const T = {
  vpc: "alicloud:vpc/network:Network",
  vswitch: "alicloud:vpc/switch:Switch",
  sg: "alicloud:ecs/securityGroup:SecurityGroup",
  rule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
  keyPair: "alicloud:ecs/ecsKeyPair:EcsKeyPair",
  instance: "alicloud:ecs/instance:Instance",
  tlsKey: "tls:index/privateKey:PrivateKey",
};

// Lookups named here answer "nothing found", to exercise the error messages.
const emptyLookups = new Set<string>();
let instanceTypesAnswer: Record<string, any> | undefined;
const mocks = installMocks({
  stack: "dev",
  calls: (token) => {
    if (token === TOKENS.getInstanceTypes && instanceTypesAnswer) return instanceTypesAnswer;
    if (!emptyLookups.has(token)) return undefined;
    if (token === TOKENS.getZones) return { id: "zones", ids: [], zones: [] };
    if (token === TOKENS.getImages) return { id: "images", ids: [], images: [] };
    if (token === TOKENS.getInstanceTypes) return { id: "types", ids: [], instanceTypes: [] };
    if (token === TOKENS.getSwitches) return { id: "vswitches", ids: [], vswitches: [] };
    return undefined;
  },
  // A server without bandwidth has no public IP, as on Alibaba Cloud.
  outputs: (r) => (r.type === T.instance && r.inputs.internetMaxBandwidthOut === 0 ? { publicIp: "" } : undefined),
});

let Server: typeof AlicloudServer;
before(async () => {
  ({ AlicloudServer: Server } = await import("../../components/server/alicloudServer"));
});

const PINNED = { imageId: "m-pinned-image", instanceType: "ecs.c7.large", zoneId: "cn-shanghai-l" } as const;

function args(over: Partial<AlicloudServerArgs> = {}): AlicloudServerArgs {
  return {
    cpuCores: 2,
    memoryGb: 4,
    imageNameRegex: "^ubuntu_22_04_x64_20G_alibase_",
    vpcCidr: "172.16.0.0/16",
    vswitchCidr: "172.16.1.0/24",
    internetMaxBandwidthOut: 10,
    systemDisk: { category: "cloud_essd", sizeGb: 40 },
    tags: { app: "demo", env: "dev" },
    deletionProtection: false,
    ssh: { port: 22, user: "root", allowedCidrs: ["0.0.0.0/0"] },
    appPorts: [{ port: 8000, allowedCidrs: ["0.0.0.0/0"] }],
    cloudInit: { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: [] },
    ...over,
  };
}

let counter = 0;
/** Creates a server under a fresh name and waits for everything it registers. */
async function create(over: Partial<AlicloudServerArgs> = {}, opts?: pulumi.ComponentResourceOptions) {
  const name = `srv${++counter}`;
  const firstCall = mocks.calls.length;
  const server = new Server(name, args(over), opts);
  await settle(server);
  const mine = (type: string) => mocks.byType(type).filter((r) => r.name.startsWith(`${name}-`));
  return { name, server, mine, calls: () => mocks.calls.slice(firstCall) };
}

function settle(s: AlicloudServer) {
  return Promise.all([
    valueOf(s.instanceId), valueOf(s.publicIp), valueOf(s.privateIp), valueOf(s.securityGroupId),
    valueOf(s.connection), valueOf(s.privateKey), valueOf(s.sshCommand), valueOf(s.urn),
  ]);
}

const one = (rs: RecordedResource[]): RecordedResource => {
  assert.equal(rs.length, 1, `expected exactly one resource, got ${rs.map((r) => r.name).join(", ") || "none"}`);
  return rs[0];
};

describe("security group rules", () => {
  test("open exactly the published ports x CIDRs plus SSH x CIDRs, nothing else", async () => {
    const { name, mine } = await create({
      ...PINNED,
      ssh: { port: 2222, user: "deploy", allowedCidrs: ["198.51.100.0/24", "203.0.113.7/32"] },
      appPorts: [
        { port: 8000, allowedCidrs: ["0.0.0.0/0"] },
        { port: 8443, allowedCidrs: ["198.51.100.0/24", "192.0.2.0/24"] },
      ],
    });
    const sg = one(mine(T.sg));
    const rules = mine(T.rule);
    const seen = rules.map((r) => `${r.inputs.portRange} ${r.inputs.cidrIp}`).sort();
    assert.deepEqual(seen, [
      "2222/2222 198.51.100.0/24",
      "2222/2222 203.0.113.7/32",
      "8000/8000 0.0.0.0/0",
      "8443/8443 192.0.2.0/24",
      "8443/8443 198.51.100.0/24",
    ]);
    for (const r of rules) {
      assert.equal(r.inputs.type, "ingress");
      assert.equal(r.inputs.ipProtocol, "tcp");
      assert.equal(r.inputs.nicType, "intranet");
      assert.equal(r.inputs.policy, "accept");
      assert.equal(r.inputs.securityGroupId, sg.id);
    }
    assert.deepEqual(
      rules.map((r) => r.name).sort(),
      [`${name}-port-8000-0`, `${name}-port-8443-0`, `${name}-port-8443-1`, `${name}-ssh-2222-0`, `${name}-ssh-2222-1`],
    );
  });

  test("prod-like args: SSH is open only to the given CIDRs, never 0.0.0.0/0", async () => {
    const { mine } = await create({
      ...PINNED,
      ssh: { port: 22, user: "root", allowedCidrs: ["198.51.100.10/32"] },
      appPorts: [{ port: 443, allowedCidrs: ["0.0.0.0/0"] }],
    });
    const rules = mine(T.rule);
    const ssh = rules.filter((r) => r.inputs.portRange === "22/22");
    assert.deepEqual(ssh.map((r) => r.inputs.cidrIp), ["198.51.100.10/32"]);
    const world = rules.filter((r) => r.inputs.cidrIp === "0.0.0.0/0");
    assert.deepEqual(world.map((r) => r.inputs.portRange), ["443/443"]);
  });

  test("a (port, CIDR) pair given twice is opened once", async () => {
    const { name, mine } = await create({
      ...PINNED,
      ssh: { port: 22, user: "root", allowedCidrs: ["198.51.100.0/24", "198.51.100.0/24"] },
      appPorts: [
        { port: 8000, allowedCidrs: ["0.0.0.0/0"] },
        { port: 8000, allowedCidrs: ["0.0.0.0/0", "192.0.2.0/24"] },
        { port: 22, allowedCidrs: ["198.51.100.0/24"] },
      ],
    });
    assert.deepEqual(
      mine(T.rule).map((r) => `${r.name} ${r.inputs.portRange} ${r.inputs.cidrIp}`).sort(),
      [`${name}-port-8000-0 8000/8000 0.0.0.0/0`, `${name}-port-8000-1 8000/8000 192.0.2.0/24`, `${name}-ssh-22-0 22/22 198.51.100.0/24`],
    );
  });

  test("no published ports: only the SSH rule", async () => {
    const { mine } = await create({ ...PINNED, appPorts: [], ssh: { port: 22, user: "root", allowedCidrs: ["192.0.2.1/32"] } });
    assert.deepEqual(mine(T.rule).map((r) => `${r.inputs.portRange} ${r.inputs.cidrIp}`), ["22/22 192.0.2.1/32"]);
  });
});

describe("instance and key pair", () => {
  test("instance args: image, type, vswitch/zone, bandwidth, disk, tags, protection, cloud-init", async () => {
    const { name, mine, server } = await create({
      ...PINNED,
      internetMaxBandwidthOut: 5,
      systemDisk: { category: "cloud_auto", sizeGb: 60 },
      tags: { app: "shop", env: "prod" },
      deletionProtection: true,
      cloudInit: { mirror: "https://mirrors.cloud.aliyuncs.com/docker-ce", registryMirrors: ["https://r.example.com"] },
    });
    const vpc = one(mine(T.vpc));
    const vswitch = one(mine(T.vswitch));
    const sg = one(mine(T.sg));
    const keyPair = one(mine(T.keyPair));
    const instance = one(mine(T.instance));
    assert.equal(vpc.inputs.cidrBlock, "172.16.0.0/16");
    assert.equal(vpc.inputs.vpcName, `${name}-dev`);
    assert.deepEqual(
      [vswitch.inputs.vpcId, vswitch.inputs.cidrBlock, vswitch.inputs.zoneId, vswitch.inputs.vswitchName],
      [vpc.id, "172.16.1.0/24", PINNED.zoneId, `${name}-dev`],
    );
    assert.deepEqual([sg.inputs.vpcId, sg.inputs.securityGroupName], [vpc.id, `${name}-dev`]);

    const i = instance.inputs;
    assert.equal(i.imageId, PINNED.imageId);
    assert.equal(i.instanceType, PINNED.instanceType);
    assert.equal(i.vswitchId, vswitch.id);
    assert.deepEqual(i.securityGroups, [sg.id]);
    assert.equal(i.keyName, keyPair.inputs.keyPairName);
    assert.equal(i.internetMaxBandwidthOut, 5);
    assert.equal(i.internetChargeType, "PayByTraffic");
    assert.equal(i.systemDiskCategory, "cloud_auto");
    assert.equal(i.systemDiskSize, 60);
    assert.deepEqual(i.tags, { app: "shop", env: "prod" });
    assert.equal(i.deletionProtection, true);
    assert.equal(i.instanceName, `${name}-dev`);
    for (const r of [vpc, vswitch, sg, keyPair]) assert.deepEqual(r.inputs.tags, { app: "shop", env: "prod" }, r.name);

    const userData = Buffer.from(i.userData, "base64").toString("utf8");
    assert.match(userData, /^#!\/bin\/bash\n/);
    assert.match(userData, /install Docker only when missing/);
    assert.match(userData, /pydeploy_mirror='https:\/\/mirrors\.cloud\.aliyuncs\.com\/docker-ce'/);
    assert.match(userData, /"https:\/\/r\.example\.com"/);
    assert.match(userData, /\/var\/log\/pydeploy-cloud-init\.log/);

    assert.equal(await valueOf(server.instanceId), instance.id);
    assert.equal(await valueOf(server.publicIp), MOCK_PUBLIC_IP);
    assert.equal(await valueOf(server.privateIp), MOCK_PRIVATE_IP);
    assert.equal(await valueOf(server.securityGroupId), sg.id);
    assert.equal(await valueOf(server.imageId), PINNED.imageId);
    assert.equal(await valueOf(server.instanceType), PINNED.instanceType);
  });

  test("generated key: RSA 4096, key pair from its public key, private key and connection are secret", async () => {
    const { name, mine, server } = await create({ ...PINNED, ssh: { port: 2222, user: "deploy", allowedCidrs: ["198.51.100.0/24"] } });
    const key = one(mine(T.tlsKey));
    assert.equal(key.name, `${name}-ssh-key`);
    assert.deepEqual([key.inputs.algorithm, key.inputs.rsaBits], ["RSA", 4096]);
    const keyPair = one(mine(T.keyPair));
    assert.equal(keyPair.inputs.publicKey, MOCK_PUBLIC_KEY);
    assert.match(keyPair.inputs.keyPairName, new RegExp(`^pydeploy-${name}-dev-[0-9a-f]{8}$`));

    assert.equal(await pulumi.isSecret(server.privateKey), true);
    assert.equal(await valueOf(server.privateKey), MOCK_PRIVATE_KEY_PEM);
    assert.equal(await pulumi.isSecret(server.connection), true);
    assert.deepEqual(await valueOf(server.connection), { host: MOCK_PUBLIC_IP, port: 2222, user: "deploy", privateKey: MOCK_PRIVATE_KEY_PEM });

    assert.equal(await pulumi.isSecret(server.sshCommand), false);
    assert.equal(await valueOf(server.sshCommand), `ssh -p 2222 deploy@${MOCK_PUBLIC_IP}`);
  });

  test("given key pair: no tls resource, key pair uses the given public key, private key stays secret", async () => {
    const publicKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCgiven user@example";
    const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nGIVEN\n-----END OPENSSH PRIVATE KEY-----\n";
    const { mine, server } = await create({ ...PINNED, publicKey, privateKey });
    assert.equal(mine(T.tlsKey).length, 0);
    assert.equal(one(mine(T.keyPair)).inputs.publicKey, publicKey);
    assert.equal(await pulumi.isSecret(server.privateKey), true);
    assert.equal(await valueOf(server.privateKey), privateKey);
    assert.equal(await pulumi.isSecret(server.connection), true);
    assert.equal((await valueOf(server.connection)).privateKey, privateKey);
  });

  test("a new public key gets a new key pair name, so replacement can create before delete", async () => {
    const a = await create({ ...PINNED, publicKey: "ssh-rsa AAAAone", privateKey: "k1" });
    const b = await create({ ...PINNED, publicKey: "ssh-rsa AAAAtwo", privateKey: "k2" });
    const suffix = (r: RecordedResource) => (r.inputs.keyPairName as string).split("-").pop();
    assert.notEqual(suffix(one(a.mine(T.keyPair))), suffix(one(b.mine(T.keyPair))));
  });

  test("only one of publicKey/privateKey is an error", () => {
    assert.throws(() => new Server("half-key", args({ ...PINNED, publicKey: "ssh-rsa AAAA" })), /both publicKey and privateKey/);
    assert.throws(() => new Server("half-key2", args({ ...PINNED, privateKey: "pem" })), /both publicKey and privateKey/);
  });

  test("bandwidth 0: no public IP, so the connection uses the private IP", async () => {
    const { mine, server } = await create({ ...PINNED, internetMaxBandwidthOut: 0 });
    assert.equal(one(mine(T.instance)).inputs.internetMaxBandwidthOut, 0);
    assert.equal((await valueOf(server.connection)).host, MOCK_PRIVATE_IP);
    assert.equal(await valueOf(server.sshCommand), `ssh -p 22 root@${MOCK_PRIVATE_IP}`);
  });
});

/**
 * Creates a server whose `token` lookup finds nothing. Pulumi reports a failed resource as an
 * unhandled rejection (its outputs never settle), so that is where the error must show.
 */
async function failingLookup(token: string, over: Partial<AlicloudServerArgs>): Promise<string[]> {
  emptyLookups.add(token);
  try {
    const rejections = await captureUnhandledRejections(async () => {
      new Server(`fail${++counter}`, args(over));
    });
    assert.ok(rejections.length > 0, "expected the failed lookup to fail the deployment");
    return rejections.map((r) => String((r as Error)?.message ?? r));
  } finally {
    emptyLookups.delete(token);
  }
}

const tokensOf = (calls: { token: string }[]) => calls.map((c) => c.token).sort();

describe("lookups", () => {
  test("image, instance type and zone all given: no data source is called", async () => {
    const { calls, mine } = await create({ ...PINNED });
    assert.deepEqual(calls(), []);
    assert.equal(one(mine(T.vswitch)).inputs.zoneId, PINNED.zoneId);
  });

  test("zone absent: only getZones, filtered by the given instance type", async () => {
    const { calls, mine } = await create({ imageId: PINNED.imageId, instanceType: PINNED.instanceType });
    assert.deepEqual(tokensOf(calls()), [TOKENS.getZones]);
    assert.equal(calls()[0].inputs.availableResourceCreation, "VSwitch");
    assert.equal(calls()[0].inputs.availableInstanceType, PINNED.instanceType);
    assert.equal(one(mine(T.vswitch)).inputs.zoneId, MOCK_ZONE);
  });

  test("instance type absent: only getInstanceTypes, in the given zone with the given size", async () => {
    const { calls, mine } = await create({ imageId: PINNED.imageId, zoneId: PINNED.zoneId, cpuCores: 4, memoryGb: 16 });
    assert.deepEqual(tokensOf(calls()), [TOKENS.getInstanceTypes]);
    const { availabilityZone, cpuCoreCount, memorySize, systemDiskCategory } = calls()[0].inputs;
    assert.deepEqual(
      { availabilityZone, cpuCoreCount, memorySize, systemDiskCategory },
      { availabilityZone: PINNED.zoneId, cpuCoreCount: 4, memorySize: 16, systemDiskCategory: "cloud_essd" },
    );
    assert.equal(one(mine(T.instance)).inputs.instanceType, MOCK_INSTANCE_TYPE);
  });

  test("instance type lookup prefers a type that is not burstable", async () => {
    instanceTypesAnswer = {
      id: "types",
      ids: ["ecs.t6-c1m2.large", "ecs.u1-c1m2.large"],
      instanceTypes: [
        { id: "ecs.t6-c1m2.large", cpuCoreCount: 2, memorySize: 4, burstableInstance: { initialCredit: "60", baselineCredit: "20" } },
        { id: "ecs.u1-c1m2.large", cpuCoreCount: 2, memorySize: 4, burstableInstance: { initialCredit: "", baselineCredit: "" } },
      ],
    };
    try {
      const { mine } = await create({ imageId: PINNED.imageId, zoneId: PINNED.zoneId });
      assert.equal(one(mine(T.instance)).inputs.instanceType, "ecs.u1-c1m2.large");
    } finally {
      instanceTypesAnswer = undefined;
    }
  });

  test("image absent: only getImages (system, most recent, name regex); the image is then ignored on updates", async () => {
    const recorder = recordChildren();
    const { calls, mine, name } = await create(
      { instanceType: PINNED.instanceType, zoneId: PINNED.zoneId, imageNameRegex: "^debian_12_" },
      { transformations: [recorder.transformation] },
    );
    assert.deepEqual(tokensOf(calls()), [TOKENS.getImages]);
    const { owners, mostRecent, nameRegex } = calls()[0].inputs;
    assert.deepEqual({ owners, mostRecent, nameRegex }, { owners: "system", mostRecent: true, nameRegex: "^debian_12_" });
    assert.equal(one(mine(T.instance)).inputs.imageId, MOCK_IMAGE_ID);
    const instanceOpts = recorder.children.find((c) => c.name === `${name}-instance`)?.opts;
    assert.deepEqual(instanceOpts?.ignoreChanges, ["imageId"]);
  });

  test("a pinned image is not ignored on updates", async () => {
    const recorder = recordChildren();
    const { name } = await create({ ...PINNED }, { transformations: [recorder.transformation] });
    assert.deepEqual(recorder.children.find((c) => c.name === `${name}-instance`)?.opts.ignoreChanges, []);
  });

  test("nothing pinned: the zone is looked up first and the instance type in that zone", async () => {
    const { calls } = await create({});
    assert.deepEqual(tokensOf(calls()), [TOKENS.getImages, TOKENS.getInstanceTypes, TOKENS.getZones].sort());
    const types = calls().find((c) => c.token === TOKENS.getInstanceTypes)!;
    assert.equal(types.inputs.availabilityZone, MOCK_ZONE);
    assert.equal(calls().find((c) => c.token === TOKENS.getZones)!.inputs.availableInstanceType, undefined);
  });

  test("no instance type found: clear error naming the config key", async () => {
    const rejections = await failingLookup(TOKENS.getInstanceTypes, { imageId: PINNED.imageId, zoneId: "cn-hangzhou-h", cpuCores: 2, memoryGb: 4 });
    const expected = "no instance type with 2 cores and 4 GiB in zone cn-hangzhou-h; set pydeploy:server.instanceType";
    for (const r of rejections) assert.ok(r.includes(expected), `unrelated rejection: ${r}`);
  });

  test("no image found: clear error naming the config keys", async () => {
    const rejections = await failingLookup(TOKENS.getImages, { instanceType: PINNED.instanceType, zoneId: PINNED.zoneId, imageNameRegex: "^nosuchos_" });
    const expected = /no system image matches \^nosuchos_; set pydeploy:server\.imageId or pydeploy:server\.imageNameRegex/;
    for (const r of rejections) assert.match(r, expected);
  });

  test("no zone found: clear error naming the config key", async () => {
    const rejections = await failingLookup(TOKENS.getZones, { imageId: PINNED.imageId, instanceType: PINNED.instanceType });
    const expected = /no zone in this region offers vSwitches and instance type ecs\.c7\.large; set pydeploy:server\.zoneId/;
    for (const r of rejections) assert.match(r, expected);
  });
});

describe("existing network resources", () => {
  test("an existing vswitch that does not exist: clear error naming the config key", async () => {
    const rejections = await failingLookup(TOKENS.getSwitches, { imageId: PINNED.imageId, instanceType: PINNED.instanceType, vswitchId: "vsw-missing" });
    for (const r of rejections) assert.match(r, /vSwitch vsw-missing was not found in this region; check pydeploy:server\.vswitchId/);
  });

  test("existing vpc, vswitch and security group: none created, rules still added to the group", async () => {
    const { mine, calls } = await create({
      ...PINNED,
      vpcId: "vpc-existing",
      vswitchId: "vsw-existing",
      securityGroupId: "sg-existing",
      ssh: { port: 22, user: "root", allowedCidrs: ["198.51.100.0/24"] },
      appPorts: [{ port: 8000, allowedCidrs: ["0.0.0.0/0"] }],
    });
    assert.equal(mine(T.vpc).length, 0);
    assert.equal(mine(T.vswitch).length, 0);
    assert.equal(mine(T.sg).length, 0);
    const rules = mine(T.rule);
    assert.equal(rules.length, 2);
    for (const r of rules) assert.equal(r.inputs.securityGroupId, "sg-existing");
    const instance = one(mine(T.instance)).inputs;
    assert.equal(instance.vswitchId, "vsw-existing");
    assert.deepEqual(instance.securityGroups, ["sg-existing"]);
    assert.deepEqual(calls(), []);
  });

  test("existing vpc only: the vswitch and group are created in it, no new vpc", async () => {
    const { mine } = await create({ ...PINNED, vpcId: "vpc-existing" });
    assert.equal(mine(T.vpc).length, 0);
    assert.equal(one(mine(T.vswitch)).inputs.vpcId, "vpc-existing");
    assert.equal(one(mine(T.sg)).inputs.vpcId, "vpc-existing");
  });

  test("existing vswitch without zone or vpc: both come from the vswitch, no vpc or vswitch created", async () => {
    const { mine, calls } = await create({ imageId: PINNED.imageId, vswitchId: "vsw-existing" });
    assert.equal(mine(T.vpc).length, 0);
    assert.equal(mine(T.vswitch).length, 0);
    assert.equal(one(mine(T.sg)).inputs.vpcId, "vpc-mock-existing");
    assert.deepEqual(tokensOf(calls()), [TOKENS.getInstanceTypes, TOKENS.getSwitches]);
    assert.equal(calls().find((c) => c.token === TOKENS.getInstanceTypes)!.inputs.availabilityZone, MOCK_ZONE);
    assert.equal(calls().filter((c) => c.token === TOKENS.getSwitches).length, 1);
  });
});

describe("component structure", () => {
  test("every child is parented to the component and prefixed with its name", async () => {
    const recorder = recordChildren();
    const { name, server } = await create({}, { transformations: [recorder.transformation] });
    const children = recorder.children.filter((c) => c.resource !== server);
    assert.deepEqual(
      children.map((c) => c.type).sort(),
      [T.instance, T.keyPair, T.vpc, T.sg, T.rule, T.rule, T.vswitch, T.tlsKey].sort(),
    );
    for (const c of children) {
      assert.equal(c.parent, server, `${c.name} is not parented to the component`);
      assert.ok(c.name.startsWith(`${name}-`), `${c.name} is not prefixed with ${name}-`);
      assert.ok((await valueOf(c.resource.urn)).includes("::pydeploy:server:AlicloudServer$"), `${c.name} URN lacks the parent type`);
    }
    assert.equal(await valueOf(server.urn), `urn:pulumi:dev::pydeploy::pydeploy:server:AlicloudServer::${name}`);
  });
});
