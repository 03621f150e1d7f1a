// A disposable "server" for end-to-end tests: a Docker-in-Docker container running sshd and
// dockerd (test/support/ssh/server/), reached over real SSH with the product's own client
// (components/deploy/runner/sshHost.ts); raw ssh2 only where a key exchange detail is under test.
// Two kinds: "classic" (bookworm's docker.io 20.10, graphdriver image store) and "containerd"
// (trixie's docker.io 26 with the containerd image store, as on a fresh Docker Engine 29 host).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client, utils } from "ssh2";
import { connectSsh } from "../../../components/deploy/runner/sshHost";
import type { Argv } from "../../../components/deploy/dockerCommands";
import type { CommandResult, RunOptions } from "../../../components/deploy/runner/transport";
import { generateSshKeyPair } from "./sshKeys";
import { BASE_IMAGE, containerIp, docker, REPO_ROOT, RunResult, uniqueName, waitFor } from "../docker/localEngine";

export const SERVER_DIR = path.join(REPO_ROOT, "test", "support", "ssh", "server");

/** Which image store the server's dockerd uses. */
export type ImageStore = "classic" | "containerd";

interface ServerKind {
  repository: string;
  /** Relative to SERVER_DIR, which is the build context of both kinds. */
  dockerfile: string;
  /** Sub-folders of SERVER_DIR whose files this kind builds from, besides SERVER_DIR's own files. */
  extraFolders: string[];
  /** Anonymous volumes: the inner engine's data must not sit on the container's overlay root. */
  volumes: string[];
}

const SERVER_KINDS: Record<ImageStore, ServerKind> = {
  classic: { repository: "pydeploy/test-server", dockerfile: "Dockerfile", extraFolders: [], volumes: ["/var/lib/docker"] },
  // containerd's snapshots need their own volume too: overlay on overlay fails with
  // "failed to mount /tmp/containerd-mount…: invalid argument".
  containerd: {
    repository: "pydeploy/test-server-containerd",
    dockerfile: "containerd/Dockerfile",
    extraFolders: ["containerd"],
    volumes: ["/var/lib/docker", "/var/lib/containerd"],
  },
};

const LOGIN_USERS = ["root", "deploy", "nodocker"] as const;
export type LoginUser = (typeof LOGIN_USERS)[number];

export interface SshConnection {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** Pins the server's host key ("ssh-ed25519 AAAA…", as @pulumi/command's `hostKey`); unset accepts any. */
  hostKey?: string;
}

export interface TestServer {
  /** The server container's name on the local engine. */
  container: string;
  /** The image store of its dockerd. */
  store: ImageStore;
  /** Its IP on the default bridge: SSH on port 22, published app ports too. */
  host: string;
  privateKey: string;
  publicKey: string;
  /** The server's ed25519 host public key as ssh-keyscan prints it ("ssh-ed25519 AAAA…"); installHostKey updates it. */
  hostKey: string;
  /** Connection for a login user of the server image: root (login shell sh), deploy (docker group, sh), nodocker. */
  as(username: LoginUser): SshConnection;
}

function serverKind(store: ImageStore): ServerKind {
  const kind = SERVER_KINDS[store];
  if (!kind) throw new Error(`unknown test server store ${JSON.stringify(store)}; expected one of ${Object.keys(SERVER_KINDS).join(", ")}`);
  return kind;
}

