// The program (index.ts), target `existing`, through the engine harness against a Docker-in-
// Docker server over real SSH: scenarios S1-S10 of issue 7, in order, each `pulumi up` starting
// from the state the one before left (the harness applies provider-semantics.md's rules).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { generateSshKeyPair } from "../support/ssh/sshKeys";
import { docker, httpGet, waitForHttp200 } from "../support/docker/localEngine";
import { serverExec, startTestServer, stopTestServer, TestServer } from "../support/ssh/sshServer";
import { appValue, assertSteps, ExampleProject, lastLayerGzipSize, mustSucceed, ops, programStack, ran, removeLocalImage, reveal, shipResult, stepOutput, uniqueApp } from "../support/lifecycle/exampleProject";
import { startLocalRegistry } from "../support/docker/registry";
import { startServerScenario, stopServerScenario } from "../support/lifecycle/serverScenario";

const APP = uniqueApp("ex");
const PORT = 8080;
const SECRET_1 = `tok-${randomBytes(6).toString("hex")}-it's "$HOME"`;
const SECRET_2 = `tok-${randomBytes(6).toString("hex")}-rotated`;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

let server: TestServer;
let project: ExampleProject;
let stateDir: string;
let secret = SECRET_1;
let privateKey: string;
let deploy: Record<string, unknown> = { keepImages: 2, healthTimeoutSeconds: 30, stopGraceSeconds: 5 };

function config(o: { host?: TestServer; app?: Record<string, unknown>; extra?: Record<string, unknown> } = {}) {
  const h = o.host ?? server;
  return {
    "pydeploy:target": "existing",
    "pydeploy:host": { address: h.host, port: 22, user: "root", hostKey: h.hostKey },
    "pydeploy:sshPrivateKey": privateKey,
    "pydeploy:secretEnv": { DEMO_SECRET_TOKEN: secret },
    "pydeploy:app": appValue({ name: APP, dir: project.dir, publish: PORT, extra: o.app }),
    "pydeploy:deploy": deploy,
    ...o.extra,
  };
}
const stack = (o: Parameters<typeof config>[0] = {}) =>
  programStack({ stateDir, stack: "box", config: config(o), secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv"] });

/** A shell line on the server as root, in root's home (where the app's folder is). */
const onServer = async (s: TestServer, script: string) => (await serverExec(s, ["sh", "-c", `cd /root && ${script}`], { allowFailure: true })).stdout.trim();
/** name -> state of the app's containers on a server. */
async function containers(s: TestServer = server): Promise<Record<string, string>> {
  const out = await onServer(s, `docker ps -a --filter label=pydeploy.app=${APP} --format '{{.Names}} {{.State}}'`);
  return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => l.split(" ")));
}
const url = (p = "/", s: TestServer = server) => `http://${s.host}:${PORT}${p}`;
const localTag = () => `pydeploy/${APP}:box`;

