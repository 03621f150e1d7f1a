// Issue 9: redeploys and a failed release under a steady load, through the engine harness
// against a Docker-in-Docker server: not one failed request, the previous containers kept for
// rollback, and destroy removes the proxy, its volume too (no domain: no certificate in it).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { waitForHttp200 } from "../support/docker/localEngine";
import { serverExec, TestServer } from "../support/ssh/sshServer";
import { startLoad, type LoadResult } from "../support/proxy/load";
import { appValue, ExampleProject, mustSucceed, programStack, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { existingTargetConfig, startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";

const APP = uniqueApp("zd");
const PORT = 8080;
let server: TestServer;
let project: ExampleProject;
let stateDir: string;

const stack = () =>
  programStack({
    stateDir,
    stack: "zd",
    secretKeys: ["pydeploy:sshPrivateKey"],
    config: {
      ...existingTargetConfig(server),
      "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
      "pydeploy:deploy": { healthTimeoutSeconds: 20, stopGraceSeconds: 10 },
    },
  });
const onServer = async (script: string) => (await serverExec(server, ["sh", "-c", `cd /root && ${script}`], { allowFailure: true })).stdout.trim();

/** Runs `f` under two loads (GET over keep-alive, POST on new connections) and returns their results. */
async function underLoad(f: () => Promise<void>): Promise<LoadResult[]> {
  const target = `http://${server.host}:${PORT}/`;
  const loads = [
    startLoad({ url: target, rate: 25, keepAlive: true }),
    startLoad({ url: target, rate: 10, keepAlive: false, method: "POST" }),
  ];
  try {
    await f();
  } finally {
    await new Promise((r) => setTimeout(r, 2000));
  }
  return Promise.all(loads.map((l) => l.stop()));
}

function assertNoFailure(results: LoadResult[], what: string): void {
  for (const r of results) {
    assert.ok(r.total > 0, `${what}: requests were sent`);
    assert.equal(r.failed, 0, `${what}: ${r.failed} of ${r.total} requests failed: ${JSON.stringify(r.failures)}`);
  }
}

describe("lifecycle: zero failed requests across redeploys and a failed release", { timeout: 30 * 60_000 }, () => {
  before(async () => {
    ({ server, project, stateDir } = await startServerScenario("lifecycle-zd"));
    mustSucceed(await stack().up(), "first up");
    await waitForHttp200(`http://${server.host}:${PORT}/`);
  });

  after(async () => {
    await stopServerScenario(APP, { server, project, stateDir });
  });

  test("three redeploys under load: every request answered, the previous release kept stopped", async () => {
    for (const version of ["2.0.0", "3.0.0", "4.0.0"]) {
      project.setVersion(version);
      let log = "";
      const results = await underLoad(async () => {
        log = stepOutput(mustSucceed(await stack().up(), `redeploy ${version}`), `${APP}-release`);
      });
      assertNoFailure(results, `redeploy to ${version} (release log:\n${log}\nproxy log:\n${await onServer(`docker logs --tail 30 ${APP}-proxy 2>&1`)})`);
      assert.match(await waitForHttp200(`http://${server.host}:${PORT}/`), new RegExp(version.replace(/\./g, "\\.")), `${version} serves`);
    }
    const states = await onServer(`docker ps -a --filter label=pydeploy.app=${APP} --filter label=pydeploy.role=web --format '{{.State}}' | sort | uniq -c | tr -s ' '`);
    assert.equal(states, "1 exited\n 1 running", "one web runs, the previous one is kept stopped for rollback");
  });

  test("a failed release under load: every request answered by the version that keeps serving", async () => {
    project.setVersion("5.0.0-broken");
    project.setHealthStatus(503);
    let failedUp = "";
    const results = await underLoad(async () => {
      const r = await stack().up();
      assert.equal(r.ok, false, "the release fails");
      failedUp = r.error ?? "";
    });
    assert.match(failedUp, /role web did not become healthy/, "the gate failed");
    assertNoFailure(results, "failed release");
    assert.match(await waitForHttp200(`http://${server.host}:${PORT}/`), /4\.0\.0/, "4.0.0 still serves");
  });

  test("destroy removes the proxy container, network and volume: without a domain it holds no certificate worth keeping", async () => {
    const r = mustSucceed(await stack().destroy(), "destroy");
    assert.match(stepOutput(r, `${APP}-host`), new RegExp(`removing volume ${APP}-proxy-data: it holds no certificate`), "it says why the volume goes");
    assert.equal(await onServer(`docker ps -aq --filter name=${APP}-proxy; docker network ls -q --filter name=${APP}-proxy`), "", "no proxy container or network");
    assert.equal(await onServer(`docker volume ls -q --filter name=${APP}-proxy-data`), "", "no proxy volume");
  });
});
