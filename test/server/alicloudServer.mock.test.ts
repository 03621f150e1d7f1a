import assert from "node:assert/strict";
import { before, describe, mock, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import {
  captureUnhandledRejections,
  installMocks,
  MOCK_HOST_KEY,
  MOCK_IMAGE_ID,
  MOCK_INSTANCE_TYPE,
  MOCK_PRIVATE_IP,
  MOCK_PRIVATE_KEY_OPENSSH,
  MOCK_PRIVATE_KEY_PEM,
  MOCK_PUBLIC_IP,
  MOCK_PUBLIC_KEY,
  MOCK_ZONE,
  recordChildren,
  reveal,
  isWireSecret,
  TOKENS,
  valueOf,
  type RecordedResource,
} from "../support/mocks/mocks";
import { DOCKER_INSTALL_SCRIPT_PATH } from "../../components/server/cloudInit";
import { ALIYUN_DOCKER_CE_MIRROR, ALIYUN_VPC_DOCKER_CE_MIRROR } from "../../components/server/dockerInstall";
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
    valueOf(s.connection), valueOf(s.hostKey), valueOf(s.privateKey), valueOf(s.sshCommand), valueOf(s.urn),
  ]);
}

const one = (rs: RecordedResource[]): RecordedResource => {
  assert.equal(rs.length, 1, `expected exactly one resource, got ${rs.map((r) => r.name).join(", ") || "none"}`);
  return rs[0];
};

/** "8000/8000 0.0.0.0/0": what a rule allows. */
const allows = (inputs: Record<string, any>) => `${inputs.portRange} ${inputs.cidrIp}`;

describe("security group rules", () => {
  test("open exactly the published ports x CIDRs plus SSH x CIDRs, each named after what it allows", async () => {
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
    assert.deepEqual(
      rules.map((r) => `${r.name} ${allows(r.inputs)}`).sort(),
      [
        `${name}-allow-tcp-2222-from-198.51.100.0/24 2222/2222 198.51.100.0/24`,
        `${name}-allow-tcp-2222-from-203.0.113.7/32 2222/2222 203.0.113.7/32`,
        `${name}-allow-tcp-8000-from-0.0.0.0/0 8000/8000 0.0.0.0/0`,
        `${name}-allow-tcp-8443-from-192.0.2.0/24 8443/8443 192.0.2.0/24`,
        `${name}-allow-tcp-8443-from-198.51.100.0/24 8443/8443 198.51.100.0/24`,
      ],
      "one rule per (port, CIDR), no other",
    );
    for (const r of rules) {
      assert.deepEqual(
        [r.inputs.type, r.inputs.ipProtocol, r.inputs.nicType, r.inputs.policy, r.inputs.securityGroupId],
        ["ingress", "tcp", "intranet", "accept", sg.id],
        `${r.name}: an inbound TCP accept rule in the server's group`,
      );
    }
  });

  test("prod-like args: SSH is open only to the given CIDRs, never 0.0.0.0/0", async () => {
    const { mine } = await create({
      ...PINNED,
      ssh: { port: 22, user: "root", allowedCidrs: ["198.51.100.10/32"] },
      appPorts: [{ port: 443, allowedCidrs: ["0.0.0.0/0"] }],
    });
    const rules = mine(T.rule);
    assert.deepEqual(rules.filter((r) => r.inputs.portRange === "22/22").map((r) => r.inputs.cidrIp), ["198.51.100.10/32"], "SSH sources");
    assert.deepEqual(rules.filter((r) => r.inputs.cidrIp === "0.0.0.0/0").map((r) => r.inputs.portRange), ["443/443"], "world-open ports");
  });

  test("a (port, CIDR) pair given twice, even once as SSH and once as an app port, is one rule", async () => {
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
      mine(T.rule).map((r) => `${r.name} ${allows(r.inputs)} ${r.inputs.description}`).sort(),
      [
        `${name}-allow-tcp-22-from-198.51.100.0/24 22/22 198.51.100.0/24 pydeploy ${name}: SSH`,
        `${name}-allow-tcp-8000-from-0.0.0.0/0 8000/8000 0.0.0.0/0 pydeploy ${name}: port 8000`,
        `${name}-allow-tcp-8000-from-192.0.2.0/24 8000/8000 192.0.2.0/24 pydeploy ${name}: port 8000`,
      ],
      "each real rule once",
    );
  });

  test("no published ports: only the SSH rule", async () => {
    const { mine } = await create({ ...PINNED, appPorts: [], ssh: { port: 22, user: "root", allowedCidrs: ["192.0.2.1/32"] } });
    assert.deepEqual(mine(T.rule).map((r) => allows(r.inputs)), ["22/22 192.0.2.1/32"], "rules");
  });
});

