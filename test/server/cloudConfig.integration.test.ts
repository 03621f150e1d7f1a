// The ECS userData document run by the real cloud-init (Debian bookworm's 22.4) from a NoCloud
// seed in a container, then reached with OpenSSH's client pinned to the host key the way
// @pulumi/command pins it: the key lands in /etc/ssh before sshd starts, and the Docker install runs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { CLOUD_INIT_LOG, DOCKER_INSTALL_SCRIPT_PATH, renderCloudConfig, type HostKeyPair } from "../../components/server/cloudInit";
import { ALIYUN_DOCKER_CE_MIRROR } from "../../components/server/dockerInstall";
import { parseHostKeyLine } from "../../components/config/hostKey";
import { BASE_IMAGE, containerIp, docker, ensureBaseImage, REPO_ROOT, run, uniqueName, waitFor } from "../support/docker/localEngine";

const IMAGE_DIR = path.join(REPO_ROOT, "test", "server", "cloud-init-host");
const IMAGE_REPOSITORY = "pydeploy/test-cloud-init-host";
const SEED = "/var/lib/cloud/seed/nocloud";
const REGISTRY_MIRROR = "https://registry-mirror.example.com";

/** The image tag: a hash of its build files and of the base image, so edits rebuild it. */
async function ensureImage(): Promise<string> {
  const hash = createHash("sha256");
  for (const name of fs.readdirSync(IMAGE_DIR).sort()) hash.update(name).update("\0").update(fs.readFileSync(path.join(IMAGE_DIR, name))).update("\0");
  hash.update((await docker(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE])).stdout.trim());
  const tag = `${IMAGE_REPOSITORY}:${hash.digest("hex").slice(0, 12)}`;
  if ((await docker(["image", "inspect", tag], { allowFailure: true })).code === 0) return tag;
  await docker(["build", "--quiet", "--build-arg", `BASE_IMAGE=${BASE_IMAGE}`, "-t", tag, IMAGE_DIR], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 15 * 60_000,
  });
  const others = await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", IMAGE_REPOSITORY]);
  for (const old of others.stdout.split("\n").filter((t) => t && t !== tag)) await docker(["image", "rm", old], { allowFailure: true });
  return tag;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-cloud-config-"));

