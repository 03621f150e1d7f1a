// The program (index.ts) with the committed local stack, under Pulumi mocks: an image built
// without a push and two containers on the local engine; no cloud and no SSH resource.
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import { REPO_ROOT } from "./support/docker";
import { committedStackConfig, importProgram } from "./support/program";
import { drainRegistrations, installMocks, recordRegistrations, valueOf, type Registration } from "./support/mocks";

const LOCAL_ID = `sha256:${"12".repeat(32)}`;
const T = {
  appImage: "pydeploy:image:AppImage",
  image: "docker:index/image:Image",
  local: "pydeploy:deploy:LocalDeployment",
  container: "docker:index/container:Container",
};

const mocks = installMocks({
  stack: "local",
  config: committedStackConfig("local"),
  // A build without a push reports the local image ID.
  outputs: (r) => (r.type === T.image ? { repoDigest: LOCAL_ID } : undefined),
});
const registrations = recordRegistrations();

let program: typeof import("../index");
before(async () => {
  // Pulumi runs the program from the project directory; app.path is relative to it.
  program = await importProgram();
  await Promise.all([valueOf(program.containers), valueOf(program.commands), valueOf(program.imageDigest), valueOf(program.generatedFiles)]);
  await drainRegistrations();
});

const only = (type: string) => {
  const rs = mocks.byType(type);
  assert.equal(rs.length, 1, `one ${type}, got ${rs.map((r) => r.name).join(", ") || "none"}`);
  return rs[0];
};
const reg = (name: string): Registration => {
  const r = registrations.find((x) => x.name === name);
  assert.ok(r, `${name} registered`);
  return r;
};

describe("program, local stack", () => {
  test("exactly an AppImage with its docker.Image and a LocalDeployment with two containers", () => {
    assert.deepEqual(
      mocks.resources.map((r) => `${r.type} ${r.name}`).sort(),
      [`${T.appImage} demo`, `${T.image} demo-image`, `${T.local} demo`, `${T.container} demo-web`, `${T.container} demo-worker`].sort(),
    );
    assert.equal(mocks.resources.filter((r) => /^(alicloud|command|tls):/.test(r.type)).length, 0);
    assert.deepEqual(mocks.calls, [], "no data source lookups");
  });

  test("the image is built from example/ and not pushed", () => {
    const i = only(T.image).inputs;
    assert.equal(i.imageName, "pydeploy/demo:local");
    assert.equal(i.skipPush, true);
    assert.equal(i.registry, undefined);
    assert.equal(i.build.context, path.join(REPO_ROOT, "example"));
    assert.equal(i.build.dockerfile, path.join(REPO_ROOT, "example", ".pydeploy", "Dockerfile"));
  });

  test("the containers run the built image by ID, so a new build replaces them", () => {
    const image = reg("demo-image");
    for (const name of ["demo-web", "demo-worker"]) {
      assert.equal(mocks.resources.find((r) => r.name === name)!.inputs.image, LOCAL_ID, name);
      assert.ok(reg(name).dependencies.includes(image.urn), `${name} depends on the image`);
    }
    assert.ok(reg("demo-worker").dependencies.includes(reg("demo-web").urn), "the worker waits for the web");
  });

  test("outputs: target, image, containers, URL and generated files", async () => {
    assert.equal(program.target, "local");
    assert.equal(await valueOf(program.imageName), "pydeploy/demo:local");
    assert.equal(await valueOf(program.imageDigest), LOCAL_ID);
    assert.deepEqual(await valueOf(program.containers), ["demo-web", "demo-worker"]);
    assert.deepEqual(await valueOf(program.appUrls), ["http://localhost:8000/"]);
    assert.deepEqual(await valueOf(program.generatedFiles), [
      path.join(REPO_ROOT, "example", ".pydeploy", "Dockerfile"),
      path.join(REPO_ROOT, "example", ".dockerignore"),
    ]);
    for (const name of ["publicIp", "privateIp", "instanceId", "securityGroupId", "sshPrivateKey"] as const) {
      assert.equal(program[name], undefined, `${name} is not exported for the local target`);
    }
  });

  test("commands: the manual checks for the local engine, no ssh", async () => {
    const c = await valueOf(program.commands);
    assert.equal(c.ssh, undefined);
    assert.equal(c.ps, "docker ps -a --filter label=pydeploy.app=demo");
    assert.deepEqual(Object.keys(c.logs), ["web", "worker"]);
    assert.match(c.logs.worker, /^docker logs --tail 100 -f \$\(docker ps -q --filter label=pydeploy\.app=demo --filter label=pydeploy\.role=worker\)$/);
    assert.match(c.shell, /^docker exec -it \$\(docker ps -q .*label=pydeploy\.role=web\) bash$/);
    assert.match(c.ports, /lsof -i:8000$/, "lsof is in app.aptPackages");
  });
});
