// Installing Docker when missing: install-docker.sh, beside this file, does it; cloud-init runs it
// on a new server and the deploy's host step over SSH, both with the arguments built here.
// No Pulumi import.
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Docker CE package mirror with Alibaba's layout `<mirror>/linux/{ubuntu,debian,centos}`
 * (as used by aliyun/oos-templates ACS::ECS::InstallDockerCE).
 * The public host works from anywhere; inside an Alibaba Cloud VPC, `ALIYUN_VPC_DOCKER_CE_MIRROR`
 * is faster and uses no public bandwidth, but it only resolves from within Alibaba Cloud.
 */
export const ALIYUN_DOCKER_CE_MIRROR = "https://mirrors.aliyun.com/docker-ce";
export const ALIYUN_VPC_DOCKER_CE_MIRROR = "https://mirrors.cloud.aliyuncs.com/docker-ce";

export interface DockerInstallOptions {
  /** Docker CE package mirror base URL, e.g. ALIYUN_DOCKER_CE_MIRROR. */
  mirror: string;
  /** Written to /etc/docker/daemon.json "registry-mirrors" when non-empty. */
  registryMirrors: string[];
}

/** The script itself: `install-docker.sh [--log FILE] DOCKER_CE_MIRROR_URL [REGISTRY_MIRROR_URL...]`. */
export const INSTALL_DOCKER_SCRIPT = path.join(__dirname, "install-docker.sh");

export function installDockerScript(): string {
  return fs.readFileSync(INSTALL_DOCKER_SCRIPT, "utf8");
}

function httpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  // The mirror lands in apt/yum repo lines, where whitespace or quotes would split fields.
  if ((url.protocol !== "https:" && url.protocol !== "http:") || /[\s'"\\]/.test(value)) {
    throw new Error(`${what} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, "");
}

/** The script's arguments for these mirrors, checked here so a bad URL fails before anything runs. */
export function installDockerArgs(options: DockerInstallOptions): string[] {
  return [httpUrl(options.mirror, "mirror"), ...options.registryMirrors.map((m, i) => httpUrl(m, `registryMirrors[${i}]`))];
}
