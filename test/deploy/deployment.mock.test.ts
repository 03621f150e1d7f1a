// AppDeployment under Pulumi mocks: what the engine is handed. Secrets (SSH key, env values,
// registry password) reach a step only through its secret stdin; the step specs are plain
// JSON the runner accepts; and only the host step has a delete or triggers, so every other
// change is an in-place update (provider-semantics.md: "triggers always replace", "the old
// delete runs at the end").
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { AppConfig, DeployConfig } from "../../components/config/schema";
import { loadStackFile } from "../../components/config/stackFile";
import { hostSpecSchema, releaseSpecSchema, shipSpecSchema, SPEC_ENV } from "../../components/deploy/spec";
import { REPO_ROOT } from "../support/docker/localEngine";
import { installMocks, isWireSecret, reveal, valueOf } from "../support/mocks/mocks";

const LOCAL = "command:local:Command";
const IMAGE_ID = `sha256:${"ab".repeat(32)}`;
const RESULT = `pydeploy: release live\npydeploy-result: {"version":"0123456789ab","containers":["demo-web-0123456789ab","demo-worker-0123456789ab"]}`;
const mocks = installMocks({ stack: "dev", outputs: (r) => (r.type === LOCAL && r.name.endsWith("-release") ? { stdout: RESULT } : undefined) });

const ENV = { DEMO_SECRET_TOKEN: "env-s3cr3t-value-81f2", DJANGO_SECRET_KEY: "dj-k3y-value-77aa" };
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nPRIVATE-KEY-MATERIAL-0c9d\n-----END OPENSSH PRIVATE KEY-----\n";
const PASSWORD = "registry-pa55word-3e1b";
const SECRETS = [...Object.values(ENV), "PRIVATE-KEY-MATERIAL-0c9d", PASSWORD];
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEGf6iyThpmMZTldUcONmOTdcES4GmFrYwoHJgpQf2UX";

let app: AppConfig;
let deploy: DeployConfig;
let deployment: typeof import("../../components/deploy/deployment");
before(async () => {
  deployment = await import("../../components/deploy/deployment");
  ({ app, deploy } = loadStackFile(REPO_ROOT, "dev"));
});

function steps(prefix: string) {
  return mocks.resources.filter((r) => r.type === LOCAL && r.name.startsWith(`${prefix}-`));
}

