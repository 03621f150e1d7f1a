import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../components/config/schema";
import { loadStackFile, readStackFile } from "../../components/config/stackFile";
import { REPO_ROOT } from "../support/docker/localEngine";

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

describe("reading a stack file: a Pulumi.yaml without a name, which files are stacks, what counts as a secret", () => {
  const project = (files: Record<string, string>, fn: (dir: string) => void) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-stackfile-"));
    try {
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
      fs.mkdirSync(path.join(dir, "app"));
      fs.writeFileSync(path.join(dir, "app", "requirements.txt"), "");
      fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const APP = "  pydeploy:app: {name: svc, path: app, roles: {web: {command: [python, -m, svc], port: 8000}}}\n";

  it("a Pulumi.yaml without a name is refused, naming the file", () => {
    for (const text of ["", "runtime: nodejs\n"]) {
      project({ "Pulumi.yaml": text, "Pulumi.test.yaml": `config:\n${APP}` }, (dir) => {
        assert.throws(() => readStackFile(dir, "test"), (err: Error) => err.message === `${path.join(dir, "Pulumi.yaml")}: expected a project name`, `Pulumi.yaml ${JSON.stringify(text)}`);
      });
    }
  });

  it("the known stacks are the Pulumi.<stack>.yaml files only; none when there are none", () => {
    project({ "Pulumi.yaml": "name: pydeploy\n", "Pulumi.a.yaml": "", "Pulumi.b.yaml": "", "xPulumi.c.yaml": "", "Pulumi.d.yaml.bak": "", "README.md": "" }, (dir) => {
      const message = (() => {
        try {
          readStackFile(dir, "nosuch");
        } catch (err) {
          return (err as Error).message;
        }
        assert.fail("a missing stack file was accepted");
      })();
      const known = /; known stacks: (.*)$/.exec(message)?.[1].split(", ").sort();
      assert.deepEqual(known, ["a", "b"], `the two stack files, comma-separated: ${message}`);
    });
    project({ "Pulumi.yaml": "name: pydeploy\n" }, (dir) => {
      assert.throws(() => readStackFile(dir, "dev"), /; known stacks: none$/, "no stack file at all");
    });
  });

  it("only an object whose one key is `secure` is a secret: a map with a key named secure stays a map; lists are searched too", () => {
    const yaml = [
      "config:",
      "  pydeploy:app:",
      "    name: svc",
      "    path: app",
      "    env: {secure: not-a-secret, OTHER: x}",
      "    roles:",
      "      web:",
      "        command: [python, {secure: v1:abcdef}]",
      "        port: 8000",
      "",
    ].join("\n");
    project({ "Pulumi.yaml": "name: pydeploy\n", "Pulumi.test.yaml": yaml }, (dir) => {
      const c = loadStackFile(dir, "test");
      assert.deepEqual(c.app.env, { secure: "not-a-secret", OTHER: "x" }, "a variable named secure is a plain value");
      assert.deepEqual(c.app.roles[0].command, ["python", "(encrypted in the stack file)"], "a secure value inside a list gets the stand-in");
    });
  });
});
