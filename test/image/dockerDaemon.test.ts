// Which Docker daemon the docker provider uses (components/image/dockerDaemon.ts), read from
// pulumi-docker provider/image.go configureDockerClient: docker:host, else DOCKER_HOST, else the
// default socket with Docker Desktop's user sockets as fallbacks; and the /_ping that checks it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { daemonDownMessage, DEFAULT_DOCKER_HOST, dockerHostCandidates, pingDocker, PingResult, resolveDockerHost } from "../../components/image/dockerDaemon";

describe("dockerHostCandidates", () => {
  test("DOCKER_HOST is the only one; the docker:host config wins over it", () => {
    assert.deepEqual(dockerHostCandidates({ DOCKER_HOST: "tcp://10.0.0.5:2375" }, "/home/me"), { explicit: true, addresses: ["tcp://10.0.0.5:2375"] }, "DOCKER_HOST");
    assert.deepEqual(dockerHostCandidates({ DOCKER_HOST: "tcp://10.0.0.5:2375" }, "/home/me", "unix:///run/user.sock"), { explicit: true, addresses: ["unix:///run/user.sock"] }, "docker:host");
  });
  test("unset or empty: the default socket, then Docker Desktop's in the home directory; DOCKER_CONTEXT plays no part", () => {
    const defaults = { explicit: false, addresses: [DEFAULT_DOCKER_HOST, "unix:///home/me/.docker/run/docker.sock", "unix:///home/me/.docker/desktop/docker.sock"] };
    assert.equal(DEFAULT_DOCKER_HOST, "unix:///var/run/docker.sock", "client.DefaultDockerHost");
    assert.deepEqual(dockerHostCandidates({}, "/home/me"), defaults, "unset");
    assert.deepEqual(dockerHostCandidates({ DOCKER_HOST: "", DOCKER_CONTEXT: "other" }, "/home/me"), defaults, "empty, with a context");
  });
});

describe("resolveDockerHost", () => {
  const pings = (answers: Record<string, PingResult>) => {
    const asked: string[] = [];
    return { asked, ping: async (a: string) => (asked.push(a), answers[a] ?? { status: "failed", error: "connect ENOENT" }) };
  };
  test("an explicit address is used as it is, answering or not", async () => {
    const p = pings({});
    const r = await resolveDockerHost({ env: { DOCKER_HOST: "unix:///dead.sock" }, home: "/h", ping: p.ping });
    assert.deepEqual([r.address, r.usable, p.asked], ["unix:///dead.sock", false, ["unix:///dead.sock"]], "no fallback for an explicit host");
  });
  test("the default socket when it answers; else the first user socket that does", async () => {
    const first = pings({ [DEFAULT_DOCKER_HOST]: { status: "answered" } });
    assert.deepEqual(await resolveDockerHost({ env: {}, home: "/h", ping: first.ping }), { address: DEFAULT_DOCKER_HOST, usable: true, tried: [{ address: DEFAULT_DOCKER_HOST, result: { status: "answered" } }] }, "default");
    const desktop = pings({ "unix:///h/.docker/desktop/docker.sock": { status: "answered" } });
    const r = await resolveDockerHost({ env: {}, home: "/h", ping: desktop.ping });
    assert.deepEqual([r.address, r.usable, desktop.asked.length], ["unix:///h/.docker/desktop/docker.sock", true, 3], "Docker Desktop's socket");
  });
  test("nothing answers: the default socket, not usable, every address with its error", async () => {
    const r = await resolveDockerHost({ env: {}, home: "/h", ping: pings({}).ping });
    assert.deepEqual([r.address, r.usable, r.tried.map((t) => t.address)], [DEFAULT_DOCKER_HOST, false, dockerHostCandidates({}, "/h").addresses], "all tried");
    assert.equal(
      daemonDownMessage(r),
      "the Docker daemon does not answer at unix:///var/run/docker.sock (connect ENOENT), nor at unix:///h/.docker/run/docker.sock (connect ENOENT), nor at unix:///h/.docker/desktop/docker.sock (connect ENOENT). " +
        "Every pulumi preview, up and destroy needs it: the docker provider pings it before anything else, even when nothing is built. " +
        "Start Docker, or point DOCKER_HOST (or the docker:host config) at a daemon that runs; the docker provider ignores `docker context`.",
      "the message names every address, why it matters and the fix",
    );
  });
});

describe("pingDocker", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-ping-"));
  const socket = path.join(dir, "docker.sock");
  let status = 200;
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === "/_ping" ? status : 404).end("OK");
  });
  before(() => new Promise<void>((resolve) => server.listen(socket, resolve)));
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("GET /_ping over a unix socket: 2xx answers, anything else fails with the status", async () => {
    status = 200;
    assert.deepEqual(await pingDocker(`unix://${socket}`, {}), { status: "answered" }, "200 OK");
    status = 500;
    assert.deepEqual(await pingDocker(`unix://${socket}`, {}), { status: "failed", error: "GET /_ping answered HTTP 500" }, "500");
  });
  test("a missing socket, a closed port and a silent peer fail with why; ssh:// is left to the docker CLI", async () => {
    assert.deepEqual(await pingDocker(`unix://${dir}/none.sock`, {}), { status: "failed", error: `connect ENOENT ${dir}/none.sock` }, "no socket");
    const closed = await pingDocker("tcp://127.0.0.1:1", {});
    assert.deepEqual(closed, { status: "failed", error: "connect ECONNREFUSED 127.0.0.1:1" }, "closed port");
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      assert.deepEqual(await pingDocker(`tcp://127.0.0.1:${port}`, {}, 200), { status: "failed", error: "no answer within 0.2s" }, "timeout");
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    assert.deepEqual(await pingDocker("ssh://deploy@box", {}), { status: "unchecked" }, "ssh");
  });
});