/** A key pair from OpenSSH's ssh-keygen: the formats @pulumi/tls gives for ED25519. */
async function sshKeygen(name: string): Promise<HostKeyPair & { file: string }> {
  const file = path.join(scratch, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
  return { file, privateKeyOpenssh: fs.readFileSync(file, "utf8"), publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

describe("the cloud-config userData under real cloud-init", { timeout: 20 * 60_000 }, () => {
  const container = uniqueName("pydeploy-cloudinit-test");
  let hostKey: HostKeyPair;
  let login: Awaited<ReturnType<typeof sshKeygen>>;
  let userData: string;
  let ip: string;
  const exec = (argv: string[], opts: { input?: string; allowFailure?: boolean } = {}) =>
    docker(["exec", ...(opts.input !== undefined ? ["-i"] : []), container, ...argv], opts);
  /** OpenSSH's client, pinned the way @pulumi/command pins `hostKey`: that key only, and only its algorithm. */
  const ssh = (knownHostKey: string, command: string) => {
    const knownHosts = path.join(scratch, `known_hosts-${createHash("sha256").update(knownHostKey).digest("hex").slice(0, 8)}`);
    fs.writeFileSync(knownHosts, `${ip} ${knownHostKey}\n`);
    return run("ssh", [
      "-i", login.file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
      "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", `HostKeyAlgorithms=${parseHostKeyLine(knownHostKey).type}`,
      `debian@${ip}`, command,
    ], { allowFailure: true, timeoutMs: 30_000 });
  };

  before(async () => {
    ensureBaseImage();
    const image = await ensureImage();
    hostKey = await sshKeygen("host");
    login = await sshKeygen("login");
    userData = renderCloudConfig({ docker: { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: [REGISTRY_MIRROR] }, hostKey });
    await docker(["run", "--detach", "--init", "--name", container, image]);
    ip = await containerIp(container);
    // The NoCloud seed: our userData, and the login key the way ECS passes the key pair (metadata public-keys).
    await exec(["mkdir", "-p", SEED]);
    await exec(["sh", "-c", `cat > ${SEED}/user-data`], { input: userData });
    await exec(["sh", "-c", `cat > ${SEED}/meta-data`], { input: stringify({ "instance-id": `iid-${container}`, "local-hostname": "pydeploy-test", "public-keys": [login.publicKey] }) });
  });
  after(async () => {
    await docker(["rm", "--force", container], { allowFailure: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test("cloud-init's schema check accepts the document", async () => {
    const r = await exec(["cloud-init", "schema", "--config-file", `${SEED}/user-data`], { allowFailure: true });
    assert.equal(r.code, 0, `cloud-init schema: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /Valid cloud-config/, "schema verdict");
  });

  test("a first boot's stages run without error", async () => {
    // What systemd runs on a first boot: cloud-init-local, cloud-init, cloud-config, cloud-final.
    for (const stage of [["init", "--local"], ["init"], ["modules", "--mode", "config"], ["modules", "--mode", "final"]]) {
      const r = await exec(["cloud-init", ...stage], { allowFailure: true });
      assert.equal(r.code, 0, `cloud-init ${stage.join(" ")}: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    }
    // What the deploy's wait step asks.
    const status = await exec(["cloud-init", "status", "--long"], { allowFailure: true });
    assert.equal(status.code, 0, `cloud-init status: ${status.stdout}${status.stderr}`);
    assert.match(status.stdout, /^status: done$/m, "cloud-init reports done");
  });

  test("the host key pair is the only one in /etc/ssh, the private key readable by root only", async () => {
    const files = (await exec(["sh", "-c", "ls /etc/ssh/ | grep '^ssh_host_'"])).stdout.trim().split("\n");
    assert.deepEqual(files, ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"], "the image's own keys are gone and none were generated");
    assert.equal((await exec(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])).stdout.trim(), hostKey.publicKey, "public key");
    assert.equal((await exec(["cat", "/etc/ssh/ssh_host_ed25519_key"])).stdout, hostKey.privateKeyOpenssh, "private key, byte for byte");
    assert.equal((await exec(["stat", "-c", "%a %U", "/etc/ssh/ssh_host_ed25519_key"])).stdout.trim(), "600 root", "private key mode and owner");
  });

  test("runcmd ran the Docker install script once: its log says Docker is running, and the registry mirror is configured", async () => {
    assert.equal((await exec(["stat", "-c", "%a %U", DOCKER_INSTALL_SCRIPT_PATH])).stdout.trim(), "700 root", "script mode and owner");
    const log = (await exec(["cat", CLOUD_INIT_LOG])).stdout;
    assert.equal(log.match(/pydeploy: install-docker started/g)?.length, 1, `ran once:\n${log}`);
    assert.match(log, /pydeploy: docker is running\npydeploy: install-docker finished/, `log:\n${log}`);
    assert.deepEqual(JSON.parse((await exec(["cat", "/etc/docker/daemon.json"])).stdout), { "registry-mirrors": [REGISTRY_MIRROR] }, "daemon.json");
  });

  test("sshd presents that key: ssh-keyscan shows it, a client pinned to it logs in, one pinned to another key refuses", async () => {
    await exec(["/usr/sbin/sshd"]);
    const scanned = await waitFor("ssh-keyscan to answer", async () => {
      const r = await run("ssh-keyscan", ["-t", "ed25519", ip], { allowFailure: true, timeoutMs: 10_000 });
      return r.stdout.trim() || undefined;
    });
    assert.equal(parseHostKeyLine(scanned).line, hostKey.publicKey, "what the README tells users to run finds the generated key");

    const pinned = await ssh(hostKey.publicKey, "id -un");
    assert.equal(pinned.code, 0, `pinned login: ${pinned.stderr}`);
    assert.equal(pinned.stdout.trim(), "debian", "logged in with the key from the metadata");

    const other = await sshKeygen("other");
    const wrong = await ssh(other.publicKey, "true");
    assert.notEqual(wrong.code, 0, "a client pinned to another key must not connect");
    assert.match(wrong.stderr, /Host key verification failed/, `stderr: ${wrong.stderr}`);
  });
});
