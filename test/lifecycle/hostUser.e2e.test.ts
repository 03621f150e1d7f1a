// The program (index.ts), target `existing`, through the engine harness against a Docker-in-
// Docker server over real SSH: changing only `host.user` keeps the app running. The app folder
// is in each user's home, so a replaced host step's delete (`remove`, run at the end of the up
// with the OLD user) would find its own claim there and take the new release down with it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { docker, httpGet, waitForHttp200 } from "../support/docker/localEngine";
import { serverExec, TestServer } from "../support/ssh/sshServer";
import { appValue, ExampleProject, mustSucceed, ops, programStack, uniqueApp } from "../support/lifecycle/exampleProject";
import { startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";

const APP = uniqueApp("hu");
const PORT = 8080;
const DEPLOY_HOME = "/home/deploy";

let server: TestServer;
let project: ExampleProject;
let stateDir: string;
let network: string | undefined;

function stack(o: { user: string; address?: string }) {
  return programStack({
    stateDir,
    stack: "user",
    config: {
      "pydeploy:target": "existing",
      "pydeploy:host": { address: o.address ?? server.host, port: 22, user: o.user, hostKey: server.hostKey },
      "pydeploy:sshPrivateKey": server.privateKey,
      "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT }),
      "pydeploy:deploy": { keepImages: 2, healthTimeoutSeconds: 30, stopGraceSeconds: 5 },
    },
    secretKeys: ["pydeploy:sshPrivateKey"],
  });
}

const onServer = async (script: string) => (await serverExec(server, ["sh", "-c", script], { allowFailure: true })).stdout.trim();
/** name -> state of the app's containers. */
async function containers(): Promise<Record<string, string>> {
  const out = await onServer(`docker ps -a --filter label=pydeploy.app=${APP} --format '{{.Names}} {{.State}}'`);
  return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => l.split(" ")));
}
const running = async () => Object.values(await containers()).filter((s) => s === "running").length;
const folder = (home: string) => onServer(`test -e ${home}/.pydeploy/${APP} && echo present || echo gone`);
const url = (p = "/") => `http://${server.host}:${PORT}${p}`;
/** The status GET / answers, 0 when nothing answers. */
const status = async () => (await httpGet(url("/")).catch(() => ({ status: 0 }))).status;

describe("lifecycle: changing host.user on the same server", { timeout: 30 * 60_000 }, () => {
  before(async () => {
    ({ server, project, stateDir } = await startServerScenario("hostuser-state"));
  });

  after(async () => {
    // The server is attached to the network: it goes first.
    await stopServerScenario(APP, { server, project, stateDir });
    if (network) await docker(["network", "rm", network], { allowFailure: true });
  });

  test("deployed as root, then as deploy: the app keeps serving, and the host step is updated, not replaced", async () => {
    mustSucceed(await stack({ user: "root" }).up(), "up as root");
    assert.match(await waitForHttp200(url("/")), /1\.0\.0/, "it serves");

    const r = mustSucceed(await stack({ user: "deploy" }).up(), "up as deploy");
    assert.equal(await status(), 200, `the app still serves after the up:\n${r.log.slice(-3000)}`);
    assert.equal(await running(), 2, `web and worker still run: ${JSON.stringify(await containers())}`);
    assert.ok(!ops(r).includes(`${APP}-host:delete-replaced`), `no old host step's remove ran: ${ops(r)}`);
    assert.equal(await folder(DEPLOY_HOME), "present", "deploy's app folder is the claim now");
  });

  test("the same server under another address AND another user: the old step's remove leaves the app, and takes only its own folder", async () => {
    // A second address of the same machine: the trigger changes, so the host step is replaced.
    network = `${APP}-net`;
    await docker(["network", "create", network]);
    await docker(["network", "connect", network, server.container]);
    const second = (await docker(["inspect", "--format", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, server.container])).stdout.trim();
    assert.match(second, /^\d+\.\d+\.\d+\.\d+$/, "the server has a second address");

    const r = mustSucceed(await stack({ user: "root", address: second }).up(), "up as root under the second address");
    assert.ok(ops(r).includes(`${APP}-host:delete-replaced`), `the old host step's remove ran: ${ops(r)}`);
    assert.equal(await status(), 200, `the app still serves after the old remove:\n${r.log.slice(-3000)}`);
    assert.equal(await running(), 2, `web and worker still run: ${JSON.stringify(await containers())}`);
    assert.equal(await folder(DEPLOY_HOME), "gone", "the old claim's folder (deploy's, with its env file) was removed");
    assert.equal(await folder("/root"), "present", "root's folder is the claim");

    const d = mustSucceed(await stack({ user: "root", address: second }).destroy(), "destroy");
    assert.ok(ops(d).includes(`${APP}-host:delete`), `the host step's remove ran: ${ops(d)}`);
    assert.deepEqual(await containers(), {}, "destroy removes every container of the app");
    assert.equal(await folder("/root"), "gone", "and the folder");
    assert.equal(await onServer(`docker volume ls --quiet --filter label=pydeploy.claim=${APP}`), "", "nor its claim on the daemon");
  });
});
