// The proxy container of one app on a server: its names, and the docker steps that set it up,
// load its config and remove it. Pure: no I/O, no Pulumi.
import { createHash } from "node:crypto";
import { z } from "zod";
import { LABEL_PROXY } from "../../image/labels";
import { IMAGE_REF } from "../../image/imageRef";
import { logMaxFiles, logSize, port, SLUG } from "../../config/fields";
import { ACME_CA_ROOT_FILE, caddyReloadCommand, PROXY_DATA_DIR } from "../../image/proxyDockerfile";
import {
  containerLabel,
  createLabelledNetwork,
  createLabelledVolume,
  execInContainer,
  inspectContainers,
  type Argv,
  inspectNetwork,
  inspectVolume,
  removeContainers,
  removeNetwork,
  removeVolumes,
  startContainers,
} from "../dockerCommands";
import { check } from "../check";
import { issueList } from "../contractIssues";
import type { DockerStep } from "./steps";

/** A hash of what `docker run` set; a different one means the container must be recreated. */
export const LABEL_PROXY_SPEC = "pydeploy.proxy-spec";

const NETWORK_ALIAS = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export interface ProxyNames {
  app: string;
  /** The proxy container; only it publishes the app's HTTP ports. */
  container: string;
  /** The user-defined network the proxy reaches the roles on, by alias. */
  network: string;
  /** Certificates, ACME account and the last loaded config: kept across redeploys and proxy upgrades. */
  volume: string;
}

export function proxyNames(app: string): ProxyNames {
  check(SLUG.test(app), `app name ${JSON.stringify(app)} must be lowercase letters, digits and inner dashes`);
  return { app, container: `${app}-proxy`, network: `${app}-proxy`, volume: `${app}-proxy-data` };
}

/** The name the proxy sends a role's requests to; exactly one release's container holds it at a time (two while the old one drains). */
export function upstreamAlias(app: string, role: string): string {
  check(SLUG.test(role), `role name ${JSON.stringify(role)} must be lowercase letters, digits and inner dashes`);
  // `<app>-proxy` is the proxy container's name, which Docker's DNS resolves too.
  check(role !== "proxy", `role name "proxy" is reserved: ${app}-proxy is the reverse proxy container`);
  return `${proxyNames(app).app}-${role}`;
}

export const proxyContainerSettingsSchema = z.strictObject({
  /** proxyNames(app): the app's name is checked there. */
  names: z.strictObject({ app: z.string(), container: z.string(), network: z.string(), volume: z.string() }),
  /** The proxy image as tagged on the server. */
  image: z.string().regex(IMAGE_REF, { error: "expected an image reference" }),
  /** Published ports: `container` is publishedPorts() of the sites; `host` is the same number on a server. */
  ports: z.array(z.strictObject({ host: port, container: port })).min(1, { error: "expected at least one port: the proxy needs a site" }),
  /** Extra names for the proxy on its network (e.g. the site's domain, for a test ACME server to reach it). */
  networkAliases: z.array(z.string().regex(NETWORK_ALIAS, { error: "expected a lowercase DNS name" })).optional(),
  logMaxSize: logSize,
  logMaxFiles,
});
export type ProxyContainerSettings = z.infer<typeof proxyContainerSettingsSchema>;

export function validateProxyContainerSettings(s: ProxyContainerSettings): void {
  const parsed = proxyContainerSettingsSchema.safeParse(s);
  if (!parsed.success) throw new Error(`invalid proxy container settings: ${issueList(parsed.error.issues)}`);
  proxyNames(s.names.app);
  // What the schema cannot say: one mapping per port on each side.
  for (const side of ["host", "container"] as const) {
    const list = s.ports.map((p) => p[side]);
    check(new Set(list).size === list.length, `proxy ${side} ports ${list.join(", ")} repeat a port`);
  }
}

export function proxyRunArgs(s: ProxyContainerSettings): string[] {
  validateProxyContainerSettings(s);
  const n = s.names;
  return [
    "docker", "run",
    "--detach",
    "--restart", "unless-stopped",
    "--name", n.container,
    "--network", n.network,
    ...(s.networkAliases ?? []).flatMap((a) => ["--network-alias", a]),
    "--volume", `${n.volume}:${PROXY_DATA_DIR}`,
    "--log-opt", `max-size=${s.logMaxSize}`,
    "--log-opt", `max-file=${s.logMaxFiles}`,
    "--label", `${LABEL_PROXY}=${n.app}`,
    "--label", `${LABEL_PROXY_SPEC}=${proxySpecHash(s)}`,
    ...sortedPorts(s.ports).flatMap((p) => ["--publish", `${p.host}:${p.container}`]),
    s.image,
  ];
}

