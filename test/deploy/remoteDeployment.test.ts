// RemoteDeployment under Pulumi mocks: each step of the pure remote plan becomes one resource,
// in plan order, with the plan's exact strings, secrets kept secret and out of command lines.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig, DeployConfig } from "../../components/config/schema";
import { loadStackFile } from "../../components/config/stackFile";
import { planStepNames, type PlannedStep, type RemoteStep, type ShipMode } from "../../components/deploy/commands";
import { renderEnvFile } from "../../components/deploy/containerSpec";
import type { RemoteDeployment } from "../../components/deploy/remoteDeployment";
import { envFingerprint, remotePlan, type RemotePlan } from "../../components/deploy/remotePlan";
import { dockerInstallScript } from "../../components/server/dockerInstall";
import { REPO_ROOT } from "../support/docker";
import { installMocks, isWireSecret, recordArgs, reveal, valueOf, type RecordedArgs, type RecordedResource } from "../support/mocks";

const T = { command: "command:remote:Command", copy: "command:remote:CopyToRemote" };
const PROBE_STDOUT = "present\n";
const mocks = installMocks({
  stack: "dev",
  // "present" keeps the upload from calling ensureImageArchive (a real `docker save`).
  outputs: (r) => (r.type === T.command && r.name.endsWith("-probe") ? { stdout: PROBE_STDOUT } : undefined),
});

const ENV = { DEMO_SECRET_TOKEN: "env-s3cr3t-value-81f2", DJANGO_SECRET_KEY: "dj-k3y-value-77aa" };
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nPRIVATE-KEY-MATERIAL-0c9d\n-----END OPENSSH PRIVATE KEY-----\n";
const PASSWORD = "registry-pa55word-3e1b";
const SECRETS = [...Object.values(ENV), "PRIVATE-KEY-MATERIAL-0c9d", PASSWORD];
const CONNECTION = { host: "203.0.113.20", port: 2222, user: "deploy", privateKey: PRIVATE_KEY };
const REGISTRY = { server: "registry.cn-hangzhou.aliyuncs.com", username: "me" };
const IMAGES: Record<ShipMode, { imageName: string; repoDigest: string }> = {
  copy: { imageName: "pydeploy/demo:dev", repoDigest: `sha256:${"ab".repeat(32)}` },
  registry: {
    imageName: "registry.cn-hangzhou.aliyuncs.com/my-ns/demo:dev",
    repoDigest: `registry.cn-hangzhou.aliyuncs.com/my-ns/demo@sha256:${"cd".repeat(32)}`,
  },
};
/** Steps that change the server undo it on destroy; wait and probe only read. The pull step's
 *  image is recorded in image-tags and removed by the host step's delete (tested below). */
const HAS_DELETE = new Set(["host", "load", "env", "release"]);
const READ_ONLY = new Set(["wait", "probe"]);

let Deployment: typeof RemoteDeployment;
let app: AppConfig;
let deploy: DeployConfig;
let installScript: string;
before(async () => {
  ({ RemoteDeployment: Deployment } = await import("../../components/deploy/remoteDeployment"));
  ({ app, deploy } = loadStackFile(REPO_ROOT, "dev"));
  installScript = dockerInstallScript({ mirror: deploy.dockerMirror, registryMirrors: deploy.registryMirrors });
});

/** What the component must run: the same pure function on the same inputs. */
function expectedPlan(mode: ShipMode, env: Record<string, string> = ENV, privateKey = PRIVATE_KEY): RemotePlan {
  return remotePlan({
    app,
    deploy,
    ...IMAGES[mode],
    dockerInstallScript: installScript,
    envFingerprint: envFingerprint(renderEnvFile(env), privateKey),
    registry: mode === "registry" ? REGISTRY : undefined,
  });
}

