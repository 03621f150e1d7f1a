import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse } from "yaml";
import { DOCKER_INSTALL_SCRIPT_PATH, renderCloudConfig, USER_DATA_MAX_BYTES, type HostKeyPair } from "../../components/server/cloudInit";
import {
  ALIYUN_DOCKER_CE_MIRROR,
  ALIYUN_VPC_DOCKER_CE_MIRROR,
  installDockerArgs,
  type DockerInstallOptions,
} from "../../components/server/dockerInstall";

const scratch = mkdtempSync(join(tmpdir(), "pydeploy-cloud-init-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the real shellcheck binary; a missing binary fails the test. */
function shellcheck(script: string): { code: number; output: string } {
  const file = join(scratch, `script-${Math.random().toString(16).slice(2)}.sh`);
  writeFileSync(file, script);
  const r = spawnSync("shellcheck", ["--severity=style", file], { encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck must be installed to run these tests: ${r.error.message}`);
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

function bashSyntaxOk(script: string): void {
  const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
  assert.equal(r.status, 0, `bash -n: ${r.stderr}`);
}

/** A real ED25519 key pair from OpenSSH's ssh-keygen, as sshd will read it. */
function sshKeygen(name: string, type = "ed25519"): HostKeyPair {
  const file = join(scratch, name);
  const r = spawnSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "", "-f", file], { encoding: "utf8" });
  if (r.error) throw new Error(`ssh-keygen must be installed to run these tests: ${r.error.message}`);
  assert.equal(r.status, 0, `ssh-keygen: ${r.stderr}`);
  return { privateKeyOpenssh: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
}

const OPTION_SETS: Record<string, DockerInstallOptions> = {
  "public mirror, no registry mirrors": { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: [] },
  "VPC mirror with a trailing slash, one registry mirror": { mirror: `${ALIYUN_VPC_DOCKER_CE_MIRROR}/`, registryMirrors: ["https://abc123.mirror.aliyuncs.com"] },
  "several registry mirrors with shell metacharacters in paths": {
    mirror: "http://mirror.example.com/docker-ce",
    registryMirrors: ["https://r1.example.com", "https://r2.example.com/a$HOME`id`;b&c|d"],
  },
};

/** The script as it is in the repository, read here rather than through the module under test. */
const INSTALL_DOCKER_SH = join(__dirname, "..", "..", "components", "server", "install-docker.sh");

describe("install-docker.sh", () => {
  test("passes shellcheck and bash -n, and says how to call it", () => {
    const script = readFileSync(INSTALL_DOCKER_SH, "utf8");
    const { code, output } = shellcheck(script);
    assert.equal(code, 0, output);
    bashSyntaxOk(script);
    assert.equal(script.split("\n")[0], "#!/bin/bash", "shebang");
    assert.match(script, /^# Usage: install-docker\.sh \[--log FILE\] DOCKER_CE_MIRROR_URL \[REGISTRY_MIRROR_URL\.\.\.\]$/m, "usage line");
  });
});

describe("renderCloudConfig", () => {
  const hostKey = sshKeygen("host");
  const docker = OPTION_SETS["VPC mirror with a trailing slash, one registry mirror"];

  test("is a #cloud-config document: the host key pair, then the Docker install written to disk and run once", () => {
    const text = renderCloudConfig({ docker, hostKey });
    assert.ok(text.startsWith("#cloud-config\n"), "cloud-init only treats user data as cloud-config with this first line");
    const doc = parse(text);
    assert.deepEqual(Object.keys(doc).sort(), ["runcmd", "ssh_deletekeys", "ssh_keys", "write_files"], "top-level modules");
    assert.equal(doc.ssh_deletekeys, true, "the image's own host keys are removed");
    assert.deepEqual(doc.ssh_keys, { ed25519_private: hostKey.privateKeyOpenssh, ed25519_public: hostKey.publicKey }, "exactly the given key pair");
    assert.deepEqual(
      doc.write_files,
      [{ path: "/usr/local/lib/pydeploy/install-docker.sh", owner: "root:root", permissions: "0700", content: readFileSync(INSTALL_DOCKER_SH, "utf8") }],
      "install-docker.sh, byte for byte, readable by root only",
    );
    assert.deepEqual(
      doc.runcmd,
      [["/bin/bash", "/usr/local/lib/pydeploy/install-docker.sh", "--log", "/var/log/pydeploy-cloud-init.log", "https://mirrors.cloud.aliyuncs.com/docker-ce", "https://abc123.mirror.aliyuncs.com"]],
      "runcmd runs that file with the log and the mirrors as arguments, trailing slash dropped",
    );
    assert.equal(DOCKER_INSTALL_SCRIPT_PATH, "/usr/local/lib/pydeploy/install-docker.sh", "the exported path is the one written");
  });

  test("the private key survives the YAML: OpenSSH derives the same public key from what the document holds", () => {
    const doc = parse(renderCloudConfig({ docker, hostKey }));
    const file = join(scratch, "roundtrip");
    writeFileSync(file, doc.ssh_keys.ed25519_private, { mode: 0o600 });
    const r = spawnSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
    assert.equal(r.status, 0, `ssh-keygen -y: ${r.stderr}`);
    assert.equal(r.stdout.trim(), hostKey.publicKey, "derived public key");
  });

  test("a public key line with a comment or a host name is reduced to type and key", () => {
    const doc = parse(renderCloudConfig({ docker, hostKey: { ...hostKey, publicKey: `203.0.113.7 ${hostKey.publicKey} root@box` } }));
    assert.equal(doc.ssh_keys.ed25519_public, hostKey.publicKey, "type and base64 only");
  });

  test("refuses a host key that is not ED25519, or a private key not in OpenSSH format, without echoing the private key", () => {
    const ecdsa = sshKeygen("ecdsa", "ecdsa");
    assert.throws(() => renderCloudConfig({ docker, hostKey: ecdsa }), /host key: public key: expected an ssh-ed25519 key, got ecdsa-sha2-nistp256/, "ecdsa refused");
    const pem = "-----BEGIN PRIVATE KEY-----\nSECRETMATERIAL\n-----END PRIVATE KEY-----\n";
    assert.throws(
      () => renderCloudConfig({ docker, hostKey: { ...hostKey, privateKeyOpenssh: pem } }),
      (err: Error) => /host key: private key: expected the OpenSSH format/.test(err.message) && !err.message.includes("SECRETMATERIAL"),
      "PKCS#8 refused, and the key is not in the message",
    );
  });

  test("fits Alibaba Cloud's 16 KiB user data limit with typical options, and says what to cut when it does not", () => {
    for (const [label, options] of Object.entries(OPTION_SETS)) {
      const size = Buffer.byteLength(renderCloudConfig({ docker: options, hostKey }));
      assert.ok(size < USER_DATA_MAX_BYTES * 0.75, `${label}: ${size} bytes leaves little room under ${USER_DATA_MAX_BYTES}`);
    }
    const many = Array.from({ length: 200 }, (_, i) => `https://mirror-${i}.registry.example.com/some/long/path`);
    assert.throws(
      () => renderCloudConfig({ docker: { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: many }, hostKey }),
      /the cloud-init user data is \d+ bytes, more than the 16384 Alibaba Cloud accepts; list fewer deploy\.registryMirrors/,
      "too large",
    );
  });
});

describe("installDockerArgs", () => {
  test("the mirror, then each registry mirror, as separate arguments: shell characters stay literal", () => {
    assert.deepEqual(
      installDockerArgs(OPTION_SETS["several registry mirrors with shell metacharacters in paths"]),
      ["http://mirror.example.com/docker-ce", "https://r1.example.com", "https://r2.example.com/a$HOME`id`;b&c|d"],
      "arguments",
    );
    assert.deepEqual(installDockerArgs({ mirror: "https://m.example.com///", registryMirrors: ["https://a.example.com/"] }), ["https://m.example.com", "https://a.example.com"], "trailing slashes dropped");
  });

  test("rejects mirrors that are not plain http(s) URLs, before anything runs", () => {
    for (const mirror of ["mirrors.aliyun.com/docker-ce", "ftp://mirror.example.com", "https://mirror.example.com/a b", "https://mirror.example.com/'x'", ""]) {
      assert.throws(() => installDockerArgs({ mirror, registryMirrors: [] }), /mirror must be an http\(s\) URL/, mirror);
    }
    assert.throws(
      () => installDockerArgs({ mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: ["https://ok.example.com", "file:///etc/passwd"] }),
      /registryMirrors\[1\] must be an http\(s\) URL/,
      "a file: registry mirror",
    );
  });
});
