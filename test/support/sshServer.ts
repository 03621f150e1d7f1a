// A disposable "server" for end-to-end tests: a Docker-in-Docker container running sshd and
// dockerd (test/support/server/), reached over real SSH with ssh2, like @pulumi/command does.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client, ConnectConfig, utils } from "ssh2";
import { BASE_IMAGE, containerIp, docker, REPO_ROOT, RunResult, uniqueName, waitFor } from "./docker";

export const SERVER_DIR = path.join(REPO_ROOT, "test", "support", "server");
const SERVER_REPOSITORY = "pydeploy/test-server";

export interface SshConnection {
  host: string;
  port: number;
  username: string;
  privateKey: string;
}

export interface TestServer {
  /** The server container's name on the local engine. */
  container: string;
  /** Its IP on the default bridge: SSH on port 22, published app ports too. */
  host: string;
  privateKey: string;
  publicKey: string;
  /** Connection for a login user of the server image: root (login shell sh), deploy (docker group, sh), nodocker. */
  as(username: "root" | "deploy" | "nodocker"): SshConnection;
}

/** The server image tag: a hash of its build files and of the base image, so edits rebuild it. */
export async function serverImageTag(): Promise<string> {
  const hash = createHash("sha256");
  for (const name of fs.readdirSync(SERVER_DIR).sort()) {
    hash.update(name).update("\0").update(fs.readFileSync(path.join(SERVER_DIR, name))).update("\0");
  }
  const base = await docker(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE]);
  hash.update(base.stdout.trim());
  return `${SERVER_REPOSITORY}:${hash.digest("hex").slice(0, 12)}`;
}

/** Builds the server image unless this version of it exists; drops older versions nobody uses. */
export async function ensureServerImage(): Promise<string> {
  const tag = await serverImageTag();
  const present = await docker(["image", "inspect", tag], { allowFailure: true });
  if (present.code === 0) return tag;
  await docker(["build", "--quiet", "--build-arg", `BASE_IMAGE=${BASE_IMAGE}`, "-t", tag, SERVER_DIR], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 15 * 60_000,
  });
  const others = await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", SERVER_REPOSITORY]);
  for (const old of others.stdout.split("\n").filter((t) => t && t !== tag)) {
    await docker(["image", "rm", old], { allowFailure: true }); // fails while a container uses it: fine
  }
  return tag;
}

/**
 * Starts a server container and waits until SSH logins work and its dockerd answers.
 * `--privileged` is refused here, so: all capabilities but SYS_RESOURCE, no seccomp/apparmor,
 * writable cgroups; /var/lib/docker is a volume so the inner dockerd can use overlay2.
 */
export async function startTestServer(o: { name?: string } = {}): Promise<TestServer> {
  const image = await ensureServerImage();
  const keys = utils.generateKeyPairSync("ed25519", { comment: "pydeploy-e2e" });
  const container = o.name ?? uniqueName("pydeploy-e2e-server");
  await docker([
    "run", "--detach", "--init", "--name", container,
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "-v", "/var/lib/docker",
    "-e", `AUTHORIZED_KEY=${keys.public}`,
    image,
  ]);
  try {
    const host = await containerIp(container);
    const server: TestServer = {
      container,
      host,
      privateKey: keys.private,
      publicKey: keys.public,
      as: (username) => ({ host, port: 22, username, privateKey: keys.private }),
    };
    await waitFor("the test server's dockerd", async () => {
      const r = await serverExec(server, ["docker", "version", "--format", "{{.Server.Version}}"], { allowFailure: true });
      return r.code === 0 ? r.stdout : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    await waitFor("an SSH login on the test server", async () => {
      const r = await sshExec(server.as("root"), "true", { timeoutMs: 5_000 });
      return r.code === 0 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    return server;
  } catch (err) {
    const logs = await docker(["logs", "--tail", "50", container], { allowFailure: true });
    await stopTestServer(container);
    throw new Error(`test server ${container} did not come up: ${err}\n${logs.stdout}${logs.stderr}`);
  }
}

/** Removes the server container and its volume (the inner engine's images and containers). */
export async function stopTestServer(server: TestServer | string): Promise<void> {
  const name = typeof server === "string" ? server : server.container;
  await docker(["rm", "--force", "--volumes", name], { allowFailure: true });
}

/** Runs argv inside the server container (docker exec, as root), bypassing SSH: for test set-up and faults. */
export function serverExec(server: TestServer, argv: string[], opts: { allowFailure?: boolean; input?: string } = {}): Promise<RunResult> {
  return docker(["exec", ...(opts.input !== undefined ? ["-i"] : []), server.container, ...argv], opts);
}

function connect(conn: SshConnection, timeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const config: ConnectConfig = {
      host: conn.host,
      port: conn.port,
      username: conn.username,
      privateKey: conn.privateKey,
      readyTimeout: timeoutMs,
    };
    client.once("ready", () => resolve(client));
    client.once("error", reject);
    client.connect(config);
  });
}

/**
 * Runs `command` over a fresh SSH connection (the server's login shell parses it, as for
 * remote.Command), feeding `stdin` and closing it. Never throws for a non-zero exit.
 */
export async function sshExec(
  conn: SshConnection,
  command: string,
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const client = await connect(conn, Math.min(timeoutMs, 20_000));
  try {
    return await new Promise<RunResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ssh ${conn.username}@${conn.host}: timed out after ${timeoutMs} ms: ${command.slice(0, 200)}`)), timeoutMs);
      client.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
          return;
        }
        let stdout = "";
        let stderr = "";
        let code = -1;
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("exit", (c: number | null) => (code = c ?? -1));
        stream.on("close", () => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
        stream.end(opts.stdin ?? "");
      });
    });
  } finally {
    client.end();
  }
}

/** Uploads a local file over SFTP, as remote.CopyToRemote does; a relative remotePath is in the user's home. */
export async function sftpUpload(conn: SshConnection, localPath: string, remotePath: string): Promise<void> {
  const client = await connect(conn, 20_000);
  try {
    await new Promise<void>((resolve, reject) => {
      client.sftp((err, sftp) => {
        if (err) return reject(err);
        sftp.fastPut(localPath, remotePath, (e) => (e ? reject(e) : resolve()));
      });
    });
  } finally {
    client.end();
  }
}
