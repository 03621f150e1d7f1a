// The release's traffic switch, run on the Docker host: it executes the plans of ../proxy/ (the
// proxy owns the app's published HTTP ports; a role's traffic moves with its network alias to
// its new container; bench/proxy.ts measured why: no proxy reload during a deploy).
import { type ReleaseContainerSettings, type RoleSettings } from "../containerSpec";
import { connectNetwork, disconnectNetwork, readFile, removePath, startContainers, stopContainers, writePrivateFile } from "../dockerCommands";
import { publishedPorts, renderCaddyfile } from "../proxy/proxyConfig";
import { proxyConfigSteps, proxyNames, proxySetupSteps, upstreamAlias, type ProxyNames } from "../proxy/proxyContainer";
import { switchPlan } from "../proxy/switch";
import type { ProxySettings } from "../spec";
import { appContainers, inspectContainer, type ContainerInfo } from "./dockerState";
import { retireContainer, runDockerSteps } from "./dockerSteps";
import type { DockerHost } from "./transport";

/** Where the deployer records the config the proxy last loaded. */
const loadedConfigFile = (appDir: string) => `${appDir}/proxy.Caddyfile`;

export interface Proxy {
  names: ProxyNames;
  image: string;
  /** Set when this release loaded a new config: when, and the config it replaced (none on the first). */
  reloaded?: { at: number; previous?: string };
}

/** A role whose traffic moved in this release: what a rollback moves back. */
export interface Switched {
  role: string;
  next: string;
  /** The containers that served before, now stopped and off the network. */
  previous: string[];
}

/**
 * Network, data volume and proxy container (recreated only when its image or ports change),
 * then the rendered config, loaded only when it changed. App containers that still publish one
 * of the proxy's ports themselves (a release from before the proxy) let go of it first.
 */
export async function ensureProxy(host: DockerHost, spec: ReleaseContainerSettings, proxy: ProxySettings, appDir: string, log: (line: string) => void): Promise<Proxy> {
  const names = proxyNames(spec.app);
  const ports = publishedPorts(proxy.sites);
  const holders = (await appContainers(host, spec.app)).filter((c) => c.running && c.publishedPorts.some((p) => ports.includes(p)));
  if (holders.length) {
    log(`stopping ${holders.map((c) => c.name).join(" ")}: the proxy takes over their published ports (kept for rollback)`);
    await host.run(stopContainers(holders.map((c) => c.name), spec.stopGraceSeconds));
  }
  await runDockerSteps(
    host,
    proxySetupSteps({
      names,
      image: proxy.image,
      ports: ports.map((p) => ({ host: p, container: p })),
      // Containers on the proxy network (an ACME test server, say) reach the sites by their names.
      networkAliases: proxy.sites.flatMap((s) => (s.domain !== undefined ? [s.domain] : [])),
      logMaxSize: spec.logMaxSize,
      logMaxFiles: spec.logMaxFiles,
    }),
    { log },
  );
  const caddyfile = renderCaddyfile({ sites: proxy.sites, acme: proxy.acme && { email: proxy.acme.email, directory: proxy.acme.directory, customCaRoot: proxy.acme.caRoot !== undefined } });
  const file = loadedConfigFile(appDir);
  const loaded = await host.run(readFile(file), { allowFailure: true });
  if (loaded.code === 0 && loaded.stdout === caddyfile) return { names, image: proxy.image };
  const at = Date.now();
  await loadProxyConfig(host, names, caddyfile, proxy.acme?.caRoot, file, log);
  return { names, image: proxy.image, reloaded: { at, ...(loaded.code === 0 ? { previous: loaded.stdout } : {}) } };
}

/** Loads a Caddyfile into the proxy (with the ACME CA root it names), then records it as the loaded one. */
async function loadProxyConfig(host: DockerHost, names: ProxyNames, caddyfile: string, caRoot: string | undefined, file: string, log: (line: string) => void): Promise<void> {
  await runDockerSteps(host, proxyConfigSteps(names, { customCaRoot: caRoot !== undefined }), {
    stdin: { proxyConfig: caddyfile, acmeCaRoot: caRoot },
    log,
  });
  await host.run(writePrivateFile(file), { stdin: caddyfile });
}