/** The files a kind is built from, as [name, absolute path], sorted by name. */
function buildFiles(kind: ServerKind): [string, string][] {
  const files: [string, string][] = [];
  for (const folder of ["", ...kind.extraFolders]) {
    for (const entry of fs.readdirSync(path.join(SERVER_DIR, folder), { withFileTypes: true })) {
      if (entry.isFile()) files.push([path.posix.join(folder, entry.name), path.join(SERVER_DIR, folder, entry.name)]);
    }
  }
  return files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The server image tag: a hash of its build files and of the base image, so edits rebuild it. */
export async function serverImageTag(store: ImageStore = "classic"): Promise<string> {
  const kind = serverKind(store);
  const hash = createHash("sha256");
  for (const [name, file] of buildFiles(kind)) {
    hash.update(name).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  const base = await docker(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE]);
  hash.update(base.stdout.trim());
  return `${kind.repository}:${hash.digest("hex").slice(0, 12)}`;
}

/** Builds the server image unless this version of it exists; drops older versions nobody uses. */
export async function ensureServerImage(store: ImageStore = "classic"): Promise<string> {
  const kind = serverKind(store);
  const tag = await serverImageTag(store);
  const present = await docker(["image", "inspect", tag], { allowFailure: true });
  if (present.code === 0) return tag;
  await docker([
    "build", "--quiet", "--build-arg", `BASE_IMAGE=${BASE_IMAGE}`,
    "-f", path.join(SERVER_DIR, kind.dockerfile), "-t", tag, SERVER_DIR,
  ], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 15 * 60_000,
  });
  const others = await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", kind.repository]);
  for (const old of others.stdout.split("\n").filter((t) => t && t !== tag)) {
    await docker(["image", "rm", old], { allowFailure: true }); // fails while a container uses it: fine
  }
  return tag;
}

/**
 * Starts a server container of the given image store ("classic" by default) and waits until SSH
 * logins work and its dockerd answers with that store.
 * `--privileged` is refused here, so: all capabilities but SYS_RESOURCE, no seccomp/apparmor,
 * writable cgroups; the inner engine's data folders are volumes so it can use overlay.
 */