describe("AppDeployment (SSH target, registry mode)", () => {
  let containers: string[];
  before(async () => {
    const d = new deployment.AppDeployment("ssh", {
      target: { kind: "ssh", connection: { host: "203.0.113.20", port: 2222, user: "deploy", privateKey: PRIVATE_KEY, hostKey: HOST_KEY } },
      app,
      deploy,
      imageName: "registry.example.com/ns/demo:dev",
      repoDigest: `registry.example.com/ns/demo@${IMAGE_ID}`,
      registry: { server: "registry.example.com", username: "me", password: PASSWORD },
      secretEnv: ENV,
      proxyImage: { imageName: "registry.example.com/ns/demo-proxy:dev", repoDigest: `registry.example.com/ns/demo-proxy@sha256:${"ef".repeat(32)}` },
      dockerInstall: { mirror: "https://mirrors.aliyun.com/docker-ce", registryMirrors: [] },
    });
    containers = await valueOf(d.containers);
  });

  test("three steps: host, ship, release, run by the deployer", () => {
    assert.deepEqual(steps("ssh").map((r) => [r.name, r.inputs.create]), [
      ["ssh-host", "node components/deploy/runner/launch.cjs host"],
      ["ssh-ship", "node components/deploy/runner/launch.cjs ship"],
      ["ssh-release", "node components/deploy/runner/launch.cjs release"],
    ], "the steps and their commands");
  });

  test("only the host step deletes (`remove`) and is replaced by a new host; ship and release change in place", () => {
    const [host, ship, release] = steps("ssh");
    assert.equal(host.inputs.delete, "node components/deploy/runner/launch.cjs remove", "host's delete removes the app");
    assert.deepEqual(host.inputs.triggers, ["203.0.113.20:2222"], "host is replaced when the machine changes, not the user");
    for (const r of [ship, release]) {
      assert.equal(r.inputs.delete, undefined, `${r.name} has no delete: nothing runs at the end of a deployment`);
      assert.equal(r.inputs.triggers, undefined, `${r.name} has no triggers: a change is an update`);
      assert.equal(r.inputs.addPreviousOutputInEnv, false, `${r.name} does not pass its log back through the environment`);
    }
  });

  test("the specs are plain JSON the runner accepts, naming the host and its pinned key", () => {
    const [host, ship, release] = steps("ssh").map((r) => JSON.parse(r.inputs.environment[SPEC_ENV]));
    const target = { kind: "ssh", host: "203.0.113.20", port: 2222, user: "deploy", hostKey: HOST_KEY };
    assert.deepEqual(hostSpecSchema.parse(host).target, target, "host spec");
    assert.deepEqual(shipSpecSchema.parse(ship).image, { name: "registry.example.com/ns/demo:dev", identity: `registry.example.com/ns/demo@${IMAGE_ID}`, serverTag: "registry.example.com/ns/demo:abababababab", base: "python:3.12-slim" }, "ship spec image, built FROM the default base");
    assert.deepEqual(shipSpecSchema.parse(ship).registry, { server: "registry.example.com", username: "me" }, "ship pulls from the registry");
    assert.equal(releaseSpecSchema.parse(release).settings.image, "registry.example.com/ns/demo:abababababab", "release runs the server tag");
  });

  test("secrets appear in no command, delete or spec; each step reads only its own, on secret stdin", () => {
    for (const r of steps("ssh")) {
      const plain = JSON.stringify([r.inputs.create, r.inputs.delete, r.inputs.update, r.inputs.environment, r.inputs.triggers]);
      for (const s of SECRETS) assert.ok(!plain.includes(s), `${r.name} carries a secret outside stdin`);
      assert.equal(isWireSecret(r.inputs.stdin), true, `${r.name}'s stdin is a secret`);
    }
    const [host, ship, release] = steps("ssh").map((r) => JSON.parse(reveal(r.inputs.stdin)));
    assert.deepEqual(host, { privateKey: PRIVATE_KEY }, "host reads the key");
    assert.deepEqual(ship, { privateKey: PRIVATE_KEY, registryPassword: PASSWORD }, "ship reads the key and the registry password");
    assert.deepEqual(release, { privateKey: PRIVATE_KEY, env: ENV }, "release reads the key and the env");
  });

  test("the containers output comes from the release's result line", () => {
    assert.deepEqual(containers, ["demo-web-0123456789ab", "demo-worker-0123456789ab"], "parsed from stdout");
  });
});

/** An AppDeployment on the local engine, waited for. */
async function deployLocally(name: string, extra: { dockerHost?: string } = {}): Promise<void> {
  const d = new deployment.AppDeployment(name, {
    target: { kind: "local" },
    app,
    deploy,
    imageName: "pydeploy/demo:local",
    repoDigest: IMAGE_ID,
    secretEnv: ENV,
    proxyImage: { imageName: "pydeploy/demo-proxy:local", repoDigest: `sha256:${"cd".repeat(32)}` },
    ...extra,
  });
  await valueOf(d.containers);
}

describe("AppDeployment (local target)", () => {
  before(async () => {
    await deployLocally("loc");
  });

  test("the same three steps on the local engine; no key on stdin", () => {
    const all = steps("loc");
    assert.deepEqual(all.map((r) => r.name), ["loc-host", "loc-ship", "loc-release"], "three steps");
    for (const r of all) assert.deepEqual(JSON.parse(r.inputs.environment[SPEC_ENV]).target, { kind: "local" }, `${r.name} targets the local engine`);
    assert.deepEqual(JSON.parse(reveal(all[2].inputs.stdin)), { env: ENV }, "the release reads only the env");
    assert.deepEqual(all[0].inputs.triggers, ["local"], "the host step's identity");
    for (const r of all) assert.deepEqual(Object.keys(r.inputs.environment), [SPEC_ENV], `${r.name}: the deployer finds the provider's daemon itself`);
  });
});

describe("AppDeployment with the docker:host config", () => {
  before(async () => {
    await deployLocally("dh", { dockerHost: "tcp://10.0.0.5:2375" });
  });

  test("every step runs its local docker commands where the docker provider builds", () => {
    for (const r of steps("dh")) assert.equal(r.inputs.environment.DOCKER_HOST, "tcp://10.0.0.5:2375", `${r.name}'s DOCKER_HOST`);
  });
});