/** Registers the component under `name` (again) and returns its rules: resource name -> inputs. */
async function ruleRun(name: string, over: Partial<AlicloudServerArgs>): Promise<Map<string, Record<string, any>>> {
  const first = mocks.resources.length;
  await settle(new Server(name, args({ ...PINNED, ...over })));
  return new Map(mocks.resources.slice(first).filter((r) => r.type === T.rule).map((r) => [r.name, r.inputs]));
}

const A = "198.51.100.0/24";
const B = "203.0.113.7/32";
const C = "192.0.2.0/24";
const RULE_CHANGES: { label: string; before: Partial<AlicloudServerArgs>; after: Partial<AlicloudServerArgs>; added: string[]; removed: string[] }[] = [
  {
    label: "SSH CIDRs [A, B] -> [B]: only A's rule goes, B's keeps its name and inputs",
    before: { ssh: { port: 22, user: "root", allowedCidrs: [A, B] } },
    after: { ssh: { port: 22, user: "root", allowedCidrs: [B] } },
    added: [],
    removed: [`22/22 ${A}`],
  },
  {
    label: "SSH CIDRs reordered: nothing changes",
    before: { ssh: { port: 22, user: "root", allowedCidrs: [A, B, C] } },
    after: { ssh: { port: 22, user: "root", allowedCidrs: [C, A, B] } },
    added: [],
    removed: [],
  },
  {
    label: "a CIDR added in front: only its rule is new",
    before: { appPorts: [{ port: 8000, allowedCidrs: [B] }] },
    after: { appPorts: [{ port: 8000, allowedCidrs: [A, B] }] },
    added: [`8000/8000 ${A}`],
    removed: [],
  },
  {
    label: "a port added in front: only its rules are new",
    before: { appPorts: [{ port: 8000, allowedCidrs: [A, B] }] },
    after: { appPorts: [{ port: 8443, allowedCidrs: [A, B] }, { port: 8000, allowedCidrs: [A, B] }] },
    added: [`8443/8443 ${A}`, `8443/8443 ${B}`],
    removed: [],
  },
  {
    label: "the first port removed: only its rules go",
    before: { appPorts: [{ port: 8000, allowedCidrs: [A] }, { port: 8443, allowedCidrs: [A] }] },
    after: { appPorts: [{ port: 8443, allowedCidrs: [A] }] },
    added: [],
    removed: [`8000/8000 ${A}`],
  },
  {
    label: "ports reordered and a CIDR swapped for another: only the swapped pairs change",
    before: { appPorts: [{ port: 80, allowedCidrs: [A, B] }, { port: 443, allowedCidrs: [A, B] }] },
    after: { appPorts: [{ port: 443, allowedCidrs: [C, B] }, { port: 80, allowedCidrs: [C, B] }] },
    added: [`80/80 ${C}`, `443/443 ${C}`],
    removed: [`80/80 ${A}`, `443/443 ${A}`],
  },
];

describe("security group rules across two runs of the program", () => {
  for (const change of RULE_CHANGES) {
    test(change.label, async () => {
      const name = `rules${++counter}`;
      const before = await ruleRun(name, change.before);
      const after = await ruleRun(name, change.after);
      for (const [ruleName, inputs] of before) {
        if (after.has(ruleName)) assert.deepEqual(after.get(ruleName), inputs, `${ruleName} kept its inputs (no update, no replacement)`);
      }
      const added = [...after].filter(([n]) => !before.has(n)).map(([, i]) => allows(i));
      const removed = [...before].filter(([n]) => !after.has(n)).map(([, i]) => allows(i));
      assert.deepEqual(added.sort(), [...change.added].sort(), "rule resources created");
      assert.deepEqual(removed.sort(), [...change.removed].sort(), "rule resources deleted");
    });
  }
});

