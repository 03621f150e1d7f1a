// LocalDeployment under Pulumi mocks: one docker.Container per role with the same run settings
// as the remote `docker run` (ports, restart, init, labels, log rotation, health gate).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig, DeployConfig } from "../../components/config/schema";
import { parseStackConfig } from "../../components/config/schema";
import { readStackFile } from "../../components/config/stackFile";
import type { LocalDeployment } from "../../components/deploy/localDeployment";
import { roleSpecs } from "../../components/deploy/roles";
import { REPO_ROOT } from "../support/docker";
import { installMocks, isWireSecret, recordArgs, reveal, valueOf, type RecordedArgs, type RecordedResource } from "../support/mocks";

const CONTAINER = "docker:index/container:Container";
const mocks = installMocks({ stack: "local" });

const DIGEST = `sha256:${"ef".repeat(32)}`;
const ENV = { DEMO_SECRET_TOKEN: "local-s3cr3t-4d2a" };

let Deployment: typeof LocalDeployment;
before(async () => {
  ({ LocalDeployment: Deployment } = await import("../../components/deploy/localDeployment"));
});

/** The local stack's config, with `over` merged into app and `deploy` set (to see it used). */
function config(appOver: Record<string, unknown> = {}): { app: AppConfig; deploy: DeployConfig } {
  const raw = readStackFile(REPO_ROOT, "local");
  raw.values.app = { ...(raw.values.app as object), ...appOver };
  raw.values.deploy = { healthTimeoutSeconds: 90, logMaxSize: "20m", logMaxFiles: 5 };
  const { app, deploy } = parseStackConfig(raw);
  return { app, deploy };
}

interface Scenario {
  name: string;
  app: AppConfig;
  component: LocalDeployment;
  children: RecordedArgs[];
  registered: RecordedResource[];
  containers: string[];
  urls: string[];
}

async function deployWith(name: string, c: { app: AppConfig; deploy: DeployConfig }): Promise<Scenario> {
  const recorder = recordArgs();
  const component = new Deployment(name, { ...c, repoDigest: DIGEST, secretEnv: ENV }, { transformations: [recorder.transformation] });
  const children = recorder.records.filter((r) => r.resource !== component);
  const [containers, urls] = await Promise.all([valueOf(component.containers), valueOf(component.urls), ...children.map((x) => valueOf(x.resource.urn))]);
  const registered = children.map((x) => {
    const rs = mocks.byType(CONTAINER).filter((r) => r.name === x.name);
    assert.equal(rs.length, 1, `${x.name} registered once`);
    return rs[0];
  });
  return { name, app: c.app, component, children, registered, containers, urls };
}

