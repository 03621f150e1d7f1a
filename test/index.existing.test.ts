// The program (index.ts) with target existing: a server you already have, reached with a
// secret key; nothing is provisioned, and secret env values stay out of every command line.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { planStepNames } from "../components/deploy/commands";
import { exampleAppValues, importProgram } from "./support/program";
import { drainRegistrations, installMocks, isWireSecret, reveal, valueOf } from "./support/mocks";

const LOCAL_ID = `sha256:${"56".repeat(32)}`;
const HOST = { address: "198.51.100.7", port: 2222, user: "deploy" };
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nEXISTING-KEY-MATERIAL-5a7c\n-----END OPENSSH PRIVATE KEY-----\n";
const SECRET_ENV = { DEMO_SECRET_TOKEN: "tok-s3cr3t-9e4f", DJANGO_SECRET_KEY: "dj-s3cr3t-1b2c" };
const T = { command: "command:remote:Command", copy: "command:remote:CopyToRemote", image: "docker:index/image:Image" };

// The local stack's app, deployed to an existing host instead.
const mocks = installMocks({
  stack: "mybox",
  config: {
    "pydeploy:app": exampleAppValues(),
    "pydeploy:target": "existing",
    "pydeploy:host": HOST,
    "pydeploy:sshPrivateKey": PRIVATE_KEY,
    "pydeploy:secretEnv": SECRET_ENV,
  },
  secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv"],
  outputs: (r) => {
    if (r.type === T.image) return { repoDigest: LOCAL_ID };
    if (r.type === T.command && r.name.endsWith("-probe")) return { stdout: "present" };
    return undefined;
  },
});

let program: typeof import("../index");
before(async () => {
  program = await importProgram();
  await Promise.all([valueOf(program.containers), valueOf(program.commands), valueOf(program.appUrls)]);
  await drainRegistrations();
});

const steps = () => mocks.resources.filter((r) => r.type === T.command || r.type === T.copy);

describe("program, target existing", () => {
  test("nothing is provisioned: no alicloud or tls resource, no lookup, no local container", () => {
    assert.deepEqual(mocks.resources.filter((r) => /^(alicloud|tls):/.test(r.type)).map((r) => r.name), []);
    assert.deepEqual(mocks.calls, []);
    assert.equal(mocks.byType("docker:index/container:Container").length, 0);
  });

  test("one remote step per plan step", () => {
    assert.deepEqual(steps().map((r) => r.name).sort(), planStepNames("copy").map((s) => `demo-${s}`).sort());
  });

  test("every step connects to the configured address, port and user with the configured key, as a secret", () => {
    for (const r of steps()) {
      assert.equal(isWireSecret(r.inputs.connection), true, r.name);
      const c = reveal(r.inputs.connection);
      assert.deepEqual([c.host, c.port, c.user, c.privateKey], [HOST.address, HOST.port, HOST.user, PRIVATE_KEY], r.name);
    }
  });

  test("secret env values and the key appear in no create, update or delete; the env file arrives on stdin", () => {
    const secrets = [...Object.values(SECRET_ENV), "EXISTING-KEY-MATERIAL-5a7c"];
    for (const r of steps()) {
      for (const key of ["create", "update", "delete"]) {
        const v = r.inputs[key];
        if (v === undefined) continue;
        assert.equal(typeof v, "string", `${r.name}.${key} is a plain string`);
        for (const s of secrets) assert.ok(!v.includes(s), `${r.name}.${key} contains a secret`);
      }
    }
    const env = steps().find((r) => r.name === "demo-env")!;
    assert.equal(isWireSecret(env.inputs.stdin), true);
    assert.equal(reveal(env.inputs.stdin), "DEMO_SECRET_TOKEN=tok-s3cr3t-9e4f\nDJANGO_SECRET_KEY=dj-s3cr3t-1b2c\n");
  });

  test("outputs: URLs and ssh on the configured host; no server facts, no key export", async () => {
    assert.equal(program.target, "existing");
    assert.deepEqual(await valueOf(program.appUrls), ["http://198.51.100.7:8000/"]);
    const c = await valueOf(program.commands);
    assert.equal(c.ssh, "ssh -i ~/.ssh/pydeploy-demo-mybox -p 2222 deploy@198.51.100.7");
    for (const name of ["publicIp", "privateIp", "instanceId", "securityGroupId", "sshPrivateKey"] as const) {
      assert.equal(program[name], undefined, name);
    }
    const containers = await valueOf(program.containers);
    assert.equal(await pulumi.isSecret(program.containers), false, "container names are plain");
    for (const s of Object.values(SECRET_ENV)) assert.ok(!containers.join(" ").includes(s));
  });
});