describe("instance and key pair", () => {
  test("the instance gets what the config asks for, in the created network, logging in with the key pair; every resource is tagged", async () => {
    const { name, mine, server } = await create({
      ...PINNED,
      internetMaxBandwidthOut: 5,
      systemDisk: { category: "cloud_auto", sizeGb: 60 },
      tags: { app: "shop", env: "prod" },
      deletionProtection: true,
    });
    const vpc = one(mine(T.vpc));
    const vswitch = one(mine(T.vswitch));
    const sg = one(mine(T.sg));
    const keyPair = one(mine(T.keyPair));
    const instance = one(mine(T.instance));
    assert.deepEqual([vswitch.inputs.vpcId, vswitch.inputs.zoneId, sg.inputs.vpcId], [vpc.id, PINNED.zoneId, vpc.id], "vSwitch and group in the new VPC");

    const i = instance.inputs;
    assert.deepEqual([i.imageId, i.instanceType], [PINNED.imageId, PINNED.instanceType], "pinned image and type");
    assert.deepEqual([i.vswitchId, i.securityGroups, i.keyName], [vswitch.id, [sg.id], keyPair.inputs.keyPairName], "network and login");
    assert.deepEqual([i.internetMaxBandwidthOut, i.systemDiskCategory, i.systemDiskSize, i.deletionProtection], [5, "cloud_auto", 60, true], "sizes");
    for (const r of [vpc, vswitch, sg, keyPair, instance]) assert.deepEqual(r.inputs.tags, { app: "shop", env: "prod" }, `${r.name} tags`);
    assert.equal(i.instanceName, `${name}-dev`, "physical names carry the stack");

    assert.equal(await valueOf(server.instanceId), instance.id, "instanceId output");
    assert.equal(await valueOf(server.publicIp), MOCK_PUBLIC_IP, "publicIp output");
    assert.equal(await valueOf(server.privateIp), MOCK_PRIVATE_IP, "privateIp output");
    assert.equal(await valueOf(server.securityGroupId), sg.id, "securityGroupId output");
  });

  test("generated login key: RSA 4096, key pair from its public key, private key and connection are secret", async () => {
    const { name, mine, server } = await create({ ...PINNED, ssh: { port: 2222, user: "deploy", allowedCidrs: ["198.51.100.0/24"] } });
    const key = one(mine(T.tlsKey).filter((k) => k.name === `${name}-ssh-key`));
    assert.deepEqual([key.inputs.algorithm, key.inputs.rsaBits], ["RSA", 4096], "Alibaba key pairs take RSA");
    const keyPair = one(mine(T.keyPair));
    assert.equal(keyPair.inputs.publicKey, MOCK_PUBLIC_KEY, "key pair from the generated key");
    assert.match(keyPair.inputs.keyPairName, new RegExp(`^pydeploy-${name}-dev-[0-9a-f]{8}$`), "key pair name");

    assert.equal(await pulumi.isSecret(server.privateKey), true, "privateKey is secret");
    assert.equal(await valueOf(server.privateKey), MOCK_PRIVATE_KEY_PEM, "privateKey value");
    assert.equal(await pulumi.isSecret(server.connection), true, "connection is secret");
    assert.deepEqual(
      await valueOf(server.connection),
      { host: MOCK_PUBLIC_IP, port: 2222, user: "deploy", privateKey: MOCK_PRIVATE_KEY_PEM, hostKey: MOCK_HOST_KEY },
      "connection",
    );
    assert.equal(await pulumi.isSecret(server.sshCommand), false, "sshCommand is plain");
    assert.equal(await valueOf(server.sshCommand), `ssh -p 2222 deploy@${MOCK_PUBLIC_IP}`, "sshCommand");
  });

  test("given key pair: no login key generated, key pair uses the given public key, private key stays secret", async () => {
    const publicKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCgiven user@example";
    const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nGIVEN\n-----END OPENSSH PRIVATE KEY-----\n";
    const { name, mine, server } = await create({ ...PINNED, publicKey, privateKey });
    assert.deepEqual(mine(T.tlsKey).map((k) => k.name), [`${name}-host-key`], "only the host key is generated");
    assert.equal(one(mine(T.keyPair)).inputs.publicKey, publicKey, "key pair from the given key");
    assert.equal(await pulumi.isSecret(server.privateKey), true, "privateKey is secret");
    assert.equal(await valueOf(server.privateKey), privateKey, "privateKey value");
    assert.equal(await pulumi.isSecret(server.connection), true, "connection is secret");
    assert.equal((await valueOf(server.connection)).privateKey, privateKey, "connection logs in with the given key");
  });

  test("a new public key gets a new key pair name, so replacement can create before delete", async () => {
    const a = await create({ ...PINNED, publicKey: "ssh-rsa AAAAone", privateKey: "k1" });
    const b = await create({ ...PINNED, publicKey: "ssh-rsa AAAAtwo", privateKey: "k2" });
    const suffix = (r: RecordedResource) => (r.inputs.keyPairName as string).split("-").pop();
    assert.notEqual(suffix(one(a.mine(T.keyPair))), suffix(one(b.mine(T.keyPair))), "key pair name suffixes");
  });

  test("only one of publicKey/privateKey is an error", () => {
    assert.throws(() => new Server("half-key", args({ ...PINNED, publicKey: "ssh-rsa AAAA" })), /both publicKey and privateKey/, "public only");
    assert.throws(() => new Server("half-key2", args({ ...PINNED, privateKey: "pem" })), /both publicKey and privateKey/, "private only");
  });

  test("bandwidth 0: no public IP, so the connection uses the private IP", async () => {
    const { mine, server } = await create({ ...PINNED, internetMaxBandwidthOut: 0 });
    assert.equal(one(mine(T.instance)).inputs.internetMaxBandwidthOut, 0, "bandwidth");
    assert.equal((await valueOf(server.connection)).host, MOCK_PRIVATE_IP, "connection host");
    assert.equal(await valueOf(server.sshCommand), `ssh -p 22 root@${MOCK_PRIVATE_IP}`, "sshCommand");
  });
});

