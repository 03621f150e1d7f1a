// AlicloudServer across successive `pulumi up`s, under the engine model (test/support/engine):
// what a change of the allowed CIDRs, the published ports or the Docker mirrors does to each
// resource, as the engine and the provider would decide it (ForceNew table, ignoreChanges).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import type { AlicloudServerArgs } from "../../components/server/alicloudServer";
import { ALIYUN_DOCKER_CE_MIRROR, ALIYUN_VPC_DOCKER_CE_MIRROR } from "../../components/server/dockerInstall";
import { parseHostKeyLine } from "../../components/config/hostKey";
import { EngineStack, isSecret, reveal, type RunResult } from "../support/engine";

const FIXTURES = path.join(__dirname, "fixtures");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-server-engine-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const A = "198.51.100.0/24";
const B = "203.0.113.7/32";
const C = "192.0.2.0/24";

function args(over: Partial<AlicloudServerArgs>): AlicloudServerArgs {
  return {
    imageId: "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
    instanceType: "ecs.g7.large",
    zoneId: "cn-hangzhou-h",
    cpuCores: 2,
    memoryGb: 8,
    imageNameRegex: "^ubuntu_22_04_x64_20G_alibase_",
    vpcCidr: "172.16.0.0/16",
    vswitchCidr: "172.16.1.0/24",
    internetMaxBandwidthOut: 5,
    systemDisk: { category: "cloud_essd", sizeGb: 40 },
    tags: { app: "demo" },
    deletionProtection: false,
    ssh: { port: 22, user: "root", allowedCidrs: [A, B] },
    appPorts: [{ port: 8000, allowedCidrs: [A] }],
    cloudInit: { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: [] },
    ...over,
  };
}

const stack = (over: Partial<AlicloudServerArgs>) =>
  new EngineStack({
    stateFile: path.join(dir, "state.json"),
    project: "fixture",
    stack: "test",
    program: path.join(FIXTURES, "serverProgram.ts"),
    cwd: FIXTURES,
    config: { "fixture:args": args(over) },
    cloud: path.join(FIXTURES, "serverCloud.ts"),
  });

async function up(over: Partial<AlicloudServerArgs>, what: string): Promise<RunResult> {
  const r = await stack(over).up();
  if (!r.ok) throw new Error(`${what} failed: ${r.error}\n--- log ---\n${r.log.slice(-3000)}`);
  return r;
}

/** The steps that did something, "name:op"; every other resource was left as it is ("same"). */
const changes = (r: RunResult) => r.steps.filter((s) => s.custom && s.op !== "same").map((s) => `${s.name}:${s.op}`).sort();

describe("AlicloudServer across pulumi up runs (engine model)", { timeout: 10 * 60_000 }, () => {
  test("first up: the host key is real, public in the outputs, secret in the connection and in the instance's userData", async () => {
    const r = await up({}, "first up");
    const hostKey: string = reveal(r.outputs.hostKey);
    assert.equal(isSecret(r.outputs.hostKey), false, "hostKey is a plain output");
    assert.equal(parseHostKeyLine(hostKey).type, "ssh-ed25519", `an ed25519 key line, got ${hostKey}`);
    assert.equal(isSecret(r.outputs.connection), true, "the connection is secret");
    assert.equal(reveal(r.outputs.connection).hostKey, hostKey, "the connection pins the host key");
    const instance = stack({}).resources().find((x) => x.name === "demo-instance");
    assert.ok(instance, "the instance is in the state");
    assert.equal(isSecret(instance.inputs.userData), true, "userData is stored as a secret");
    const document = Buffer.from(reveal(instance.inputs.userData), "base64").toString("utf8");
    assert.ok(document.includes(`ed25519_public: ${hostKey}`), "the userData installs that key");
    const leaked = stack({}).plainValues().filter((v) => /PRIVATE KEY/.test(String(v)));
    assert.deepEqual(leaked, [], "no private key is stored in plain text");
  });

  test("SSH CIDRs [A, B] -> [B]: only A's rule is deleted; B's rule and everything else stay as they are", async () => {
    const r = await up({ ssh: { port: 22, user: "root", allowedCidrs: [B] } }, "drop A");
    assert.deepEqual(changes(r), [`demo-allow-tcp-22-from-${A}:delete`], "steps that changed something");
  });

  test("a CIDR added in front and a port added in front: only the new rules are created", async () => {
    const r = await up(
      { ssh: { port: 22, user: "root", allowedCidrs: [C, B] }, appPorts: [{ port: 8443, allowedCidrs: [A] }, { port: 8000, allowedCidrs: [A] }] },
      "add C and 8443",
    );
    assert.deepEqual(changes(r), [`demo-allow-tcp-22-from-${C}:create`, `demo-allow-tcp-8443-from-${A}:create`], "steps that changed something");
  });

  test("reordered CIDRs and ports: nothing changes", async () => {
    const r = await up(
      { ssh: { port: 22, user: "root", allowedCidrs: [B, C] }, appPorts: [{ port: 8000, allowedCidrs: [A] }, { port: 8443, allowedCidrs: [A] }] },
      "reorder",
    );
    assert.deepEqual(changes(r), [], "steps that changed something");
  });

  test("new Docker and registry mirrors: the instance is not touched (no update, so no reboot)", async () => {
    const r = await up(
      {
        ssh: { port: 22, user: "root", allowedCidrs: [B, C] },
        appPorts: [{ port: 8000, allowedCidrs: [A] }, { port: 8443, allowedCidrs: [A] }],
        cloudInit: { mirror: ALIYUN_VPC_DOCKER_CE_MIRROR, registryMirrors: ["https://registry-mirror.example.com"] },
      },
      "mirror change",
    );
    assert.deepEqual(changes(r), [], "steps that changed something");
    assert.ok(r.steps.some((s) => s.name === "demo-instance" && s.op === "same"), "the instance was considered and left alone");
  });
});
