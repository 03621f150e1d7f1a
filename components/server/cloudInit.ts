// ECS userData: a #cloud-config document. cloud-init's ssh module installs the server's host key
// before sshd first starts (so the deploy can pin it from the first connection), and
// install-docker.sh is written to disk and run once with the mirrors as arguments (write_files +
// runcmd).
import { stringify } from "yaml";
import { HostKeyError, parseHostKeyLine } from "../config/hostKey";
import { installDockerArgs, installDockerScript, type DockerInstallOptions } from "./dockerInstall";

export const CLOUD_INIT_LOG = "/var/log/pydeploy-cloud-init.log";
/** Where write_files puts install-docker.sh; runcmd runs it once per instance, logging to CLOUD_INIT_LOG. */
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
 * The userData document, unencoded (the server component base64-encodes it). It carries the
 * host's private key: treat it as a secret. Throws on a key of the wrong kind (without echoing it)
 * or when the document is larger than Alibaba Cloud accepts.
 */
export function renderCloudConfig(options: CloudConfigOptions): string {
  let publicKey: string;
  try {
    const parsed = parseHostKeyLine(options.hostKey.publicKey);
    if (parsed.type !== "ssh-ed25519") throw new HostKeyError(`expected an ssh-ed25519 key, got ${parsed.type}`);
    publicKey = parsed.line;
  } catch (err) {
    if (err instanceof HostKeyError) throw new Error(`host key: public key: ${err.message}`);
    throw err;
  }
  const privateKey = options.hostKey.privateKeyOpenssh.trim();
  if (!/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----$/.test(privateKey)) {
    throw new Error("host key: private key: expected the OpenSSH format (-----BEGIN OPENSSH PRIVATE KEY-----), e.g. @pulumi/tls privateKeyOpenssh");
  }
  const document = {
    // Without this the image's own host keys would stay, and sshd could present one of them.
    ssh_deletekeys: true,
    // Given keys replace generated ones altogether (cloud-init then generates none).
    ssh_keys: { ed25519_private: `${privateKey}\n`, ed25519_public: publicKey },
    write_files: [{ path: DOCKER_INSTALL_SCRIPT_PATH, owner: "root:root", permissions: "0700", content: installDockerScript() }],
    // An argv, run without a shell: the mirrors are arguments, never script text.
    runcmd: [["/bin/bash", DOCKER_INSTALL_SCRIPT_PATH, "--log", CLOUD_INIT_LOG, ...installDockerArgs(options.docker)]],
  };
  // lineWidth 0: never fold a long script line.
  const text = `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
  const size = Buffer.byteLength(text, "utf8");
  if (size > USER_DATA_MAX_BYTES) {
    throw new Error(`the cloud-init user data is ${size} bytes, more than the ${USER_DATA_MAX_BYTES} Alibaba Cloud accepts; list fewer deploy.registryMirrors`);
  }
  return text;
}
