// ECS userData: a #cloud-config document. cloud-init's ssh module installs the server's host key
// before sshd first starts (so the deploy can pin it from the first connection), and the Docker
// install script is written to disk and run once (write_files + runcmd).
import { stringify } from "yaml";
import { dockerInstallScript, FS_ROOT_ENV, type DockerInstallOptions } from "./dockerInstall";
import { HostKeyError, parseHostKeyLine } from "../config/hostKey";

export const CLOUD_INIT_LOG = "/var/log/pydeploy-cloud-init.log";
/** Where write_files puts the Docker install script; runcmd runs it once per instance. */
export const DOCKER_INSTALL_SCRIPT_PATH = "/usr/local/lib/pydeploy/install-docker.sh";
/** Alibaba Cloud accepts at most 16 KiB of user data before Base64 encoding. */
export const USER_DATA_MAX_BYTES = 16 * 1024;

/** The server's ED25519 host key pair, as @pulumi/tls gives it. */
export interface HostKeyPair {
  /** OpenSSH format ("-----BEGIN OPENSSH PRIVATE KEY-----"), what sshd reads. */
  privateKeyOpenssh: string;
  /** "ssh-ed25519 AAAA…" */
  publicKey: string;
}

export interface CloudConfigOptions {
  docker: DockerInstallOptions;
  hostKey: HostKeyPair;
}

/**
 * The script runcmd runs: installs and starts Docker, logging to CLOUD_INIT_LOG as well as
 * cloud-init's /var/log/cloud-init-output.log. `$PYDEPLOY_FS_ROOT` is a test seam, see FS_ROOT_ENV.
 */
export function renderDockerInstallScript(o: DockerInstallOptions): string {
  return `#!/bin/bash
# pydeploy cloud-init: install and start Docker. Log: ${CLOUD_INIT_LOG}
set -euo pipefail
exec > >(tee -a "\${${FS_ROOT_ENV}:-}${CLOUD_INIT_LOG}") 2>&1
trap 'echo "pydeploy: cloud-init failed (exit $?) at line $LINENO" >&2' ERR
echo "pydeploy: cloud-init started at $(date -u +%Y-%m-%dT%H:%M:%SZ)"

${dockerInstallScript(o)}
echo "pydeploy: cloud-init finished at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
`;
}

/**
 * The userData document, unencoded (the server component base64-encodes it). It carries the
 * host's private key: treat it as a secret. Throws on a key of the wrong kind (without echoing it)
 * or when the document is larger than Alibaba Cloud accepts.
 */
export function renderCloudConfig(o: CloudConfigOptions): string {
  let publicKey: string;
  try {
    const parsed = parseHostKeyLine(o.hostKey.publicKey);
    if (parsed.type !== "ssh-ed25519") throw new HostKeyError(`expected an ssh-ed25519 key, got ${parsed.type}`);
    publicKey = parsed.line;
  } catch (err) {
    if (err instanceof HostKeyError) throw new Error(`host key: public key: ${err.message}`);
    throw err;
  }
  const privateKey = o.hostKey.privateKeyOpenssh.trim();
  if (!/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----$/.test(privateKey)) {
    throw new Error("host key: private key: expected the OpenSSH format (-----BEGIN OPENSSH PRIVATE KEY-----), e.g. @pulumi/tls privateKeyOpenssh");
  }
  const document = {
    // Without this the image's own host keys would stay, and sshd could present one of them.
    ssh_deletekeys: true,
    // Given keys replace generated ones altogether (cloud-init then generates none).
    ssh_keys: { ed25519_private: `${privateKey}\n`, ed25519_public: publicKey },
    write_files: [{ path: DOCKER_INSTALL_SCRIPT_PATH, owner: "root:root", permissions: "0700", content: renderDockerInstallScript(o.docker) }],
    runcmd: [["/bin/bash", DOCKER_INSTALL_SCRIPT_PATH]],
  };
  // lineWidth 0: never fold a long script line.
  const text = `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
  const size = Buffer.byteLength(text, "utf8");
  if (size > USER_DATA_MAX_BYTES) {
    throw new Error(`the cloud-init user data is ${size} bytes, more than the ${USER_DATA_MAX_BYTES} Alibaba Cloud accepts; list fewer deploy.registryMirrors`);
  }
  return text;
}