describe("LocalDeployment, roles mode (the local stack)", () => {
  let s: Scenario;
  let web: any;
  let worker: any;
  before(async () => {
    s = await deployWith("loc", config());
    [web, worker] = s.registered.map((r) => r.inputs);
  });

  test("one container per role, named <name>-<role>, web first, parented to the component", () => {
    assert.deepEqual(s.children.map((c) => [c.type, c.name]), [[CONTAINER, "loc-web"], [CONTAINER, "loc-worker"]]);
    for (const c of s.children) assert.equal(c.parent, s.component);
    assert.deepEqual([web.name, worker.name], ["demo-web", "demo-worker"]);
  });

  test("runs the built image by its digest, with each role's command", () => {
    assert.equal(web.image, DIGEST);
    assert.equal(worker.image, DIGEST);
    assert.deepEqual(web.command, ["python", "-m", "demo.web"]);
    assert.deepEqual(worker.command, ["python", "-m", "demo.worker"]);
  });

  test("ports from the config: container port inside, published port outside; none for the worker", () => {
    assert.deepEqual(web.ports.map((p: any) => [p.internal, p.external]), [[8000, 8000]]);
    assert.deepEqual(worker.ports ?? [], []);
  });

  test("restart unless-stopped, init, app/role labels, json-file logs rotated as configured", () => {
    for (const [role, i] of [["web", web], ["worker", worker]] as const) {
      assert.equal(i.restart, "unless-stopped", role);
      assert.equal(i.init, true, role);
      assert.equal(i.mustRun, true, role);
      assert.deepEqual(i.labels, [{ label: "pydeploy.app", value: "demo" }, { label: "pydeploy.role", value: role }]);
      assert.equal(i.logDriver, "json-file", role);
      assert.deepEqual(i.logOpts, { "max-size": "20m", "max-file": "5" }, role);
    }
  });

  test("healthcheck: the web's HTTP probe in exec form; NONE for the worker, overriding the image's", () => {
    const probe = roleSpecs(s.app).find((r) => r.role === "web")!.healthcheck!;
    assert.deepEqual(web.healthcheck, { tests: ["CMD", ...probe.test], interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s" });
    assert.match(web.healthcheck.tests[3], /"127\.0\.0\.1", 8000/);
    assert.match(web.healthcheck.tests[3], /"\/health"/);
    assert.deepEqual(worker.healthcheck, { tests: ["NONE"] });
  });

  test("wait for healthy only where there is a healthcheck, for deploy.healthTimeoutSeconds", () => {
    assert.deepEqual([web.wait, worker.wait], [true, false]);
    assert.deepEqual([web.waitTimeout, worker.waitTimeout], [90, 90]);
  });

  test("the secret env goes in as a secret, KEY=value", async () => {
    for (const [i, c] of s.registered.map((r, k) => [r.inputs, s.children[k]] as const)) {
      assert.equal(isWireSecret(i.envs), true, `${c.name}: envs secret on the wire`);
      assert.deepEqual(reveal(i.envs), ["DEMO_SECRET_TOKEN=local-s3cr3t-4d2a"]);
      assert.equal(await pulumi.isSecret(c.props.envs), true, `${c.name}: envs is a secret Output`);
    }
  });

  test("replacement deletes first (fixed name and host port); the worker waits for the web", () => {
    const [w, k] = s.children;
    // The transformation sees ResourceOptions; a container's are CustomResourceOptions.
    assert.equal((w.opts as pulumi.CustomResourceOptions).deleteBeforeReplace, true);
    assert.equal((k.opts as pulumi.CustomResourceOptions).deleteBeforeReplace, true);
    assert.deepEqual(w.opts.dependsOn, []);
    assert.deepEqual(k.opts.dependsOn, [w.resource]);
  });

  test("outputs: container names and the published URL", () => {
    assert.deepEqual(s.containers, ["demo-web", "demo-worker"]);
    assert.deepEqual(s.urls, ["http://localhost:8000/"]);
  });
});

describe("LocalDeployment, single mode", () => {
  test("one container running the image's entrypoint, every role's port, the web's healthcheck", async () => {
    const s = await deployWith(
      "one",
      config({
        mode: "single",
        roles: {
          worker: { command: ["python", "-m", "demo.worker"] },
          web: { command: ["python", "-m", "demo.web"], port: 8000, publish: 8080, healthcheck: { path: "/health" } },
        },
      }),
    );
    assert.deepEqual(s.children.map((c) => c.name), ["one-app"]);
    const i = s.registered[0].inputs;
    assert.equal(i.name, "demo-app");
    assert.equal(i.command, undefined, "the image's CMD: the generated entrypoint");
    assert.deepEqual(i.ports.map((p: any) => [p.internal, p.external]), [[8000, 8080]]);
    assert.equal(i.healthcheck.tests[0], "CMD");
    assert.equal(i.wait, true);
    assert.deepEqual(i.labels, [{ label: "pydeploy.app", value: "demo" }, { label: "pydeploy.role", value: "app" }]);
    assert.deepEqual(s.urls, ["http://localhost:8080/"]);
  });
});