describe("SSH host key and cloud-init", () => {
  /** The instance's userData as registered: still a secret on the wire, and the decoded document. */
  const userDataOf = (instance: RecordedResource) => ({
    secret: isWireSecret(instance.inputs.userData),
    document: Buffer.from(reveal(instance.inputs.userData), "base64").toString("utf8"),
  });

  test("a new server gets its own ED25519 host key: hostKey is its public line (plain), and the connection pins it", async () => {
    const { name, mine, server } = await create({ ...PINNED });
    const key = one(mine(T.tlsKey).filter((k) => k.name === `${name}-host-key`));
    assert.equal(key.inputs.algorithm, "ED25519", "host key algorithm");
    assert.equal(await valueOf(server.hostKey), MOCK_HOST_KEY, "hostKey: the public key line, trailing newline trimmed");
    assert.equal(await pulumi.isSecret(server.hostKey), false, "hostKey is a plain output");
    assert.equal((await valueOf(server.connection)).hostKey, MOCK_HOST_KEY, "the connection carries the host key");
  });

  test("userData is a secret #cloud-config that installs that host key pair and runs the Docker install once", async () => {
    const cloudInit = { mirror: ALIYUN_VPC_DOCKER_CE_MIRROR, registryMirrors: ["https://r.example.com"] };
    const { mine } = await create({ ...PINNED, cloudInit });
    const { secret, document } = userDataOf(one(mine(T.instance)));
    assert.equal(secret, true, "userData carries a private key: it must be a secret");
    assert.ok(document.startsWith("#cloud-config\n"), `a cloud-config document, got ${document.slice(0, 40)}`);
    const doc = parse(document);
    assert.deepEqual(doc.ssh_keys, { ed25519_private: MOCK_PRIVATE_KEY_OPENSSH, ed25519_public: MOCK_HOST_KEY }, "the generated host key pair");
    // What the script does is tested in dockerInstall.script.test.ts; here: it is the install script, run for these mirrors.
    const script = doc.write_files[0].content as string;
    assert.match(script, /^# Usage: install-docker\.sh /m, `the Docker install script, got ${script.slice(0, 60)}`);
    assert.equal(doc.write_files[0].path, DOCKER_INSTALL_SCRIPT_PATH, "written where runcmd runs it");
    assert.deepEqual(
      doc.runcmd,
      [["/bin/bash", DOCKER_INSTALL_SCRIPT_PATH, "--log", "/var/log/pydeploy-cloud-init.log", "https://mirrors.cloud.aliyuncs.com/docker-ce", "https://r.example.com"]],
      "run once by runcmd: Docker CE from the given (in-VPC) mirror, the registry mirror for daemon.json",
    );
  });

  test("a Docker mirror change does not touch the instance: userData changes, but is ignored on updates", async () => {
    const recorder = recordChildren();
    const before = await create({ ...PINNED, cloudInit: { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: [] } }, { transformations: [recorder.transformation] });
    const after = await create({ ...PINNED, cloudInit: { mirror: ALIYUN_VPC_DOCKER_CE_MIRROR, registryMirrors: ["https://r.example.com"] } }, { transformations: [recorder.transformation] });
    assert.notEqual(userDataOf(one(before.mine(T.instance))).document, userDataOf(one(after.mine(T.instance))).document, "the rendered userData differs");
    for (const { name } of [before, after]) {
      const opts = recorder.children.find((c) => c.name === `${name}-instance`)?.opts;
      assert.ok(opts?.ignoreChanges?.includes("userData"), `${name}: userData must be in ignoreChanges, got ${JSON.stringify(opts?.ignoreChanges)}`);
    }
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
    assert.deepEqual(calls(), [], "no lookup");
    assert.equal(one(mine(T.vswitch)).inputs.zoneId, PINNED.zoneId, "the pinned zone");
  });

  test("zone absent: only getZones, filtered by the given instance type", async () => {
    const { calls, mine } = await create({ imageId: PINNED.imageId, instanceType: PINNED.instanceType });
    assert.deepEqual(tokensOf(calls()), [TOKENS.getZones], "lookups");
    assert.equal(calls()[0].inputs.availableResourceCreation, "VSwitch", "zones that can hold a vSwitch");
    assert.equal(calls()[0].inputs.availableInstanceType, PINNED.instanceType, "zones that offer the type");
    assert.equal(one(mine(T.vswitch)).inputs.zoneId, MOCK_ZONE, "the zone found");
  });

  test("instance type absent: only getInstanceTypes, in the given zone with the given size", async () => {
    const { calls, mine } = await create({ imageId: PINNED.imageId, zoneId: PINNED.zoneId, cpuCores: 4, memoryGb: 16 });
    assert.deepEqual(tokensOf(calls()), [TOKENS.getInstanceTypes], "lookups");
    const { availabilityZone, cpuCoreCount, memorySize, systemDiskCategory } = calls()[0].inputs;
    assert.deepEqual(
      { availabilityZone, cpuCoreCount, memorySize, systemDiskCategory },
      { availabilityZone: PINNED.zoneId, cpuCoreCount: 4, memorySize: 16, systemDiskCategory: "cloud_essd" },
      "the lookup's filters",
    );
    assert.equal(one(mine(T.instance)).inputs.instanceType, MOCK_INSTANCE_TYPE, "the type found");
  });

  // As the provider reports them: credits are strings, "0" for types that are not burstable; t6
  // has a baseline but no initial credit.
  const T6 = { id: "ecs.t6-c1m2.large", family: "ecs.t6", cpuCoreCount: 2, memorySize: 4, burstableInstance: { initialCredit: "0", baselineCredit: "10" } };
  const T5 = { id: "ecs.t5-lc1m2.large", family: "ecs.t5", cpuCoreCount: 2, memorySize: 4, burstableInstance: { initialCredit: "60", baselineCredit: "10" } };
  const U1 = { id: "ecs.u1-c1m2.large", family: "ecs.u1", cpuCoreCount: 2, memorySize: 4, burstableInstance: { initialCredit: "0", baselineCredit: "0" } };
  async function lookUpType(types: Record<string, unknown>[]) {
    instanceTypesAnswer = { id: "types", ids: types.map((t) => t.id), instanceTypes: types };
    const warn = mock.method(pulumi.log, "warn", () => Promise.resolve());
    try {
      const { mine } = await create({ imageId: PINNED.imageId, zoneId: PINNED.zoneId, cpuCores: 2, memoryGb: 4 });
      return { chosen: one(mine(T.instance)).inputs.instanceType, warnings: warn.mock.calls.map((c) => String(c.arguments[0])) };
    } finally {
      warn.mock.restore();
      instanceTypesAnswer = undefined;
    }
  }

  test("instance type lookup skips burstable types listed first", async () => {
    const { chosen, warnings } = await lookUpType([T6, T5, U1]);
    assert.equal(chosen, U1.id, "the first type that is not burstable");
    assert.deepEqual(warnings, [], "nothing to warn about");
  });

  test("instance type lookup with only burstable types: takes the first, and warns saying how to choose", async () => {
    const { chosen, warnings } = await lookUpType([T5, T6]);
    assert.equal(chosen, T5.id, "the first burstable type");
    assert.equal(warnings.length, 1, `one warning, got ${JSON.stringify(warnings)}`);
    assert.match(warnings[0], /only burstable instance types have 2 cores and 4 GiB in zone cn-shanghai-l: using ecs\.t5-lc1m2\.large/, "names the type");
    assert.match(warnings[0], /Set pydeploy:server\.instanceType/, "says how to choose");
  });

  test("image absent: only getImages (system, most recent, name regex); the image is then ignored on updates", async () => {
    const recorder = recordChildren();
    const { calls, mine, name } = await create(
      { instanceType: PINNED.instanceType, zoneId: PINNED.zoneId, imageNameRegex: "^debian_12_" },
      { transformations: [recorder.transformation] },
    );
    assert.deepEqual(tokensOf(calls()), [TOKENS.getImages], "lookups");
    const { owners, mostRecent, nameRegex } = calls()[0].inputs;
    assert.deepEqual({ owners, mostRecent, nameRegex }, { owners: "system", mostRecent: true, nameRegex: "^debian_12_" }, "the lookup's filters");
    assert.equal(one(mine(T.instance)).inputs.imageId, MOCK_IMAGE_ID, "the image found");
    const instanceOpts = recorder.children.find((c) => c.name === `${name}-instance`)?.opts;
    assert.ok(instanceOpts?.ignoreChanges?.includes("imageId"), `imageId ignored, got ${JSON.stringify(instanceOpts?.ignoreChanges)}`);
  });

  test("a pinned image is not ignored on updates: changing it is how to move to a new image", async () => {
    const recorder = recordChildren();
    const { name } = await create({ ...PINNED }, { transformations: [recorder.transformation] });
    const ignored = recorder.children.find((c) => c.name === `${name}-instance`)?.opts.ignoreChanges;
    assert.ok(!ignored?.includes("imageId"), `imageId not ignored, got ${JSON.stringify(ignored)}`);
  });

  test("a pinned image with several servers is ignored on updates: a change would rebuild every system disk at once", async () => {
    const recorder = recordChildren();
    const { name } = await create({ ...PINNED, count: 2 }, { transformations: [recorder.transformation] });
    for (const instance of [`${name}-instance`, `${name}-2-instance`]) {
      const ignored = recorder.children.find((c) => c.name === instance)?.opts.ignoreChanges;
      assert.deepEqual(ignored, ["userData", "imageId"], `${instance}: imageId ignored, got ${JSON.stringify(ignored)}`);
    }
  });

  test("nothing pinned: the zone is looked up first and the instance type in that zone", async () => {
    const { calls } = await create({});
    assert.deepEqual(tokensOf(calls()), [TOKENS.getImages, TOKENS.getInstanceTypes, TOKENS.getZones].sort(), "lookups");
    const types = calls().find((c) => c.token === TOKENS.getInstanceTypes)!;
    assert.equal(types.inputs.availabilityZone, MOCK_ZONE, "types are looked up in the zone found");
    assert.equal(calls().find((c) => c.token === TOKENS.getZones)!.inputs.availableInstanceType, undefined, "the zone lookup has no type to filter by");
  });

  test("no instance type found: clear error naming the config key", async () => {
    const rejections = await failingLookup(TOKENS.getInstanceTypes, { imageId: PINNED.imageId, zoneId: "cn-hangzhou-h", cpuCores: 2, memoryGb: 4 });
    const expected = "no instance type with 2 cores and 4 GiB in zone cn-hangzhou-h; set pydeploy:server.instanceType";
    for (const r of rejections) assert.ok(r.includes(expected), `unrelated rejection: ${r}`);
  });

  test("no image found: clear error naming the config keys", async () => {
    const rejections = await failingLookup(TOKENS.getImages, { instanceType: PINNED.instanceType, zoneId: PINNED.zoneId, imageNameRegex: "^nosuchos_" });
    const expected = /no system image matches \^nosuchos_; set pydeploy:server\.imageId or pydeploy:server\.imageNameRegex/;
    for (const r of rejections) assert.match(r, expected, "the error");
  });

  test("no zone found: clear error naming the config key", async () => {
    const rejections = await failingLookup(TOKENS.getZones, { imageId: PINNED.imageId, instanceType: PINNED.instanceType });
    const expected = /no zone in this region offers vSwitches and instance type ecs\.c7\.large; set pydeploy:server\.zoneId/;
    for (const r of rejections) assert.match(r, expected, "the error");
  });
});

describe("existing network resources", () => {
  test("an existing vswitch that does not exist: clear error naming the config key", async () => {
    const rejections = await failingLookup(TOKENS.getSwitches, { imageId: PINNED.imageId, instanceType: PINNED.instanceType, vswitchId: "vsw-missing" });
    for (const r of rejections) assert.match(r, /vSwitch vsw-missing was not found in this region; check pydeploy:server\.vswitchId/, "the error");
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
    assert.deepEqual([mine(T.vpc).length, mine(T.vswitch).length, mine(T.sg).length], [0, 0, 0], "no VPC, vSwitch or group created");
    const rules = mine(T.rule);
    assert.equal(rules.length, 2, "SSH and the app port");
    for (const r of rules) assert.equal(r.inputs.securityGroupId, "sg-existing", `${r.name} goes into the existing group`);
    const instance = one(mine(T.instance)).inputs;
    assert.equal(instance.vswitchId, "vsw-existing", "the existing vSwitch");
    assert.deepEqual(instance.securityGroups, ["sg-existing"], "the existing group");
    assert.deepEqual(calls(), [], "no lookup");
  });

  test("existing vpc only: the vswitch and group are created in it, no new vpc", async () => {
    const { mine } = await create({ ...PINNED, vpcId: "vpc-existing" });
    assert.equal(mine(T.vpc).length, 0, "no VPC created");
    assert.equal(one(mine(T.vswitch)).inputs.vpcId, "vpc-existing", "vSwitch in the existing VPC");
    assert.equal(one(mine(T.sg)).inputs.vpcId, "vpc-existing", "group in the existing VPC");
  });

  test("existing vswitch without zone or vpc: both come from the vswitch, no vpc or vswitch created", async () => {
    const { mine, calls } = await create({ imageId: PINNED.imageId, vswitchId: "vsw-existing" });
    assert.deepEqual([mine(T.vpc).length, mine(T.vswitch).length], [0, 0], "no VPC or vSwitch created");
    assert.equal(one(mine(T.sg)).inputs.vpcId, "vpc-mock-existing", "the group goes into the vSwitch's VPC");
    assert.deepEqual(tokensOf(calls()), [TOKENS.getInstanceTypes, TOKENS.getSwitches], "lookups");
    assert.equal(calls().find((c) => c.token === TOKENS.getInstanceTypes)!.inputs.availabilityZone, MOCK_ZONE, "types in the vSwitch's zone");
    assert.equal(calls().filter((c) => c.token === TOKENS.getSwitches).length, 1, "the vSwitch is looked up once");
  });
});

describe("component structure", () => {
  test("every child is parented to the component and prefixed with its name", async () => {
    const recorder = recordChildren();
    const { name, server } = await create({}, { transformations: [recorder.transformation] });
    const children = recorder.children.filter((c) => c.resource !== server);
    assert.deepEqual(
      children.map((c) => c.type).sort(),
      [T.instance, T.keyPair, T.vpc, T.sg, T.rule, T.rule, T.vswitch, T.tlsKey, T.tlsKey].sort(),
      "children: the network, two rules, the login and host keys, the key pair and the instance",
    );
    for (const c of children) {
      assert.equal(c.parent, server, `${c.name} is not parented to the component`);
      assert.ok(c.name.startsWith(`${name}-`), `${c.name} is not prefixed with ${name}-`);
      assert.ok((await valueOf(c.resource.urn)).includes("::pydeploy:server:AlicloudServer$"), `${c.name} URN lacks the parent type`);
    }
    assert.equal(await valueOf(server.urn), `urn:pulumi:dev::pydeploy::pydeploy:server:AlicloudServer::${name}`, "component URN");
  });
});
