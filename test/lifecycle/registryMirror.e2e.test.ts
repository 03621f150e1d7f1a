// Issue 17: a first deploy sends only the app's own layers when the server can pull the base
// from a registry mirror. On a server of each image store, whose dockerd is pointed at a
// loopback-bridge registry holding the base image (the stand-in for an in-region mirror),
// through the engine harness: the first up pulls the base there and ships the rest; a server
// whose mirror does not answer gets every layer and still serves.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BASE_IMAGE, uniqueName, waitForHttp200 } from "../support/docker/localEngine";
import { startRegistryMirror, type RegistryMirror } from "../support/docker/registry";
import { appValue, ExampleProject, gzipSizeAboveBase, layerGzipSizes, mustSucceed, programStack, shipResult, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { existingTargetConfig, startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";
import { serverExec, setRegistryMirrors, type ImageStore, type TestServer } from "../support/ssh/sshServer";

const PORT = 8080;
/** The bound: bytes over SSH within 1.1 x the gzip size of the layers not in the base (+ the archive's JSON). */
const FACTOR = 1.1;
const SLACK = 64 * 1024;
let mirror: RegistryMirror;

before(async () => {
  mirror = await startRegistryMirror({ name: uniqueName("pydeploy-e2e-mirror") });
  await mirror.push(BASE_IMAGE);
});
after(async () => {
  await mirror?.remove();
});

for (const store of ["classic", "containerd"] as const satisfies ImageStore[]) {
  describe(`lifecycle: the base from a registry mirror (${store} image store)`, { timeout: 20 * 60_000 }, () => {
    const APP = uniqueApp(`mirror-${store.slice(0, 3)}`);
    const STACK = "mirror";
    let server: TestServer;
    let project: ExampleProject;
    let stateDir: string;
    const stack = () =>
      programStack({
        stateDir,
        stack: STACK,
        secretKeys: ["pydeploy:sshPrivateKey"],
        config: {
          ...existingTargetConfig(server),
          "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
          "pydeploy:deploy": { healthTimeoutSeconds: 30, stopGraceSeconds: 5 },
        },
      });
    const url = () => `http://${server.host}:${PORT}/`;
    /** The gzip'd size of the app image's layers above the base, and of all of them. */
    const layerSizes = async () => {
      const ref = `pydeploy/${APP}:${STACK}`;
      return { app: await gzipSizeAboveBase(ref), all: (await layerGzipSizes(ref)).reduce((a, b) => a + b, 0) };
    };

    before(async () => {
      ({ server, project, stateDir } = await startServerScenario(`mirror-${store}`, { store }));
    });
    after(async () => {
      if (server && stateDir) await stack().destroy().catch(() => undefined);
      await stopServerScenario(APP, { server, project, stateDir });
    });

    test("a mirror with the base: the first up pulls it there, sends only the app's layers (<= 1.1 x their gzip size + 64 KiB), and serves", async (t) => {
      await setRegistryMirrors(server, [mirror.url], [mirror.hostPort]);
      const r = mustSucceed(await stack().up(), "first up");
      const log = stepOutput(r, `${APP}-ship`);
      assert.match(log, new RegExp(`pulling the base ${BASE_IMAGE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} on .* through its registry mirror ${mirror.url}/`), `the base came through the mirror:\n${log}`);
      const shipped = shipResult(r, APP);
      const sizes = await layerSizes();
      t.diagnostic(`sent ${shipped.bytesSent} bytes for the app's layers of ${sizes.app} bytes gzip'd (ratio ${(shipped.bytesSent / sizes.app).toFixed(3)}); all layers ${sizes.all}`);
      assert.equal(shipped.action, "copied", "the app's layers were copied");
      assert.ok(shipped.bytesSent <= FACTOR * sizes.app + SLACK, `${shipped.bytesSent} bytes sent; the app's own layers are ${sizes.app} bytes gzip'd (all layers ${sizes.all}):\n${log}`);
      assert.ok(shipped.bytesSent > 0.5 * sizes.app, `the app's layers were sent (${shipped.bytesSent} of ${sizes.app} bytes)`);
      const proxy = shipResult(r, APP, "proxy");
      assert.equal(log.match(/pulling the base/g)?.length, 1, `the proxy image, on the same base, needed no second pull:\n${log}`);
      assert.ok(proxy.bytesSent < 0.5 * (sizes.all - sizes.app), `the proxy image sent no base layer (${proxy.bytesSent} bytes)`);
      assert.match(await waitForHttp200(url()), new RegExp(`hello from ${APP}`), "the app serves");
    });

    test("a mirror that does not answer: the first up sends every layer and serves", async () => {
      mustSucceed(await stack().destroy(), "destroy");
      await serverExec(server, ["sh", "-c", "docker image prune --all --force >/dev/null && docker image rm --force $(docker image ls -q) 2>/dev/null; docker image ls -q"]);
      assert.equal((await serverExec(server, ["docker", "image", "ls", "--quiet"])).stdout.trim(), "", "the server holds no image");
      await setRegistryMirrors(server, ["http://127.0.0.1:9"]);
      const r = mustSucceed(await stack().up(), "first up without a mirror");
      const log = stepOutput(r, `${APP}-ship`);
      assert.match(log, /the base did not come through the mirror \(.+\); sending every layer/, `the fallback is logged:\n${log}`);
      const sizes = await layerSizes();
      assert.ok(shipResult(r, APP).bytesSent > 0.9 * sizes.all, `every layer went: ${shipResult(r, APP).bytesSent} bytes for ${sizes.all} gzip'd`);
      assert.match(await waitForHttp200(url()), new RegExp(`hello from ${APP}`), "the app serves");
    });
  });
}
