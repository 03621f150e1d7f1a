// The two kinds of Docker-in-Docker test server (classic and containerd image store) and their
// host keys, against the real engines: what the end-to-end tests and the lead's image
// identification rely on. Prints the image IDs it measures (t.diagnostic).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "ssh2";
import { generateSshKeyPair } from "./sshKeys";
import { docker, ensureBaseImage, run, uniqueName } from "../docker/localEngine";
import {
  hostKeyVerifier, ImageStore, installHostKey, LoginUser, presentedHostKey, runOverSsh, serverExec,
  SshConnection, startTestServer, stopTestServer, TestServer,
} from "./sshServer";

const STORES: ImageStore[] = ["classic", "containerd"];
const servers = {} as Record<ImageStore, TestServer>;
const prefix = uniqueName("pydeploy-srvtest");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-srvtest-"));
const tinyRepo = `${prefix}/tiny`;

/**
 * A 2 MB two-layer image built on this host's engine from scratch: dash, sleep and cat with their
 * shared libraries (no registry to pull a small image from), then a one-file layer.
 */
async function buildTinyImage(tag: string, version: string): Promise<void> {
  const context = path.join(workDir, `context-${version}`);
  const binaries = ["/bin/sh", "/bin/sleep", "/bin/cat"];
  const libraries = new Set<string>();
  for (const binary of binaries) {
    const ldd = await run("ldd", [binary]);
    for (const match of ldd.stdout.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)) libraries.add(match[1]);
  }
  for (const file of [...binaries, ...libraries]) {
    const target = path.join(context, "root", file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(fs.realpathSync(file), target);
    fs.chmodSync(target, 0o755);
  }
  // COPY keeps mtimes: fixed ones make v1's and v2's first layer identical however slowly they are copied.
  const fixed = new Date("2020-01-01T00:00:00Z");
  for (const entry of fs.readdirSync(path.join(context, "root"), { recursive: true }) as string[]) fs.utimesSync(path.join(context, "root", entry), fixed, fixed);
  fs.utimesSync(path.join(context, "root"), fixed, fixed);
  fs.writeFileSync(path.join(context, "version"), `${version}\n`);
  fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\nCOPY root/ /\nCOPY version /etc/tiny/version\nCMD [\"/bin/sleep\", \"100000\"]\n");
  await docker(["build", "--quiet", "-t", tag, context], { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
}

/** `docker save` on this host (engine 20.10: Docker-format archive, manifest.json only). */
async function saveOnHost(ref: string, file: string): Promise<string> {
  await docker(["save", "-o", file, ref]);
  return file;
}

/** Streams an archive into `docker load` as deploy, as the deployer ships layers; returns what docker load printed. */
async function loadOnServer(server: TestServer, archive: string): Promise<string> {
  const load = await runOverSsh(server.as("deploy"), ["docker", "load"], { stdin: fs.createReadStream(archive), allowFailure: true });
  assert.equal(load.code, 0, `docker load of ${path.basename(archive)} on the ${server.store} server: ${load.stdout}${load.stderr}`);
  return load.stdout.trim();
}

/** The archive's files, extracted into a fresh folder. */
async function extract(archive: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(workDir, "extract-"));
  await run("tar", ["-xf", archive, "-C", dir]);
  return dir;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

async function inspectImage(server: TestServer | "host", ref: string): Promise<{ Id: string; RootFS: { Layers: string[] }; RepoDigests: string[] }> {
  const argv = ["docker", "image", "inspect", "--format", "{{json .}}", ref];
  const r = server === "host" ? await docker(argv.slice(1)) : await serverExec(server, argv);
  return JSON.parse(r.stdout);
}

/**
 * A login attempt that records what the client did: whether it got to authentication, and its
 * debug trace. Raw ssh2, not the product's client: the packets sent before authentication are
 * what is under test.
 */
interface LoginAttempt {
  ready: boolean;
  error?: Error & { level?: string };
  authHandlerCalls: number;
  debug: string[];
  localPort?: number;
}

function attemptLogin(conn: SshConnection, pinnedLine: string): Promise<LoginAttempt> {
  return new Promise((resolve) => {
    const attempt: LoginAttempt = { ready: false, authHandlerCalls: 0, debug: [] };
    const sock = net.connect(conn.port, conn.host);
    sock.once("connect", () => (attempt.localPort = sock.localPort));
    const client = new Client();
    const finish = () => {
      client.end();
      resolve(attempt);
    };
    client.once("ready", () => {
      attempt.ready = true;
      finish();
    });
    client.once("error", (err) => {
      attempt.error = err;
      finish();
    });
    client.connect({
      sock,
      username: conn.username,
      readyTimeout: 10_000,
      hostVerifier: hostKeyVerifier(pinnedLine),
      authHandler: (_methodsLeft, _partial, next) => {
        attempt.authHandlerCalls += 1;
        next({ type: "publickey", username: conn.username, key: conn.privateKey });
      },
      debug: (line) => attempt.debug.push(line),
    });
  });
}

/**
 * sshd's log lines about a client port, once its disconnect line (`port N:<reason>:`) is there or
 * after 10 s: sshd writes it a moment after the client has seen the connection end.
 */
async function sshdLinesFor(server: TestServer, skipChars: number, port: number | undefined): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = (await docker(["logs", server.container])).stderr.slice(skipChars)
      .split("\n").filter((line) => line.includes(` port ${port}`));
    if (lines.some((line) => line.includes(`port ${port}:`)) || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function keyscan(host: string): Promise<string[]> {
  const r = await run("ssh-keyscan", ["-T", "5", host], { allowFailure: true });
  return r.stdout.split("\n").filter((line) => line && !line.startsWith("#")).sort();
}

describe("Docker-in-Docker test servers: classic and containerd image stores", { timeout: 20 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    // Each server is recorded as soon as it is up, so after() removes it even if the other fails.
    await Promise.all([
      ...STORES.map(async (store) => (servers[store] = await startTestServer({ name: `${prefix}-${store}`, store }))),
      buildTinyImage(`${tinyRepo}:v1`, "v1"),
      buildTinyImage(`${tinyRepo}:v2`, "v2"),
    ]);
  }, { timeout: 20 * 60_000 });

  after(async () => {
    await Promise.all(STORES.map((store) => (servers[store] ? stopTestServer(servers[store]) : undefined)));
    await docker(["image", "rm", "--force", `${tinyRepo}:v1`, `${tinyRepo}:v2`], { allowFailure: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  for (const store of STORES) {
    test(`${store}: SSH logins as root, deploy and nodocker; docker for root and deploy only`, { timeout: 60_000 }, async () => {
      const server = servers[store];
      for (const user of ["root", "deploy", "nodocker"] as LoginUser[]) {
        const r = await runOverSsh(server.as(user), ["sh", "-c", "id -un; docker version --format '{{.Server.Version}}'"], { allowFailure: true });
        const [name, version] = r.stdout.trim().split("\n");
        assert.equal(name, user, `ssh as ${user} on the ${store} server runs as ${user}: ${r.stdout}${r.stderr}`);
        if (user === "nodocker") {
          assert.notEqual(r.code, 0, `nodocker may not use docker on the ${store} server: ${r.stdout}`);
          assert.match(r.stderr, /permission denied/i, `nodocker is refused by the docker socket on the ${store} server`);
        } else {
          assert.equal(r.code, 0, `${user} may use docker on the ${store} server: ${r.stderr}`);
          assert.match(version ?? "", store === "classic" ? /^20\.10\./ : /^2[6-9]\.|^[3-9]\d\./, `${store} server's engine version`);
        }
      }
    });
  }

  test("the containerd server's dockerd uses the containerd snapshotter; the classic one a graphdriver", { timeout: 30_000 }, async () => {
    const containerd = await serverExec(servers.containerd, ["docker", "info", "--format", "{{json .DriverStatus}}"]);
    assert.match(containerd.stdout, /io\.containerd\.snapshotter\.v1/, `containerd server DriverStatus: ${containerd.stdout}`);
    const classic = await serverExec(servers.classic, ["docker", "info", "--format", "{{.Driver}} {{json .DriverStatus}}"]);
    assert.doesNotMatch(classic.stdout, /io\.containerd\.snapshotter/, `classic server DriverStatus: ${classic.stdout}`);
    assert.match(classic.stdout, /^overlay2 /, `classic server storage driver: ${classic.stdout}`);
  });

  for (const store of STORES) {
    test(`${store}: an image saved on this host loads and runs`, { timeout: 120_000 }, async (t) => {
      const server = servers[store];
      const printed = await loadOnServer(server, await saveOnHost(`${tinyRepo}:v1`, path.join(workDir, `run-${store}.tar`)));
      t.diagnostic(`${store} docker load: ${printed}`);
      const r = await runOverSsh(server.as("deploy"), ["docker", "run", "--rm", `${tinyRepo}:v1`, "/bin/sh", "-c", "cat /etc/tiny/version; echo ran"], { allowFailure: true });
      assert.equal(r.code, 0, `docker run on the ${store} server: ${r.stderr}`);
      assert.equal(r.stdout, "v1\nran\n", `the container's output on the ${store} server`);
    });
  }

  for (const store of STORES) {
    test(`${store}: restart-dockerd.sh restarts dockerd and an unless-stopped container comes back`, { timeout: 180_000 }, async () => {
      const server = servers[store];
      await loadOnServer(server, await saveOnHost(`${tinyRepo}:v1`, path.join(workDir, `restart-${store}.tar`)));
      const name = `${prefix}-keep`;
      // --stop-timeout 1: sleep as PID 1 ignores SIGTERM; the stop must not take dockerd's 10 s default.
      await serverExec(server, ["docker", "run", "--detach", "--name", name, "--restart", "unless-stopped", "--stop-timeout", "1", `${tinyRepo}:v1`]);
      const state = async () => JSON.parse((await serverExec(server, ["docker", "inspect", "--format", "{{json .State}}", name])).stdout);
      const pidOf = async (file: string) => (await serverExec(server, ["cat", file])).stdout.trim();
      const startedBefore = await state();
      const dockerdBefore = await pidOf("/var/run/docker.pid");
      const containerdBefore = (await serverExec(server, ["pgrep", "-x", "containerd"], { allowFailure: true })).stdout.trim();
      assert.equal(startedBefore.Running, true, `the container runs before the restart on the ${store} server`);

      await serverExec(server, ["restart-dockerd.sh"]);

      const dockerdAfter = await pidOf("/var/run/docker.pid");
      assert.notEqual(dockerdAfter, dockerdBefore, `dockerd was restarted on the ${store} server`);
      const afterRestart = await state();
      assert.equal(afterRestart.Running, true, `the unless-stopped container runs again after the restart on the ${store} server`);
      assert.notEqual(afterRestart.Pid, startedBefore.Pid, `the container was restarted (new PID) on the ${store} server`);
      assert.ok(Date.parse(afterRestart.StartedAt) > Date.parse(startedBefore.StartedAt), `StartedAt moved on the ${store} server`);
      if (store === "containerd") {
        const containerdAfter = (await serverExec(server, ["pgrep", "-x", "containerd"])).stdout.trim();
        assert.ok(containerdBefore !== "", "a standalone containerd runs on the containerd server");
        assert.equal(containerdAfter, containerdBefore, "restarting dockerd keeps the standalone containerd (same PID)");
      }
      await serverExec(server, ["docker", "rm", "--force", name]);
    });
  }

  test("one docker save from this host: same diffIDs on both servers; the ID is the config digest on classic and a manifest digest on containerd", { timeout: 180_000 }, async (t) => {
    const byTag = await saveOnHost(`${tinyRepo}:v1`, path.join(workDir, "ids-by-tag.tar"));
    const host = await inspectImage("host", `${tinyRepo}:v1`);
    const byId = await saveOnHost(host.Id, path.join(workDir, "ids-by-id.tar"));

    // What containerd records for a Docker-format archive, worked out from the archive itself:
    // a schema2 manifest of the config blob and the uncompressed layer tars.
    const files = await extract(byTag);
    const [entry] = JSON.parse(fs.readFileSync(path.join(files, "manifest.json"), "utf8"));
    const config = fs.readFileSync(path.join(files, entry.Config));
    const layers = (entry.Layers as string[]).map((layer) => fs.readFileSync(path.join(files, layer)));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: `sha256:${sha256(config)}`, size: config.length },
      layers: layers.map((tar) => ({ mediaType: "application/vnd.docker.image.rootfs.diff.tar", digest: `sha256:${sha256(tar)}`, size: tar.length })),
    });
    const configDigest = `sha256:${sha256(config)}`;
    const manifestDigest = `sha256:${sha256(manifest)}`;
    assert.equal(host.Id, configDigest, "on this host (classic 20.10) the image ID is the config digest");

    const loaded: Record<ImageStore, { byId: string; byTag: string; image: Awaited<ReturnType<typeof inspectImage>> }> = {} as never;
    for (const store of STORES) {
      const server = servers[store];
      await serverExec(server, ["docker", "image", "rm", "--force", `${tinyRepo}:v1`], { allowFailure: true });
      const printedById = await loadOnServer(server, byId);
      const printedByTag = await loadOnServer(server, byTag);
      loaded[store] = { byId: printedById, byTag: printedByTag, image: await inspectImage(server, `${tinyRepo}:v1`) };
      t.diagnostic(`${store}: docker load of the save by ID printed ${JSON.stringify(printedById)}; by tag ${JSON.stringify(printedByTag)}; .Id ${loaded[store].image.Id}`);
    }
    t.diagnostic(`host .Id ${host.Id}; config digest ${configDigest}; computed schema2 manifest digest ${manifestDigest}`);

    for (const store of STORES) {
      assert.deepEqual(loaded[store].image.RootFS.Layers, host.RootFS.Layers, `.RootFS.Layers (diffIDs) on the ${store} server equal the host's`);
      assert.equal(loaded[store].byTag, `Loaded image: ${tinyRepo}:v1`, `docker load of a save by tag on the ${store} server`);
    }
    assert.equal(loaded.classic.image.Id, host.Id, "classic server: same .Id as the host (the config digest)");
    assert.notEqual(loaded.containerd.image.Id, host.Id, "containerd server: a different .Id than the host");
    assert.equal(loaded.containerd.image.Id, manifestDigest, "containerd server: .Id is the digest of the schema2 manifest of the archive's config and layer tars");
    assert.equal(loaded.classic.byId, `Loaded image ID: ${configDigest}`, "classic: a save by ID loads as the config digest");
    assert.equal(loaded.containerd.byId, `Loaded image ID: ${manifestDigest}`, "containerd: a save by ID loads as the manifest digest");
    assert.deepEqual(loaded.containerd.image.RepoDigests, [`${tinyRepo}@${manifestDigest}`], "containerd: RepoDigests carries the manifest digest");
    assert.deepEqual(loaded.classic.image.RepoDigests, [], "classic: a loaded image has no RepoDigests");

    // Where the config digest is visible on the containerd store: not in docker image inspect.
    const containerdInspect = await serverExec(servers.containerd, ["docker", "image", "inspect", `${tinyRepo}:v1`]);
    assert.ok(!containerdInspect.stdout.includes(configDigest.slice(7)), "containerd: docker image inspect does not show the config digest");
    const byConfig = await serverExec(servers.containerd, ["docker", "image", "inspect", "--format", "{{.Id}}", configDigest], { allowFailure: true });
    assert.notEqual(byConfig.code, 0, `containerd: the config digest does not name the image: ${byConfig.stdout}`);
    const classicByConfig = await serverExec(servers.classic, ["docker", "image", "inspect", "--format", "{{.Id}}", configDigest]);
    assert.equal(classicByConfig.stdout.trim(), configDigest, "classic: the config digest names the image");
  });

  test("a Docker-format archive that leaves out a layer the server has: classic loads it, containerd refuses it", { timeout: 180_000 }, async (t) => {
    const v2 = await inspectImage("host", `${tinyRepo}:v2`);
    const v1 = await inspectImage("host", `${tinyRepo}:v1`);
    assert.equal(v2.RootFS.Layers[0], v1.RootFS.Layers[0], "v1 and v2 share their first layer");
    const files = await extract(await saveOnHost(`${tinyRepo}:v2`, path.join(workDir, "v2.tar")));
    const [entry] = JSON.parse(fs.readFileSync(path.join(files, "manifest.json"), "utf8"));
    fs.rmSync(path.join(files, entry.Layers[0]));
    const partial = path.join(workDir, "v2-without-first-layer.tar");
    await run("tar", ["-cf", partial, "-C", files, "."]);

    for (const store of STORES) {
      const server = servers[store];
      await loadOnServer(server, await saveOnHost(`${tinyRepo}:v1`, path.join(workDir, `partial-base-${store}.tar`)));
      const r = await runOverSsh(server.as("deploy"), ["docker", "load"], { stdin: fs.createReadStream(partial), allowFailure: true });
      t.diagnostic(`${store}: exit ${r.code}: ${(r.stdout + r.stderr).trim()}`);
      const tagged = await serverExec(server, ["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", `${tinyRepo}:v2`], { allowFailure: true });
      if (store === "classic") {
        assert.equal(r.code, 0, `classic loads the partial archive: ${r.stderr}`);
        assert.deepEqual(JSON.parse(tagged.stdout), v2.RootFS.Layers, "classic: v2 is tagged with its layers");
      } else {
        assert.notEqual(r.code, 0, `containerd refuses the partial archive: ${r.stdout}`);
        assert.match(r.stderr, /failed to resolve layers: layer ".*layer\.tar" not found/, "containerd names the missing layer");
        assert.notEqual(tagged.code, 0, "containerd: no v2 tag after the refused load");
      }
    }
  });

  describe("host keys", () => {
    for (const store of STORES) {
      test(`${store}: server.hostKey is the ed25519 key that ssh-keyscan and ssh2 are offered`, { timeout: 60_000 }, async () => {
        const server = servers[store];
        assert.match(server.hostKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=*$/, `server.hostKey is an ssh-keyscan key: ${server.hostKey}`);
        const scanned = await keyscan(server.host);
        assert.ok(scanned.includes(`${server.host} ${server.hostKey}`), `ssh-keyscan ${server.host} offers server.hostKey: ${scanned.join(" | ")}`);
        assert.equal(await presentedHostKey(server.host), server.hostKey, "ssh2 is offered server.hostKey");
      });

      test(`${store}: installHostKey refuses bad input before changing anything`, { timeout: 60_000 }, async () => {
        const server = servers[store];
        const keyBefore = server.hostKey;
        const good = generateSshKeyPair();
        const other = generateSshKeyPair();
        const rsa = generateSshKeyPair("rsa");
        await assert.rejects(installHostKey(server, { privateOpenssh: "not a key", publicLine: good.public }),
          /privateOpenssh is not an OpenSSH private key/, "garbage private key");
        await assert.rejects(installHostKey(server, { privateOpenssh: rsa.private, publicLine: rsa.public }),
          /is a ssh-rsa key; expected ssh-ed25519/, "an RSA pair");
        await assert.rejects(installHostKey(server, { privateOpenssh: good.private, publicLine: other.public }),
          /publicLine is not the public key of privateOpenssh/, "a mismatched pair");
        await assert.rejects(installHostKey(server, { privateOpenssh: good.private, publicLine: "ssh-ed25519" }),
          /is not an OpenSSH public key line; expected "ssh-ed25519 AAAA…"/, "a truncated public line");
        assert.equal(server.hostKey, keyBefore, "server.hostKey is unchanged");
        assert.equal(await presentedHostKey(server.host), keyBefore, "the server still offers its old key");
        const dropIn = await serverExec(server, ["test", "-e", "/etc/ssh/sshd_config.d/pydeploy-host-key.conf"], { allowFailure: true });
        assert.notEqual(dropIn.code, 0, "no sshd configuration was written");
      });

      test(`${store}: after installHostKey a pinned client logs in, and a wrong pin is refused before authentication`, { timeout: 120_000 }, async (t) => {
        const server = servers[store];
        const oldKey = server.hostKey;
        const pair = generateSshKeyPair("ed25519", "cloud-init-ssh_keys");
        const stranger = generateSshKeyPair();
        await installHostKey(server, { privateOpenssh: pair.private, publicLine: pair.public });
        const expectedLine = pair.public.split(" ").slice(0, 2).join(" ");

        assert.equal(server.hostKey, expectedLine, "server.hostKey is the installed key");
        assert.deepEqual(await keyscan(server.host), [`${server.host} ${expectedLine}`], "ssh-keyscan (every key type) is offered only the installed ed25519 key");

        const pinned = await runOverSsh({ ...server.as("root"), hostKey: pair.public }, ["echo", "pinned"], { allowFailure: true });
        assert.equal(pinned.stdout, "pinned\n", `the product's client pinned to the installed key runs the command: ${pinned.stderr}`);

        const right = await attemptLogin(server.as("deploy"), pair.public);
        assert.equal(right.error, undefined, `the right pin connects: ${right.error}`);
        assert.equal(right.ready, true, "the right pin reaches a logged-in session");
        assert.equal(right.authHandlerCalls, 1, "the right pin goes on to authenticate");

        const logsBefore = (await docker(["logs", server.container])).stderr;
        for (const [what, wrongLine] of [["a stranger's key", stranger.public], ["the server's previous key", oldKey]]) {
          const wrong = await attemptLogin(server.as("deploy"), wrongLine);
          assert.equal(wrong.ready, false, `${what}: no session`);
          assert.match(String(wrong.error?.message), /Host denied \(verification failed\)/, `${what}: ssh2 reports the host key mismatch`);
          assert.equal(wrong.error?.level, "handshake", `${what}: refused during the handshake`);
          assert.equal(wrong.authHandlerCalls, 0, `${what}: authentication never started`);
          const sent = wrong.debug.filter((line) => /Outbound: Sending (SERVICE_REQUEST|USERAUTH_REQUEST|CHANNEL_OPEN)/.test(line));
          assert.deepEqual(sent, [], `${what}: nothing past key exchange was sent`);
          assert.ok(wrong.localPort, `${what}: the client's local port is known`);
          const serverLines = await sshdLinesFor(server, logsBefore.length, wrong.localPort);
          t.diagnostic(`${what}: sshd logged ${JSON.stringify(serverLines)}`);
          assert.ok(serverLines.length > 0, `${what}: sshd logged the connection from port ${wrong.localPort}`);
          assert.ok(serverLines.every((line) => /\[preauth\]/.test(line) && !/Accepted|Failed|Invalid user/.test(line)),
            `${what}: sshd saw it end before authentication: ${serverLines.join(" | ")}`);
          // Reason 3 is SSH_DISCONNECT_KEY_EXCHANGE_FAILED: the client hung up during key exchange.
          assert.ok(serverLines.some((line) => line.includes(`port ${wrong.localPort}:3:`)), `${what}: the client disconnected with reason 3 (key exchange failed)`);
        }
      });
    }
  });
});
