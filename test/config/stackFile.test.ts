import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../components/config/schema";
import { loadStackFile, readStackFile } from "../../components/config/stackFile";
import { REPO_ROOT } from "../support/docker";

describe("the committed stack files", () => {
  it("local: deploys the example to the local engine, no cloud", () => {
    const c = loadStackFile(REPO_ROOT, "local");
    assert.equal(c.target, "local");
    assert.equal(c.app.path, path.join(REPO_ROOT, "example"));
    assert.deepEqual(c.app.roles.map((r) => r.name), ["web", "worker"]);
    assert.deepEqual(c.warnings, []);
  });

  it("dev: a small burstable instance, low bandwidth, SSH open with a warning", () => {
    const c = loadStackFile(REPO_ROOT, "dev");
    assert.equal(c.target, "alicloud");
    assert.equal(c.environment, "development");
    assert.match(c.server!.instanceType!, /^ecs\.t[0-9]/, "a burstable (t-family) instance");
    assert.ok(c.server!.internetMaxBandwidthOut <= 5, `dev bandwidth ${c.server!.internetMaxBandwidthOut} Mbit/s: at most 5 keeps a test stack cheap`);
    assert.deepEqual(c.server!.sshAllowedCidrs, ["0.0.0.0/0"]);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], /SSH \(port 22\) is open to 0\.0\.0\.0\/0/);
    assert.equal(c.app.roles.find((r) => r.name === "web")!.publish, 80);
  });

  it("prod: a larger instance, SSH restricted, deletion protection", () => {
    const c = loadStackFile(REPO_ROOT, "prod");
    const dev = loadStackFile(REPO_ROOT, "dev");
    assert.equal(c.environment, "production");
    assert.equal(c.server!.deletionProtection, true);
    assert.ok(c.server!.sshAllowedCidrs.length > 0, "prod lists the CIDRs allowed to reach SSH");
    assert.ok(c.server!.sshAllowedCidrs.every((cidr) => !cidr.endsWith("/0")), "SSH is not open to the world");
    assert.notEqual(c.server!.instanceType, dev.server!.instanceType);
    assert.ok(c.server!.internetMaxBandwidthOut > dev.server!.internetMaxBandwidthOut, `prod bandwidth ${c.server!.internetMaxBandwidthOut} Mbit/s is above dev's ${dev.server!.internetMaxBandwidthOut}`);
    assert.deepEqual(c.warnings, []);
  });
});

describe("reading a stack file", () => {
  const withProject = (stackYaml: string, fn: (dir: string) => void) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-stack-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: pydeploy\nruntime: nodejs\n");
      fs.writeFileSync(path.join(dir, "Pulumi.test.yaml"), stackYaml);
      fs.mkdirSync(path.join(dir, "app"));
      // A project declares its dependencies (or app.requirements: none); an empty list will do.
      fs.writeFileSync(path.join(dir, "app", "requirements.txt"), "");
      fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it("stands in for encrypted values without needing the passphrase", () => {
    const yaml = [
      "config:",
      "  pydeploy:target: existing",
      "  pydeploy:host: {address: 203.0.113.5}",
      "  pydeploy:sshPrivateKey:",
      "    secure: v1:abcdef",
      "  pydeploy:secretEnv:",
      "    TOKEN:",
      "      secure: v1:123456",
      "  pydeploy:app: {name: svc, path: app, roles: {web: {command: [python, -m, svc], port: 8000}}}",
      "",
    ].join("\n");
    withProject(yaml, (dir) => {
      const raw = readStackFile(dir, "test");
      assert.equal(raw.project, "pydeploy");
      assert.equal((raw.values.secretEnv as Record<string, string>).TOKEN, "(encrypted in the stack file)");
      const c = loadStackFile(dir, "test");
      assert.equal(c.target, "existing");
      assert.match(c.secrets.sshPrivateKey!, /BEGIN OPENSSH PRIVATE KEY/);
    });
  });

  it("names the stacks it knows when the stack file is missing", () => {
    withProject("config: {}\n", (dir) => {
      assert.throws(() => readStackFile(dir, "staging"), /no stack file .*Pulumi\.staging\.yaml; known stacks: test/);
    });
  });

  it("reports config errors with their keys", () => {
    withProject("config:\n  pydeploy:app: {name: svc, path: missing, roles: {web: {command: [run]}}}\n", (dir) => {
      assert.throws(() => loadStackFile(dir, "test"), (err: unknown) => err instanceof ConfigError && /pydeploy:app\.path: expected a directory/.test(err.message));
    });
  });
});