/**
 * Network, volume and a running proxy container, each created only when missing; the container
 * is recreated only when its image, ports or aliases changed (a short gap on those ports).
 */
export function proxySetupSteps(s: ProxyContainerSettings): DockerStep[] {
  const n = s.names;
  const run = proxyRunArgs(s);
  return [
    {
      purpose: `create network ${n.network}`,
      argv: createLabelledNetwork(n.network, LABEL_PROXY, n.app),
      skipIf: { argv: inspectNetwork(n.network) },
    },
    {
      purpose: `create volume ${n.volume}`,
      argv: createLabelledVolume(n.volume, LABEL_PROXY, n.app),
      skipIf: { argv: inspectVolume(n.volume) },
    },
    {
      purpose: `remove ${n.container} if it runs another image, ports or aliases`,
      argv: removeContainers([n.container], { force: true }),
      skipIf: {
        argv: containerLabel(n.container, LABEL_PROXY_SPEC),
        stdout: proxySpecHash(s),
      },
      allowFailure: true,
    },
    {
      purpose: `start ${n.container}`,
      argv: run,
      skipIf: { argv: inspectContainers([n.container]) },
    },
    { purpose: `make sure ${n.container} runs`, argv: startContainers([n.container]) },
  ];
}

/**
 * Loads the rendered Caddyfile (stdin "proxyConfig"), after writing the ACME server's CA root
 * (stdin "acmeCaRoot") when the config uses one. Caddy refuses an invalid config and keeps the old.
 */
export function proxyConfigSteps(names: ProxyNames, o: { customCaRoot: boolean }): DockerStep[] {
  const steps: DockerStep[] = [];
  if (o.customCaRoot) {
    steps.push({
      purpose: `write the ACME server's CA certificate to ${ACME_CA_ROOT_FILE}`,
      argv: execInContainer(names.container, ["dd", `of=${ACME_CA_ROOT_FILE}`, "status=none"], { stdin: true }),
      stdin: "acmeCaRoot",
    });
  }
  steps.push({
    purpose: `load the proxy config into ${names.container}`,
    argv: execInContainer(names.container, caddyReloadCommand(), { stdin: true }),
    stdin: "proxyConfig",
    // Right after a (re)start the admin API may not listen yet.
    retrySeconds: 10,
  });
  return steps;
}

/**
 * Lists the certificate files Caddy keeps on the proxy's volume: those for `domain`, or any.
 * Exits 0 with an empty list when there are none.
 */
export function certificateFiles(names: ProxyNames, domain?: string): Argv {
  return execInContainer(names.container, ["find", PROXY_DATA_DIR, "-path", "*/certificates/*", "-type", "f", "-name", `${domain ?? "*"}.crt`]);
}

/**
 * `pulumi destroy`: the container and network (after the app's containers are gone); the
 * volume (certificates and ACME account) only when asked, since new certificates count
 * against the CA's rate limits.
 */
export function proxyRemoveSteps(names: ProxyNames, o: { removeData: boolean }): DockerStep[] {
  const steps: DockerStep[] = [
    { purpose: `remove ${names.container}`, argv: removeContainers([names.container], { force: true }), allowFailure: true },
    { purpose: `remove network ${names.network}`, argv: removeNetwork(names.network), allowFailure: true },
  ];
  if (o.removeData) {
    steps.push({ purpose: `remove volume ${names.volume} (certificates, ACME account)`, argv: removeVolumes([names.volume]), allowFailure: true });
  }
  return steps;
}

function proxySpecHash(s: ProxyContainerSettings): string {
  const what = JSON.stringify({
    image: s.image,
    ports: sortedPorts(s.ports).map((p) => `${p.host}:${p.container}`),
    aliases: s.networkAliases ?? [],
    log: [s.logMaxSize, s.logMaxFiles],
  });
  return createHash("sha256").update(what).digest("hex").slice(0, 16);
}

function sortedPorts(ports: ProxyContainerSettings["ports"]): ProxyContainerSettings["ports"] {
  return [...ports].sort((a, b) => a.container - b.container || a.host - b.host);
}