/**
 * After a failed release: the proxy serves the config it had before (its certificates are on
 * the volume). Without one before, the loaded record goes, so the next release loads its config
 * again and the CA is asked again. Never throws.
 */
export async function restoreProxyConfig(host: DockerHost, proxy: Proxy, appDir: string, log: (line: string) => void): Promise<void> {
  if (!proxy.reloaded) return;
  const file = loadedConfigFile(appDir);
  const previous = proxy.reloaded.previous;
  try {
    if (previous === undefined) {
      await host.run(removePath(file));
      return;
    }
    // The CA root file stays: a config that names it was loaded with it before.
    await loadProxyConfig(host, proxy.names, previous, undefined, file, log);
    log(`rollback: the proxy serves its previous config again`);
  } catch (err) {
    log(`rollback: could not restore the proxy's previous config: ${(err as Error).message}`);
  }
}

/**
 * Sends the role's traffic to `next`, its container in this release: attach it under the role's alias
 * (checked from the proxy), then retire the previous ones (refuse new connections, let the open
 * ones finish, take them off the network, stop them: kept for rollback).
 */
export async function switchTraffic(
  host: DockerHost,
  spec: ReleaseContainerSettings,
  role: RoleSettings,
  next: string,
  proxy: Proxy,
  switched: Switched[],
  options: { log: (line: string) => void; reachSeconds?: number },
): Promise<void> {
  const log = options.log;
  const net = proxy.names.network;
  const current = await inspectContainer(host, next);
  if (!current?.running) throw new Error(`role ${role.role}: ${next} does not run, so no traffic can go to it`);
  const previous = (await appContainers(host, spec.app)).filter((c) => c.role === role.role && c.name !== next && (c.running || c.networks.includes(net)));
  const attached = current.networks.includes(net);
  if (attached && previous.length === 0) return;
  const upstream = role.upstreams[0];
  const plan = switchPlan({
    proxy: proxy.names,
    proxyImage: proxy.image,
    role: role.role,
    next,
    previous: previous.map((c) => c.name),
    port: upstream.port,
    reach: upstream.reach,
    drainSeconds: spec.stopGraceSeconds,
    reachSeconds: options.reachSeconds,
  });
  if (!attached) {
    try {
      await runDockerSteps(host, plan.attach, { log });
    } catch (err) {
      await runDockerSteps(host, plan.abort, { log });
      throw err;
    }
  }
  switched.push({ role: role.role, next, previous: previous.filter((c) => c.running).map((c) => c.name) });
  log(`role ${role.role}: traffic goes to ${next}`);
  for (const retirement of plan.retire) await retireContainer(host, retirement, { log });
}

/** Moves a switched role back: its previous containers run and hold the alias again; `next` leaves it. Never throws. */
export async function switchBack(host: DockerHost, spec: ReleaseContainerSettings, switched: Switched, proxy: Proxy, log: (line: string) => void): Promise<void> {
  const alias = upstreamAlias(spec.app, switched.role);
  const net = proxy.names.network;
  for (const previous of switched.previous) {
    await host.run(startContainers([previous]), { allowFailure: true });
    const connected = await host.run(connectNetwork(net, previous, alias), { allowFailure: true });
    if (connected.code === 0) log(`rollback: traffic of role ${switched.role} goes to ${previous} again`);
  }
  await host.run(disconnectNetwork(net, switched.next, { force: true }), { allowFailure: true });
}

/** Stopped containers still on the proxy network would be routed to if started by hand. */
export async function detachStopped(host: DockerHost, containers: ContainerInfo[], proxy: Proxy): Promise<void> {
  for (const c of containers) {
    if (!c.running && c.networks.includes(proxy.names.network)) {
      await host.run(disconnectNetwork(proxy.names.network, c.name, { force: true }), { allowFailure: true });
    }
  }
}

