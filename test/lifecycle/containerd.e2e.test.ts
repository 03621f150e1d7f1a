// S11 of issue 7: this machine's engine uses the classic image store (docker.io 20.10), the
// server the containerd image store (trixie's docker.io 26 with containerd-snapshotter, like a
// fresh Docker CE 29), where the same image has another ID. Through the engine harness: first
// deploy, a code-only change that ships one layer, a secret change, the previous version again,
// destroy.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { docker, httpGet, waitForHttp200 } from "../support/docker/localEngine";
import { dockerImageStore, serverExec, TestServer } from "../support/ssh/sshServer";
import { appValue, ExampleProject, lastLayerGzipSize, mustSucceed, programStack, shipResult, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { existingTargetConfig, startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";

const APP = uniqueApp("ctd");
const PORT = 8080;
let server: TestServer;
let project: ExampleProject;
let stateDir: string;
let secret = `tok-${randomBytes(6).toString("hex")}`;

const stack = () =>
  programStack({
    stateDir,
    stack: "ctd",
    secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv"],
    config: {
      ...existingTargetConfig(server),
      "pydeploy:secretEnv": { DEMO_SECRET_TOKEN: secret },
      "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
      "pydeploy:deploy": { keepImages: 3, healthTimeoutSeconds: 30, stopGraceSeconds: 5 },
    },
  });
const url = (p = "/") => `http://${server.host}:${PORT}${p}`;
const onServer = async (script: string) => (await serverExec(server, ["sh", "-c", `cd /root && ${script}`], { allowFailure: true })).stdout.trim();

describe("lifecycle: classic-store deployer, containerd-store server", { timeout: 30 * 60_000 }, () => {
  before(async () => {
    ({ server, project, stateDir } = await startServerScenario("lifecycle-ctd", { store: "containerd" }));
  });

  after(async () => {
    await stopServerScenario(APP, { server, project, stateDir });
  });

  test("the server uses the containerd store, where the deployed image gets another ID", async () => {
    assert.equal(await dockerImageStore(server), "containerd", "the server's image store");
    const r = mustSucceed(await stack().up(), "first up");
    assert.equal(shipResult(r, APP).action, "copied", "the image was copied");
    assert.match(await waitForHttp200(url("/")), new RegExp(`hello from ${APP} 1\\.0\\.0`), "the app serves");
    const localId = (await docker(["image", "inspect", "--format", "{{.Id}}", `pydeploy/${APP}:ctd`])).stdout.trim();
    const tag = `pydeploy/${APP}:${localId.slice(7, 19)}`;
    const remoteId = await onServer(`docker image inspect --format '{{.Id}}' ${tag}`);
    assert.match(remoteId, /^sha256:[0-9a-f]{64}$/, `the server has the tag ${tag}`);
    assert.notEqual(remoteId, localId, "with another image ID than the deployer's");
  });

  test("a code-only change ships one layer (at most 1.5 x its gzip size + 64 KiB) and serves", async () => {
    project.setVersion("2.0.0");
    const r = mustSucceed(await stack().up(), "code change");
    const shipped = shipResult(r, APP);
    const layer = await lastLayerGzipSize(`pydeploy/${APP}:ctd`);
    assert.ok(shipped.bytesSent <= 1.5 * layer + 64 * 1024, `${shipped.bytesSent} bytes sent for a ${layer}-byte layer:\n${stepOutput(r, `${APP}-ship`)}`);
    assert.match(stepOutput(r, `${APP}-ship`), /sending 1 of \d+ layers/, "one layer went");
    assert.match(await waitForHttp200(url("/")), /2\.0\.0/, "v2 serves");
  });

  test("a secret change redeploys; going back to the previous code ships nothing (its image is kept)", async () => {
    secret = `tok-${randomBytes(6).toString("hex")}`;
    mustSucceed(await stack().up(), "secret change");
    const config = JSON.parse((await httpGet(url("/config"))).body);
    assert.equal(config.secret_token_sha256, createHash("sha256").update(secret).digest("hex"), "the new secret is live");
    project.setVersion("1.0.0");
    const back = mustSucceed(await stack().up(), "back to 1.0.0");
    assert.equal(shipResult(back, APP).action, "present", `the old image is still on the server: nothing shipped:\n${stepOutput(back, `${APP}-ship`)}`);
    assert.match(await waitForHttp200(url("/")), /1\.0\.0/, "v1 serves again");
  });

  test("destroy leaves nothing of the app", async () => {
    mustSucceed(await stack().destroy(), "destroy");
    assert.equal(await onServer(`docker ps -aq --filter label=pydeploy.app=${APP}; docker image ls -q --filter label=pydeploy.app=${APP}; ls -A .pydeploy`), "", "no container, image or folder");
  });
});