export async function startTestServer(o: { name?: string; store?: ImageStore; /** One login key for several servers (a fleet's sshPrivateKey). */ keys?: { private: string; public: string } } = {}): Promise<TestServer> {
  const store = o.store ?? "classic";
  const kind = serverKind(store);
  const image = await ensureServerImage(store);
  const keys = o.keys ?? generateSshKeyPair("ed25519", "pydeploy-e2e");
  const container = o.name ?? uniqueName(`pydeploy-e2e-server-${store}`);
  await docker([
    "run", "--detach", "--init", "--name", container,
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    ...kind.volumes.flatMap((volume) => ["-v", volume]),
    "-e", `AUTHORIZED_KEY=${keys.public}`,
    image,
  ]);
  try {
    const host = await containerIp(container);
    const server: TestServer = {
      container,
      store,
      host,
      privateKey: keys.private,
      publicKey: keys.public,
      hostKey: "",
      as: (username) => ({ host, port: 22, username, privateKey: keys.private }),
    };
    await waitFor("the test server's dockerd", async () => {
      const r = await serverExec(server, ["docker", "version", "--format", "{{.Server.Version}}"], { allowFailure: true });
      return r.code === 0 ? r.stdout : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    const running = await dockerImageStore(server);
    if (running !== store) throw new Error(`its dockerd uses the ${running} image store, expected ${store}`);
    await waitFor("an SSH login on the test server", async () => {
      const r = await runOverSsh(server.as("root"), ["true"], { allowFailure: true, connectSeconds: 5 }).catch(() => undefined);
      return r?.code === 0 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    server.hostKey = await readHostKey(server);
    return server;
  } catch (err) {
    const logs = await docker(["logs", "--tail", "50", container], { allowFailure: true });
    await stopTestServer(container);
    throw new Error(`test server ${container} did not come up: ${err}\n${logs.stdout}${logs.stderr}`);
  }
}

/** The image store the server's dockerd reports: its DriverStatus names the containerd snapshotter in containerd mode. */
export async function dockerImageStore(server: TestServer): Promise<ImageStore> {
  const info = await serverExec(server, ["docker", "info", "--format", "{{json .DriverStatus}}"]);
  return info.stdout.includes("io.containerd.snapshotter.v1") ? "containerd" : "classic";
}

/** Removes the server container and its volume (the inner engine's images and containers). */
export async function stopTestServer(server: TestServer | string): Promise<void> {
  const name = typeof server === "string" ? server : server.container;
  await docker(["rm", "--force", "--volumes", name], { allowFailure: true });
}

/**
 * Points the server's dockerd at registry mirrors, as pydeploy's install step or an admin's
 * daemon.json does: merged into /etc/docker/daemon.json (the containerd server's settings stay),
 * applied by SIGHUP (dockerd reloads "registry-mirrors" and "insecure-registries" live).
 * `insecure`: hosts the containerd store may reach over plain HTTP.
 */
export async function setRegistryMirrors(server: TestServer, mirrors: string[], insecure: string[] = []): Promise<void> {
  const current = await serverExec(server, ["cat", "/etc/docker/daemon.json"], { allowFailure: true });
  const config = { ...(current.code === 0 ? (JSON.parse(current.stdout) as Record<string, unknown>) : {}), "registry-mirrors": mirrors, "insecure-registries": insecure };
  await serverExec(server, ["sh", "-c", "cat > /etc/docker/daemon.json && kill -HUP \"$(pidof dockerd)\""], { input: `${JSON.stringify(config, null, 2)}\n` });
  const wanted = JSON.stringify(mirrors.map((m) => `${m.replace(/\/+$/, "")}/`));
  await waitFor(`dockerd on ${server.container} to use the mirrors ${wanted}`, async () => {
    const r = await serverExec(server, ["docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}"], { allowFailure: true });
    return r.stdout.trim() === wanted ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
}

/** Runs argv inside the server container (docker exec, as root), bypassing SSH: for test set-up and faults. */
export function serverExec(server: TestServer, argv: string[], opts: { allowFailure?: boolean; input?: string } = {}): Promise<RunResult> {
  return docker(["exec", ...(opts.input !== undefined ? ["-i"] : []), server.container, ...argv], opts);
}

/**
 * Runs argv over a fresh SSH connection with the product's client (connectSsh, SshHost.run):
 * every word quoted for the login shell, `conn.hostKey` pinned when set, stdin a string, buffer or
 * stream. Throws for a non-zero exit unless `allowFailure`.
 */
export async function runOverSsh(
  conn: SshConnection,
  argv: Argv,
  opts: RunOptions & { connectSeconds?: number } = {},
): Promise<CommandResult> {
  const host = await connectSsh(
    { host: conn.host, port: conn.port, user: conn.username, privateKey: conn.privateKey, hostKey: conn.hostKey },
    // The "host key not pinned" warning is the product's to give a user; the servers' keys are known here.
    { timeoutSeconds: opts.connectSeconds ?? 20, log: () => undefined },
  );
  try {
    return await host.run(argv, opts);
  } finally {
    await host.close();
  }
}

// --- Host keys: what a client pins, and a stand-in for cloud-init's ssh_keys module ---

const HOST_KEY_PATH = "/etc/ssh/ssh_host_ed25519_key";
/** Naming HostKey stops sshd from loading its default keys, so it offers only this one. */
const HOST_KEY_CONFIG = "/etc/ssh/sshd_config.d/pydeploy-host-key.conf";
const PUBLIC_LINE = /^ssh-ed25519 ([A-Za-z0-9+/]+={0,2})(?: .*)?$/;

/** The key blob of an "ssh-ed25519 AAAA… [comment]" line; throws naming what is wrong. */
export function hostKeyBlob(publicLine: string): Buffer {
  const match = PUBLIC_LINE.exec(publicLine.trim());
  if (!match) throw new Error(`host key ${JSON.stringify(publicLine.slice(0, 40))}… is not an OpenSSH public key line; expected "ssh-ed25519 AAAA…"`);
  const parsed = utils.parseKey(publicLine.trim());
  if (parsed instanceof Error) throw new Error(`host key "ssh-ed25519 ${match[1].slice(0, 16)}…" does not parse: ${parsed.message}`);
  return parsed.getPublicSSH();
}

/** An ssh2 hostVerifier that accepts exactly the key of `publicLine` (raw blob comparison, no hashing). */
export function hostKeyVerifier(publicLine: string): (key: Buffer) => boolean {
  const expected = hostKeyBlob(publicLine);
  return (key) => Buffer.isBuffer(key) && key.equals(expected);
}

/** "ssh-ed25519 <base64>" without a comment, as ssh-keyscan prints the key. */
function keyscanLine(publicLine: string): string {
  return `ssh-ed25519 ${hostKeyBlob(publicLine).toString("base64")}`;
}

/** The ed25519 host public key in the server's sshd folder. */
async function readHostKey(server: TestServer): Promise<string> {
  const r = await serverExec(server, ["cat", `${HOST_KEY_PATH}.pub`]);
  return keyscanLine(r.stdout);
}

/**
 * The host key a new SSH connection is offered (the KEX reply), as "ssh-ed25519 AAAA…". Rejects
 * it in the hostVerifier, so the connection ends before any authentication.
 */
export function presentedHostKey(host: string, port = 22, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let offered: Buffer | undefined;
    client.once("error", (err) => {
      client.end();
      if (!offered) return reject(err);
      const parsed = utils.parseKey(offered);
      resolve(`${parsed instanceof Error ? "unknown-key-type" : parsed.type} ${offered.toString("base64")}`);
    });
    client.once("ready", () => {
      client.end();
      reject(new Error(`ssh ${host}:${port}: authenticated although the host verifier refused every key`));
    });
    client.connect({
      host, port, username: "pydeploy-keyscan", readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        offered = Buffer.from(key);
        return false;
      },
    });
  });
}

/**
 * Replaces the server's ed25519 host key with the given pair and reloads sshd, as cloud-init's
 * ssh_keys module does on a new server: afterwards new connections are offered only this key.
 * Checks the pair (an unencrypted OpenSSH ed25519 private key, and its public line) before
 * changing anything; the private key travels on stdin, never in an argument.
 */
export async function installHostKey(server: TestServer, pair: { privateOpenssh: string; publicLine: string }): Promise<void> {
  if (!/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\s*$/.test(pair.privateOpenssh ?? "")) {
    throw new Error("installHostKey: privateOpenssh is not an OpenSSH private key; expected the text from -----BEGIN OPENSSH PRIVATE KEY----- to -----END OPENSSH PRIVATE KEY-----");
  }
  const privateKey = utils.parseKey(pair.privateOpenssh);
  if (privateKey instanceof Error || privateKey.getPrivatePEM() === null) {
    throw new Error(`installHostKey: privateOpenssh does not parse as an unencrypted private key${privateKey instanceof Error ? ` (${privateKey.message})` : ""}; sshd cannot use an encrypted host key`);
  }
  if (privateKey.type !== "ssh-ed25519") {
    throw new Error(`installHostKey: privateOpenssh is a ${privateKey.type} key; expected ssh-ed25519`);
  }
  const publicLine = keyscanLine(pair.publicLine);
  if (!privateKey.getPublicSSH().equals(hostKeyBlob(publicLine))) {
    throw new Error("installHostKey: publicLine is not the public key of privateOpenssh");
  }

  const write = (file: string, mode: string, content: string) => serverExec(server, [
    "sh", "-c", 'umask 077 && cat > "$1.new" && chmod "$2" "$1.new" && mv "$1.new" "$1"', "sh", file, mode,
  ], { input: content });
  await write(HOST_KEY_PATH, "600", pair.privateOpenssh.endsWith("\n") ? pair.privateOpenssh : `${pair.privateOpenssh}\n`);
  await write(`${HOST_KEY_PATH}.pub`, "644", `${publicLine} root@${server.container}\n`);
  await write(HOST_KEY_CONFIG, "644", `HostKey ${HOST_KEY_PATH}\n`);
  const check = await serverExec(server, ["/usr/sbin/sshd", "-t"], { allowFailure: true });
  if (check.code !== 0) throw new Error(`installHostKey: sshd -t rejects the new configuration: ${check.stderr.trim()}`);
  // SIGHUP makes the listening sshd re-exec itself: new configuration and keys, same PID.
  await serverExec(server, ["sh", "-c", 'kill -HUP "$(cat /run/sshd.pid)"']);
  await waitFor(`sshd on ${server.container} to present the new host key`, async () => {
    const offered = await presentedHostKey(server.host, 22, 5_000);
    return offered === publicLine ? true : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200 });
  server.hostKey = publicLine;
}
