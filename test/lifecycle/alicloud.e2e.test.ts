// The program (index.ts), target `alicloud`, through the engine harness: the cloud resources are
// mocked (test/lifecycle/fixtures/cloud.ts), and the "new ECS instance" is a Docker-in-Docker
// test server that boots with the host key cloud-init would install. The deploy runs for real
// over SSH, pinned to that key.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { waitForHttp200 } from "../support/docker/localEngine";
import { presentedHostKey, serverExec, TestServer } from "../support/ssh/sshServer";
import { appValue, ExampleProject, mustSucceed, ops, programStack, reveal, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";

const APP = uniqueApp("ali");
const PORT = 8090;
let server: TestServer;
let project: ExampleProject;
let stateDir: string;

function stack(deploy: Record<string, unknown> = {}) {
  return programStack({
    stateDir,
    stack: "ali",
    cloud: path.join(__dirname, "fixtures", "cloud.ts"),
    env: { PYDEPLOY_TEST_SERVER: server.container, PYDEPLOY_TEST_SERVER_IP: server.host },
    config: {
      "alicloud:region": "cn-hangzhou",
      "pydeploy:target": "alicloud",
      "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
      "pydeploy:server": {
        instanceType: "ecs.g7.large",
        imageId: "ubuntu_22_04_x64_20G_alibase_20240508.vhd",
        zoneId: "cn-hangzhou-h",
        sshAllowedCidrs: ["198.51.100.0/24"],
      },
      "pydeploy:deploy": { healthTimeoutSeconds: 30, stopGraceSeconds: 5, ...deploy },
    },
  });
}

describe("lifecycle, target alicloud (mocked cloud, real SSH deploy)", { timeout: 20 * 60_000 }, () => {
  before(async () => {
    ({ server, project, stateDir } = await startServerScenario("lifecycle-ali"));
  });

  after(async () => {
    await stopServerScenario(APP, { server, project, stateDir });
  });

  test("the first up creates the server, whose host key the deploy pins, and serves the app", async () => {
    const r = mustSucceed(await stack().up(), "first up");
    const hostKey = reveal(r.outputs.hostKey) as string;
    assert.match(hostKey, /^ssh-ed25519 AAAA/, "the stack exports the generated host key");
    assert.equal(await presentedHostKey(server.host), hostKey, "the booted server presents it");
    assert.ok(ops(r).includes(`${APP}-instance:create`) && ops(r).includes(`${APP}-release:create`), `server and deploy created: ${ops(r)}`);
    assert.doesNotMatch(stepOutput(r, `${APP}-host`), /is not pinned/, "no unpinned-key warning: the key was pinned");
    assert.match(await waitForHttp200(`http://${server.host}:${PORT}/`), new RegExp(`hello from ${APP} 1\\.0\\.0`), "the app serves");
  });

  test("a registry mirror change leaves the instance alone; the host step applies it over SSH", async () => {
    const mirror = "https://registry-mirror.example.com";
    const r = mustSucceed(await stack({ registryMirrors: [mirror] }).up(), "mirror change");
    const changed = ops(r).filter((o) => !o.endsWith(":same"));
    assert.deepEqual(changed, [`${APP}-host:update`], "only the host step runs");
    const daemon = JSON.parse((await serverExec(server, ["cat", "/etc/docker/daemon.json"])).stdout);
    assert.deepEqual(daemon["registry-mirrors"], [mirror], "daemon.json has the mirror");
  });

  test("destroy removes the app from the server, then the cloud resources", async () => {
    const r = mustSucceed(await stack({ registryMirrors: ["https://registry-mirror.example.com"] }).destroy(), "destroy");
    const order = ops(r);
    assert.ok(order.indexOf(`${APP}-host:delete`) < order.indexOf(`${APP}-instance:delete`), `the app goes before the instance: ${order}`);
    const left = await serverExec(server, ["sh", "-c", `docker ps -aq --filter label=pydeploy.app=${APP}; ls -A /root/.pydeploy`], { allowFailure: true });
    assert.equal(left.stdout.trim(), "", "no container and no app folder left");
  });
});