describe("lifecycle, target existing (classic image store)", { timeout: 40 * 60_000 }, () => {
  before(async () => {
    ({ server, project, stateDir } = await startServerScenario("lifecycle-state"));
    privateKey = server.privateKey;
  });

  after(async () => {
    await stopServerScenario(APP, { server, project, stateDir });
  });

  test("S1: preview before anything exists succeeds, builds and ships nothing (copy and registry mode)", async () => {
    const r = mustSucceed(await stack().preview(), "preview");
    assertSteps(r, [`${APP}-image:create`, `${APP}-proxy-image:create`, `${APP}-host:create`, `${APP}-ship:create`, `${APP}-release:create`], [], "everything would be created");
    assert.deepEqual(ran(r), [], "nothing ran");
    assert.equal((await docker(["image", "inspect", localTag()], { allowFailure: true })).code, 1, "no image was built");
    assert.equal(await onServer(server, "ls -A /root/.pydeploy 2>/dev/null; docker ps -aq"), "", "the server is untouched");

    const registryConfig = {
      "pydeploy:registry": { server: "registry.example.com", username: "me", repository: "ns/demo" },
      "pydeploy:registryPassword": "pa55word",
    };
    const reg = programStack({ stateDir, stack: "reg", config: config({ extra: registryConfig }), secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv", "pydeploy:registryPassword"] });
    const rr = mustSucceed(await reg.preview(), "registry-mode preview");
    assert.deepEqual(ran(rr), [], "nothing ran in registry mode either");
  });

  test("a wrong pinned host key fails the deploy before anything is sent to the server", async () => {
    const impostor = generateSshKeyPair().public.split(" ").slice(0, 2).join(" ");
    const accepted = async () => ((await docker(["logs", server.container])).stderr.match(/Accepted publickey/g) ?? []).length;
    const before = await accepted();
    const wrong = { ...config(), "pydeploy:host": { address: server.host, port: 22, user: "root", hostKey: impostor } };
    const r = await programStack({ stateDir, stack: "wrongkey", config: wrong, secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv"] }).up();
    await docker(["image", "rm", "--force", `pydeploy/${APP}:wrongkey`], { allowFailure: true });
    assert.equal(r.ok, false, "the up fails");
    assert.match(r.error ?? "", /SSH host key mismatch for root@.*: expected ssh-ed25519 SHA256:.*, the server presented SHA256:.*\. Nothing was sent\./, `the error says so: ${r.error}`);
    assert.equal(await accepted(), before, "the server saw no login");
    assert.equal(await onServer(server, "ls -A .pydeploy 2>/dev/null; docker ps -aq"), "", "and holds nothing of the app");
  });

  test("S2: the first up serves HTTP 200 from outside the server, with the secret", async () => {
    const r = mustSucceed(await stack().up(), "first up");
    assertSteps(r, [`${APP}-image:create`, `${APP}-proxy-image:create`, `${APP}-host:create`, `${APP}-ship:create`, `${APP}-release:create`], [[`${APP}-image`, `${APP}-ship`], [`${APP}-proxy-image`, `${APP}-ship`], [`${APP}-host`, `${APP}-ship`], [`${APP}-ship`, `${APP}-release`]], "created after what they need");
    assert.match(stepOutput(r, `${APP}-ship`), /pydeploy: verified .*: \d+ layers, it starts/, "the shipped image was verified");
    const home = await httpGet(url("/"));
    assert.deepEqual([home.status, home.body], [200, `hello from ${APP} 1.0.0\n`], "the web answers");
    assert.equal(JSON.parse((await httpGet(url("/config"))).body).secret_token_sha256, sha256(SECRET_1), "the secret reached the app");
    const names = reveal(r.outputs.containers) as string[];
    assert.deepEqual(Object.values(await containers()), ["running", "running"], "web and worker run");
    assert.deepEqual(Object.keys(await containers()).sort(), [...names].sort(), "the containers output names them");
    assert.equal(await onServer(server, `stat -c '%a' .pydeploy/${APP}/app.env`), "600", "the env file is private");
  });

  test("S3: a no-change preview and up run nothing, even after the local image is removed", async () => {
    const before = await containers();
    for (const run of ["preview", "up"] as const) {
      const r = mustSucceed(await stack()[run](), `no-change ${run}`);
      assert.deepEqual(ran(r), [], `${run}: nothing ran`);
      assert.ok(ops(r).every((o) => o.endsWith(":same")), `${run}: every step is the same: ${ops(r)}`);
    }
    await removeLocalImage(localTag());
    for (const run of ["preview", "up"] as const) {
      const r = mustSucceed(await stack()[run](), `${run} without the local image`);
      assert.deepEqual(ran(r), [], `${run} without the local image: nothing ran, no docker save`);
    }
    assert.deepEqual(await containers(), before, "the same containers run");
  });

  test("S4: a code change serves the new version and keeps one stopped container per role and the previous image", async () => {
    const v1 = await containers();
    project.setVersion("2.0.0");
    const r = mustSucceed(await stack().up(), "code change");
    assertSteps(r, [`${APP}-image:update`, `${APP}-proxy-image:same`, `${APP}-host:same`, `${APP}-ship:update`, `${APP}-release:update`], [[`${APP}-image`, `${APP}-ship`], [`${APP}-ship`, `${APP}-release`]], "image, ship, release update in place");
    assert.match(await waitForHttp200(url("/")), /2\.0\.0/, "v2 serves");
    const now = await containers();
    for (const name of Object.keys(v1)) assert.equal(now[name], "exited", `${name} is kept stopped for rollback`);
    assert.equal(Object.values(now).filter((s) => s === "running").length, 2, "two new containers run");
    const images = await onServer(server, `docker image ls --quiet --filter label=pydeploy.app=${APP} | sort -u | wc -l`);
    assert.equal(images, "2", "the new image and the previous one are on the server");
  });

  test("S4b: a code-only change ships only the changed layer: at most 1.5 x its gzip size + 64 KiB", async () => {
    project.setVersion("2.1.0");
    const r = mustSucceed(await stack().up(), "code-only change");
    const layer = await lastLayerGzipSize(localTag());
    const shipped = shipResult(r, APP);
    assert.equal(shipped.action, "copied", "the image was copied");
    assert.ok(shipped.bytesSent <= 1.5 * layer + 64 * 1024, `${shipped.bytesSent} bytes sent for a ${layer}-byte layer:\n${stepOutput(r, `${APP}-ship`)}`);
    assert.match(stepOutput(r, `${APP}-ship`), /sending 1 of \d+ layers/, "one layer went");
    assert.match(await waitForHttp200(url("/")), /2\.1\.0/, "v2.1 serves");
  });

  test("S5: a secret-only change redeploys; the next code change still deploys; the env file is there after each up", async () => {
    secret = SECRET_2;
    const r = mustSucceed(await stack().up(), "secret change");
    assertSteps(r, [`${APP}-image:same`, `${APP}-proxy-image:same`, `${APP}-host:same`, `${APP}-ship:same`, `${APP}-release:update`], [], "only the release updates");
    assert.equal(JSON.parse((await waitForHttp200(url("/config")))).secret_token_sha256, sha256(SECRET_2), "the new secret is live");
    assert.equal(await onServer(server, `test -f .pydeploy/${APP}/app.env && echo present`), "present", "env file after the secret change");
    project.setVersion("3.0.0");
    mustSucceed(await stack().up(), "code change after the secret change");
    assert.match(await waitForHttp200(url("/")), /3\.0\.0/, "v3 serves");
    assert.equal(JSON.parse((await httpGet(url("/config"))).body).secret_token_sha256, sha256(SECRET_2), "with the new secret");
    assert.equal(await onServer(server, `test -f .pydeploy/${APP}/app.env && echo present`), "present", "env file after the code change");
  });

  test("S6: a plain config change (log size) redeploys the containers with it", async () => {
    deploy = { ...deploy, logMaxSize: "7m" };
    const r = mustSucceed(await stack().up(), "log size change");
    assertSteps(r, [`${APP}-image:same`, `${APP}-proxy-image:same`, `${APP}-host:same`, `${APP}-ship:same`, `${APP}-release:update`], [], "only the release updates");
    const web = (reveal(r.outputs.containers) as string[])[0];
    assert.equal(await onServer(server, `docker inspect --format '{{index .HostConfig.LogConfig.Config "max-size"}}' ${web}`), "7m", "the new container has the new log size");
    assert.match(await waitForHttp200(url("/")), /3\.0\.0/, "still v3");
  });

  test("S7: a broken release fails with the new container's logs, the old version keeps serving; the next good up succeeds", async () => {
    const before = await containers();
    project.setVersion("4.0.0-broken");
    project.setHealthStatus(503);
    const r = await stack().up();
    assert.equal(r.ok, false, "the up fails");
    // Docker's healthcheck (every 5 s, 3 retries) turns it unhealthy before the 30 s gate timeout.
    assert.match(r.error ?? "", /role web did not become healthy: container .*-web-[0-9a-f]{12} is unhealthy \(docker healthcheck\) \(gate GET :8000\/health, timeout 30s\)/, `the error says why: ${r.error}`);
    assert.match(r.error ?? "", /\| web: demo 4\.0\.0-broken listening on :8000/, "the new container's own log is shown");
    assert.match(r.error ?? "", /\| web: "GET \/health HTTP\/1\.1" 503/, "with its failing health requests");
    assert.match(await waitForHttp200(url("/")), /3\.0\.0/, "v3 still serves");
    assert.deepEqual(await containers(), before, "the same containers as before, nothing of the broken release");

    project.setVersion("5.0.0");
    project.setHealthStatus(200);
    mustSucceed(await stack().up(), "the next good up");
    assert.match(await waitForHttp200(url("/")), /5\.0\.0/, "v5 serves");
  });

  test("S8: a rotated SSH key, then a new host address: the app moves to the new host and leaves the old one", async () => {
    const keys = generateSshKeyPair("ed25519", "rotated");
    await serverExec(server, ["sh", "-c", `echo '${keys.public}' >> /root/.ssh/authorized_keys`]);
    privateKey = keys.private;
    const rotated = mustSucceed(await stack().up(), "key rotation");
    assert.deepEqual(ops(rotated).filter((o) => !o.endsWith(":same")), [`${APP}-host:update`, `${APP}-ship:update`, `${APP}-release:update`], "the steps update with the new key");
    assert.match(stepOutput(rotated, `${APP}-release`), /already runs/, "nothing is redeployed");

    const second = await startTestServer();
    try {
      await serverExec(second, ["sh", "-c", `echo '${keys.public}' >> /root/.ssh/authorized_keys`]);
      const moved = mustSucceed(await stack({ host: second }).up(), "new host");
      assert.deepEqual(
        ops(moved).filter((o) => !o.endsWith(":same")),
        [`${APP}-host:create-replacement`, `${APP}-ship:update`, `${APP}-release:update`, `${APP}-host:delete-replaced`],
        "a new host step, ship and release on it, then the old host step's delete",
      );
      assert.match(await waitForHttp200(url("/", second)), /5\.0\.0/, "the new host serves");
      assert.deepEqual(await containers(server), {}, "the old host has no container of the app");
      assert.equal(await onServer(server, `test -e .pydeploy/${APP} && echo left || echo gone`), "gone", "nor its folder");
      const old = server;
      server = second;
      await stopTestServer(old);
    } catch (err) {
      await stopTestServer(second);
      throw err;
    }
  });

  test("S9: destroy without the local image leaves nothing of the app; against a host that is gone it ends with a warning", async () => {
    await removeLocalImage(localTag());
    const r = mustSucceed(await stack().destroy(), "destroy");
    assertSteps(r, [`${APP}-release:delete`, `${APP}-ship:delete`, `${APP}-host:delete`, `${APP}-image:delete`, `${APP}-proxy-image:delete`], [[`${APP}-release`, `${APP}-ship`], [`${APP}-ship`, `${APP}-host`], [`${APP}-ship`, `${APP}-image`]], "reverse dependency order");
    assert.deepEqual(await containers(), {}, "no container");
    assert.equal(await onServer(server, `docker image ls --quiet --filter label=pydeploy.app=${APP}`), "", "no image");
    assert.equal(await onServer(server, `test -e .pydeploy/${APP} && echo left || echo gone`), "gone", "no folder");

    mustSucceed(await stack().up(), "deploy again");
    await stopTestServer(server);
    const started = Date.now();
    const gone = mustSucceed(await stack().destroy(), "destroy with the host gone");
    assert.match(stepOutput(gone, `${APP}-host`), /warning: cannot reach root@.* over SSH .*nothing was removed there/, "it says what it could not do");
    assert.ok(Date.now() - started < 120_000, `it ended (in ${Date.now() - started} ms)`);
    server = await startTestServer();
    privateKey = server.privateKey;
  });

  test("S10: deploy.ship copy with a registry configured: the image is pushed, then copied to the server, not pulled", async () => {
    const password = `pw-${randomBytes(6).toString("hex")}`;
    const registry = await startLocalRegistry({ name: `${APP}-registry`, username: "me", password });
    try {
      const extra = {
        "pydeploy:registry": { server: registry.server, username: "me", repository: `ns/${APP}` },
        "pydeploy:registryPassword": password,
        "pydeploy:deploy": { ...deploy, ship: "copy" },
      };
      const reg = programStack({ stateDir, stack: "copyreg", config: config({ extra }), secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv", "pydeploy:registryPassword"] });
      const r = mustSucceed(await reg.up(), "copy mode with a registry");
      const digest = reveal(r.outputs.imageDigest) as string;
      assert.match(digest, new RegExp(`^${registry.server.replace(/\./g, "\\.")}/ns/${APP}@sha256:[0-9a-f]{64}$`), "the image was pushed");
      assert.match(stepOutput(r, `${APP}-ship`), /shipped .* MB sent/, "and copied over SSH");
      assert.match(await waitForHttp200(url("/")), /5\.0\.0/, "it serves");
      mustSucceed(await reg.destroy(), "destroy the copy-mode stack");
    } finally {
      await registry.stop();
    }
  });

  test("S10b: deploy.ship registry: the server pulls the pushed images by digest with a throwaway login, and serves", async () => {
    const password = `pw-${randomBytes(6).toString("hex")}`;
    const name = `${APP}-pull-registry`;
    const registry = await startLocalRegistry({ name, username: "me", password });
    // The server must reach the registry by the name the deployer pushed to (127.0.0.1:<port>):
    // on the test server, NAT sends that address to the registry container.
    const port = registry.server.split(":")[1];
    const ip = (await docker(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", name])).stdout.trim();
    const nat = [
      ["-t", "nat", "OUTPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport", port, "-j", "DNAT", "--to-destination", `${ip}:5000`],
      ["-t", "nat", "POSTROUTING", "-p", "tcp", "-d", ip, "--dport", "5000", "-j", "MASQUERADE"],
    ];
    const iptables = (op: "-A" | "-D") => Promise.all(nat.map(([t, table, chain, ...rule]) => serverExec(server, ["iptables", t, table, op, chain, ...rule], { allowFailure: op === "-D" })));
    await serverExec(server, ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1"]);
    await iptables("-A");
    try {
      const extra = {
        "pydeploy:registry": { server: registry.server, username: "me", repository: `ns/${APP}` },
        "pydeploy:registryPassword": password,
        "pydeploy:deploy": { ...deploy, ship: "registry" },
      };
      const reg = programStack({ stateDir, stack: "pullreg", config: config({ extra }), secretKeys: ["pydeploy:sshPrivateKey", "pydeploy:secretEnv", "pydeploy:registryPassword"] });
      const r = mustSucceed(await reg.up(), "registry mode");
      assert.equal(shipResult(r, APP).action, "pulled", "the server pulled the app's image");
      assert.equal(shipResult(r, APP, "proxy").action, "pulled", "and the proxy's");
      assert.ok(!stepOutput(r, `${APP}-ship`).includes(password), "the password is not in the ship step's output");
      assert.match(await waitForHttp200(url("/")), /5\.0\.0/, "it serves");
      assert.ok(!(await onServer(server, "cat .docker/config.json 2>/dev/null")).includes(registry.server), "no login for the registry stays in root's Docker config");
      assert.equal(await onServer(server, "grep -rl --exclude-dir=proc --exclude-dir=sys --exclude-dir=var -e \"$PW\" /tmp /root 2>/dev/null | head -1".replace("$PW", password)), "", "no file on the server holds the password");
      mustSucceed(await reg.destroy(), "destroy the registry-mode stack");
    } finally {
      await iptables("-D");
      await registry.stop();
    }
  });

  test("no secret is stored in plain state", () => {
    const plain = stack().plainValues().join("\n");
    for (const s of [SECRET_1, SECRET_2, privateKey.split("\n")[1]]) assert.ok(!plain.includes(s), "a secret value is in plain state");
  });
});
