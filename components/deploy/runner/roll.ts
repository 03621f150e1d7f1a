// A release in a rolling release over several servers (spec.earlier: those released before this
// one). Before it: each earlier server must run this release; one that does not (a rollback left
// it behind) is released first, so a rerun picks up where a failed roll stopped. When this server
// fails: it rolled itself back (release.ts), and each earlier server that switched to this release
// goes back to the version it ran before, last released first, so the fleet ends on one version.
import type { ReleaseResult, ReleaseSpec, RollPeer, SshTarget, StepSecrets, Target } from "../spec";
import { appContainers, type ContainerInfo } from "./dockerState";
import { deployRelease, ReleaseError } from "./release";
import { releaseOn, releaseOptions, versionOn, type VersionOnHost } from "./releaseStep";
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

/** The role's running container in this release: one of its version, or one it kept (same role version). */
function runningIn(containers: ContainerInfo[], role: string, release: VersionOnHost): ContainerInfo | undefined {
  const roleVersion = release.roleVersions[role];
  return containers.find((c) => c.role === role && c.running && (c.version === release.version || (roleVersion !== undefined && c.roleVersion === roleVersion)));
}

/** Every role of the release has a running container in it. */
export function runs(containers: ContainerInfo[], spec: ReleaseSpec, release: VersionOnHost): boolean {
  return spec.settings.roles.every((r) => runningIn(containers, r.role, release) !== undefined);
}

/** This release's version there, when that server does not run it. */
async function versionBehind(spec: ReleaseSpec, secrets: StepSecrets, ctx: RollContext): Promise<string | undefined> {
  return onHost(await ctx.connect(spec.target), async (host) => {
    const release = await versionOn(host, spec, secrets);
    return runs(await appContainers(host, spec.app), spec, release) ? undefined : release.version;
  });
}

async function catchUp(spec: ReleaseSpec, version: string, secrets: StepSecrets, ctx: RollContext): Promise<void> {
  const name = (spec.target as SshTarget).host;
  ctx.log(`${name}, released before this server, does not run ${version}: releasing it there first`);
  await onHost(await ctx.connect(spec.target), (host) => releaseOn(host, spec, secrets, (line) => ctx.log(`[${name}] ${line}`)));
}

/** Back to the containers it ran before this release, if the server runs it; says what it did. */
async function rollBackPeer(spec: ReleaseSpec, secrets: StepSecrets, ctx: RollContext): Promise<string> {
  const name = (spec.target as SshTarget).host;
  return onHost(await ctx.connect(spec.target), async (host) => {
    const release = await versionOn(host, spec, secrets);
    const containers = await appContainers(host, spec.app);
    if (!runs(containers, spec, release)) return `${name} did not run ${release.version} yet, left as it was`;
    const previous = previousContainers(containers, spec, release);
    if (!previous) return `${name} keeps ${release.version}: a role it restarted holds no stopped container to go back to`;
    const named = Object.values(previous.containers).join(" ");
    if (previous.version === undefined) return `${name} keeps ${release.version}: the release restarted no role there (${named})`;
    ctx.log(`rolling ${name} back from ${release.version} to ${previous.version}: ${named}`);
    await deployRelease(host, { ...spec.settings, version: previous.version, containers: previous.containers }, releaseOptions(spec, (line) => ctx.log(`[${name}] ${line}`)));
    return `${name} went back from ${release.version} to ${previous.version}`;
  });
}

/**
 * What the server ran before `release`, per role: a role the release restarted goes back to its
 * newest stopped container; a role it kept stays. `version`: the newest of the containers it
 * goes back to (unset when the release restarted none). Unset when a restarted role has none.
 */
export function previousContainers(containers: ContainerInfo[], spec: ReleaseSpec, release: VersionOnHost): { version?: string; containers: Record<string, string> } | undefined {
  const chosen: Record<string, string> = {};
  let newest: ContainerInfo | undefined;
  for (const { role } of spec.settings.roles) {
    const current = runningIn(containers, role, release);
    if (!current) return undefined;
    if (current.version !== release.version) {
      chosen[role] = current.name;
      continue;
    }
    const stopped = containers.filter((c) => c.role === role && !c.running && c.version !== undefined);
    const previous = stopped.sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt))[0];
    if (!previous) return undefined;
    chosen[role] = previous.name;
    if (!newest || Date.parse(previous.finishedAt) > Date.parse(newest.finishedAt)) newest = previous;
  }
  return { version: newest?.version, containers: chosen };
}