interface Scenario {
  name: string;
  mode: ShipMode;
  component: RemoteDeployment;
  plan: RemotePlan;
  /** The step resources in construction order (the component itself left out). */
  children: RecordedArgs[];
  /** What the mock engine received, by step name. */
  registered: Map<string, RecordedResource>;
  version: string;
  containers: string[];
  releaseLog: string;
}

async function deployWith(mode: ShipMode): Promise<Scenario> {
  const name = `rd-${mode}`;
  const recorder = recordArgs();
  // Plain inputs on purpose: whatever is secret below, the component made so.
  const component = new Deployment(
    name,
    {
      connection: CONNECTION,
      app,
      deploy,
      ...IMAGES[mode],
      registry: mode === "registry" ? { ...REGISTRY, password: PASSWORD } : undefined,
      secretEnv: ENV,
      dockerInstallScript: installScript,
      archiveCacheDir: "/nonexistent/pydeploy-test-cache",
    },
    { transformations: [recorder.transformation] },
  );
  const children = recorder.records.filter((r) => r.resource !== component);
  const [version, containers, releaseLog] = await Promise.all([
    valueOf(component.version),
    valueOf(component.containers),
    valueOf(component.releaseLog),
    ...children.map((c) => valueOf(c.resource.urn)),
  ]);
  const registered = new Map<string, RecordedResource>();
  for (const step of planStepNames(mode)) {
    const rs = mocks.resources.filter((r) => r.name === `${name}-${step}`);
    assert.equal(rs.length, 1, `${name}-${step} registered once`);
    registered.set(step, rs[0]);
  }
  return { name, mode, component, plan: expectedPlan(mode), children, registered, version, containers, releaseLog };
}

const stepOf = (plan: RemotePlan, name: string): RemoteStep => {
  const s = plan.steps.find((p) => p.name === name) as Extract<PlannedStep, { step: RemoteStep }> | undefined;
  assert.ok(s && "step" in s, `plan has a command step ${name}`);
  return s.step;
};

