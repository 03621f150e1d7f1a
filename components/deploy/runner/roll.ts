// A release in a rolling release over several servers (spec.earlier: those released before this
// one). Before it: each earlier server must run this release; one that does not (a rollback left
// it behind) is released first, so a rerun picks up where a failed roll stopped. When this server
// fails: it rolled itself back (release.ts), and each earlier server that switched to this release
// goes back to the version it ran before, last released first, so the fleet ends on one version.
import type { ReleaseResult, ReleaseSpec, RollPeer, SshTarget, StepSecrets, Target } from "../spec";
import { appContainers, type ContainerInfo } from "./dockerState";
import { deployRelease, ReleaseError } from "./release";
import { releaseOn, releaseOptions, versionOn } from "./releaseStep";
import { type DockerHost, onHost } from "./transport";

export interface RollContext {
  connect: (target: Target) => Promise<DockerHost>;
  log: (line: string) => void;
}

export async function releaseInRoll(spec: ReleaseSpec, secrets: StepSecrets, ctx: RollContext): Promise<ReleaseResult> {
  const earlier = spec.earlier ?? [];
  // Checked side by side (one SSH round each), released one after another, in roll order.
  const behind = await Promise.all(earlier.map((peer) => versionBehind(peerSpec(spec, peer), secrets, ctx)));
  for (const [i, peer] of earlier.entries()) {
    const version = behind[i];
    if (version !== undefined) await catchUp(peerSpec(spec, peer), version, secrets, ctx);
  }
  try {
    return await onHost(await ctx.connect(spec.target), (host) => releaseOn(host, spec, secrets, ctx.log));
  } catch (err) {
    if (earlier.length === 0) throw err;
    const outcomes: string[] = [];
    for (const peer of [...earlier].reverse()) {
      outcomes.push(await rollBackPeer(peerSpec(spec, peer), secrets, ctx).catch((e: Error) => `${peer.host}: could not be rolled back: ${e.message}`));
    }
    // A roll has earlier servers only over SSH.
    const here = (spec.target as SshTarget).host;
    throw new ReleaseError(`${(err as Error).message}. The roll stopped at ${here}; the servers released before it: ${outcomes.join("; ")}`);
  }
}

/** This release as that server runs it: the same image, env and roles, its own services' shape. */
export function peerSpec(spec: ReleaseSpec, peer: RollPeer): ReleaseSpec {
  const { earlier: _earlier, services: _services, settings, ...rest } = spec;
  const { network, serviceHosts, services, ...target } = peer;
  const { network: _network, serviceHosts: _hosts, ...shared } = settings;
  return {
    ...rest,
    target,
    settings: { ...shared, ...(network ? { network } : {}), ...(serviceHosts ? { serviceHosts } : {}) },
    ...(services ? { services } : {}),
  };
}

/** Every role of the release has a running container of `version`. */
export function runs(containers: ContainerInfo[], spec: ReleaseSpec, version: string): boolean {
  return spec.settings.roles.every((r) => containers.some((c) => c.role === r.role && c.version === version && c.running));
}

/** This release's version there, when that server does not run it. */
async function versionBehind(spec: ReleaseSpec, secrets: StepSecrets, ctx: RollContext): Promise<string | undefined> {
  return onHost(await ctx.connect(spec.target), async (host) => {
    const version = await versionOn(host, spec, secrets);
    return runs(await appContainers(host, spec.app), spec, version) ? undefined : version;
  });
}

async function catchUp(spec: ReleaseSpec, version: string, secrets: StepSecrets, ctx: RollContext): Promise<void> {
  const name = (spec.target as SshTarget).host;
  ctx.log(`${name}, released before this server, does not run ${version}: releasing it there first`);
  await onHost(await ctx.connect(spec.target), (host) => releaseOn(host, spec, secrets, (line) => ctx.log(`[${name}] ${line}`)));
}

/** Back to the version whose stopped containers are newest, if the server runs this release; says what it did. */
async function rollBackPeer(spec: ReleaseSpec, secrets: StepSecrets, ctx: RollContext): Promise<string> {
  const name = (spec.target as SshTarget).host;
  return onHost(await ctx.connect(spec.target), async (host) => {
    const version = await versionOn(host, spec, secrets);
    const containers = await appContainers(host, spec.app);
    if (!runs(containers, spec, version)) return `${name} did not run ${version} yet, left as it was`;
    const previous = previousVersion(containers, spec, version);
    if (!previous) return `${name} keeps ${version}: it holds no stopped containers of one earlier version for every role`;
    ctx.log(`rolling ${name} back from ${version} to ${previous}`);
    await deployRelease(host, { ...spec.settings, version: previous }, releaseOptions(spec, (line) => ctx.log(`[${name}] ${line}`)));
    return `${name} went back from ${version} to ${previous}`;
  });
}

/** The version of the newest stopped container of each role, when it is one version for all roles. */
export function previousVersion(containers: ContainerInfo[], spec: ReleaseSpec, current: string): string | undefined {
  const versions = spec.settings.roles.map((r) => {
    const stopped = containers.filter((c) => c.role === r.role && !c.running && c.version !== undefined && c.version !== current);
    return stopped.sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt))[0]?.version;
  });
  return versions.every((v) => v !== undefined && v === versions[0]) ? versions[0] : undefined;
}