for (const mode of ["copy", "registry"] as const) {
  describe(`RemoteDeployment, ${mode} mode`, () => {
    let s: Scenario;
    before(async () => {
      s = await deployWith(mode);
    });
    const commandSteps = () => planStepNames(mode).filter((n) => n !== "upload");

    test("one resource per plan step, named <name>-<step>, in plan order, parented to the component", () => {
      assert.deepEqual(
        s.children.map((c) => [c.type, c.name]),
        planStepNames(mode).map((step) => [step === "upload" ? T.copy : T.command, `${s.name}-${step}`]),
      );
      for (const c of s.children) assert.equal(c.parent, s.component, `${c.name} parent`);
    });

    test("each step dependsOn exactly the one before", () => {
      s.children.forEach((c, i) => {
        const deps = (c.opts.dependsOn ?? []) as pulumi.Resource[];
        assert.deepEqual(deps, i === 0 ? [] : [s.children[i - 1].resource], `${c.name} dependsOn`);
      });
    });

    test("create is the plan's create, and update runs it again", () => {
      for (const step of commandSteps()) {
        const inputs = s.registered.get(step)!.inputs;
        const planned = stepOf(s.plan, step);
        assert.equal(typeof inputs.create, "string", `${step}: create is plain`);
        assert.equal(inputs.create, planned.create, `${step}: create`);
        assert.equal(inputs.update, planned.create, `${step}: update`);
      }
    });

    test("steps that change the server have the plan's non-empty delete; wait and probe only read", () => {
      for (const step of commandSteps()) {
        const inputs = s.registered.get(step)!.inputs;
        const planned = stepOf(s.plan, step);
        if (HAS_DELETE.has(step)) {
          assert.ok(planned.delete && planned.delete.length > 0, `${step}: plan has a delete`);
          assert.equal(inputs.delete, planned.delete, `${step}: delete`);
        } else {
          assert.ok(READ_ONLY.has(step) || step === "pull", `${step} has no delete`);
          assert.equal(planned.delete, undefined, `${step}: plan has no delete`);
          assert.equal(inputs.delete ?? "", "", `${step}: no delete`);
        }
      }
    });

    test("what load/pull leave (the image tag) is recorded for the host step's delete", () => {
      const tagsFile = `${deploy.remoteDir}/${app.name}/image-tags`;
      const shipStep = mode === "copy" ? "load" : "pull";
      assert.ok((s.registered.get(shipStep)!.inputs.create as string).includes(`>>${tagsFile}`), `${shipStep} records its tag`);
      const hostDelete = s.registered.get("host")!.inputs.delete as string;
      assert.ok(hostDelete.includes(`done <${tagsFile}`) && hostDelete.includes('docker image rm "$tag"'), "host delete removes recorded tags");
    });

    test("triggers: the image for probe/load/pull/upload, image and version for the release, the env file for env", () => {
      const { repoDigest } = IMAGES[mode];
      const triggers = (step: string) => s.registered.get(step)!.inputs.triggers;
      for (const step of ["probe", "load", "pull", "upload"].filter((n) => s.registered.has(n))) {
        assert.deepEqual(triggers(step), [repoDigest], `${step} triggers`);
      }
      assert.deepEqual(triggers("release"), [repoDigest, s.plan.release.version]);
      assert.equal(isWireSecret(triggers("env")), true, "env triggers are stored encrypted");
      assert.deepEqual(reveal(triggers("env")), [renderEnvFile(ENV)]);
      assert.equal(triggers("wait"), undefined);
      assert.equal(triggers("host"), undefined);
    });

    test("stdin: the env file for env, the registry password for pull, nothing for the others; both secret", async () => {
      for (const step of commandSteps()) {
        const inputs = s.registered.get(step)!.inputs;
        const props = s.children.find((c) => c.name === `${s.name}-${step}`)!.props;
        if (step === "env") {
          assert.equal(isWireSecret(inputs.stdin), true, "env stdin secret on the wire");
          assert.equal(reveal(inputs.stdin), renderEnvFile(ENV));
          assert.equal(await pulumi.isSecret(props.stdin), true, "env stdin is a secret Output");
        } else if (step === "pull") {
          assert.equal(isWireSecret(inputs.stdin), true, "pull stdin secret on the wire");
          assert.equal(reveal(inputs.stdin), PASSWORD);
          assert.equal(await pulumi.isSecret(props.stdin), true, "pull stdin is a secret Output");
        } else {
          assert.equal(reveal(inputs.stdin) ?? undefined, undefined, `${step}: no stdin`);
        }
      }
    });

    test("the connection is secret everywhere; only wait dials until the server answers", async () => {
      for (const c of s.children) {
        const step = c.name.slice(s.name.length + 1);
        assert.equal(await pulumi.isSecret(c.props.connection), true, `${step}: connection is a secret Output`);
        const wire = s.registered.get(step)!.inputs.connection;
        assert.equal(isWireSecret(wire), true, `${step}: connection secret on the wire`);
        const conn = reveal(wire);
        assert.deepEqual([conn.host, conn.port, conn.user, conn.privateKey], [CONNECTION.host, CONNECTION.port, CONNECTION.user, PRIVATE_KEY]);
        if (step === "wait") {
          assert.equal(conn.dialErrorLimit, -1);
          assert.equal(conn.perDialTimeout, 10);
        } else {
          // The SDK fills in its default (10): a dead server fails these steps quickly.
          assert.notEqual(conn.dialErrorLimit, -1, `${step}: bounded dialing`);
        }
      }
    });

    test("no previous output in SSH env vars; both streams logged", () => {
      for (const step of commandSteps()) {
        const inputs = s.registered.get(step)!.inputs;
        assert.equal(inputs.addPreviousOutputInEnv, false, step);
        assert.equal(inputs.logging, "stdoutAndStderr", step);
      }
    });

    test("timeouts: wait gets the SSH timeout, the release at least every role's health timeout", () => {
      const timeouts = (step: string) => s.children.find((c) => c.name === `${s.name}-${step}`)!.opts.customTimeouts;
      const secs = (t: string | undefined) => Number(/^(\d+)s$/.exec(t ?? "")?.[1] ?? NaN);
      assert.deepEqual(timeouts("wait"), { create: `${deploy.sshTimeoutSeconds}s`, update: `${deploy.sshTimeoutSeconds}s` });
      const release = timeouts("release")!;
      assert.equal(release.create, release.update);
      assert.ok(secs(release.create) >= deploy.healthTimeoutSeconds * app.roles.length, `release timeout ${release.create}`);
      for (const step of commandSteps().filter((n) => n !== "wait" && n !== "release")) assert.equal(timeouts(step), undefined, step);
    });

    test("no secret value appears in any create, update or delete, nor in a plain input", () => {
      for (const [step, r] of s.registered) {
        for (const key of ["create", "update", "delete", "remotePath", "triggers"]) {
          const v = r.inputs[key];
          if (v === undefined || isWireSecret(v)) continue;
          const text = JSON.stringify(v);
          for (const secret of SECRETS) assert.ok(!text.includes(secret), `${step}.${key} contains a secret`);
        }
      }
    });

    test("outputs: the plan's version, container names, and the release's stdout", () => {
      assert.equal(s.version, s.plan.release.version);
      assert.deepEqual(s.containers, ["web", "worker"].map((role) => `demo-${role}-${s.plan.release.version}`));
      assert.equal(s.releaseLog, "");
    });

    if (mode === "copy") {
      test("upload: a placeholder StringAsset when the probe says present, to the plan's remote path", async () => {
        const upload = s.children.find((c) => c.name === `${s.name}-upload`)!;
        // Outputs copy an asset into a plain object on the way (it keeps __pulumiAsset and text).
        const asset = (await valueOf(pulumi.output(upload.props.source))) as unknown as Record<string, unknown>;
        assert.ok(pulumi.asset.Asset.isInstance(asset), "an asset");
        assert.equal(typeof asset.text, "string", "a string asset");
        assert.equal(asset.path, undefined, "not a FileAsset: no docker save");
        const wire = s.registered.get("upload")!.inputs.source;
        assert.ok(wire instanceof pulumi.asset.StringAsset, "the engine got a StringAsset");
        assert.equal(await wire.text, asset.text);
        const planned = s.plan.steps.find((p) => p.name === "upload") as Extract<PlannedStep, { name: "upload" }>;
        assert.equal(s.registered.get("upload")!.inputs.remotePath, planned.upload.remotePath);
      });
    } else {
      test("the pull step names the registry and user, never the password", () => {
        const create = s.registered.get("pull")!.inputs.create as string;
        assert.ok(create.includes(REGISTRY.server) && create.includes(REGISTRY.username));
        assert.ok(create.includes("--password-stdin"));
      });
    }
  });
}

describe("release version (pure)", () => {
  test("the same inputs give the same version", () => {
    assert.equal(expectedPlan("copy").release.version, expectedPlan("copy").release.version);
    assert.deepEqual(expectedPlan("registry"), expectedPlan("registry"));
  });

  test("changing only a secret env value gives a new version, without the value in it", () => {
    const before = expectedPlan("copy");
    const after = expectedPlan("copy", { ...ENV, DEMO_SECRET_TOKEN: "rotated-value" });
    assert.notEqual(after.release.version, before.release.version);
    // Nothing but the version moved: the image and run settings are unchanged.
    const { version: _a, ...restBefore } = before.release;
    const { version: _b, ...restAfter } = after.release;
    assert.deepEqual(restAfter, restBefore);
    for (const step of after.steps) assert.ok(!JSON.stringify(step).includes("rotated-value"), step.name);
  });

  test("the fingerprint is keyed: another key gives another version for the same env", () => {
    assert.notEqual(expectedPlan("copy", ENV, "another key").release.version, expectedPlan("copy").release.version);
  });
});
