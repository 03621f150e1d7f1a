// The release, Kamal's way: orchestration here on the deployer, small docker commands on the
// host. Each role in boot order (serving roles first): stop the running container (kept for
// rollback), start the new one, gate it; with a domain, its certificate must be in place. A role
// whose running container has its image, env and settings (its role version) is left running. A
// failure shows why (the new container's logs, the CA's answer), removes what this release
// started, starts the previous containers and restores the proxy's previous config. After
// success: stop the roles the app dropped, keep the newest stopped container per role, prune
// images.
import {
  allContainerIds,
  chownVolume,
  containerLogs,
  createVolume,
  inspectVolume,
  readFile,
  startReleaseCommandContainer,
  writePrivateFile,
  inspectContainers,
  removeContainers,
  removeImages,
  runContainer,
  startContainers,
  stopContainers,
} from "../dockerCommands";
import { gateProbe } from "../gateProbe";
import { containerName, ReleaseContainerSettings, RoleSettings, VolumeMount } from "../containerSpec";
import type { ProxySettings, ReleaseResult } from "../spec";
import { CERTIFICATE_TIMEOUT_SECONDS, RUNNING_GATE_SECONDS } from "../../config/fields";
import type { ReleaseServices } from "../spec";
import { awaitCertificates } from "./certificates";
import { waitServiceReady } from "./services";
import { takeSnapshot } from "./snapshot";
import { PhaseClock } from "./phaseClock";
import { detachStopped, ensureProxy, Proxy, restoreProxyConfig, switchBack, Switched, switchTraffic } from "./trafficSwitch";
import { appContainers, appImages, ContainerInfo, inspectContainer, inspectImage } from "./dockerState";
import type { DockerHost } from "./transport";

export interface ReleaseOptions {
  /** How long each new container may take to pass its gate. */
  healthTimeoutSeconds: number;
  /** App images kept on the host, the running one included. */
  keepImages: number;
  log: (line: string) => void;
  /** Between two looks at a container under its gate. */
  pollMs?: number;
  /** A role without a port passes when it ran this long without exiting or restarting. */
  runningGateSeconds?: number;
  /** Lines of the failed container's log shown with the error. */
  logLines?: number;
  /** The app's volumes: created when missing and handed to the app's uid. */
  volumes?: { names: string[]; ownerUid: number };
  /** Run before any role switches, unless `markerFile` already holds `key` (same image, env, command). */
  releaseCommand?: { command: string[]; timeoutSeconds: number; key: string; markerFile: string };
  /** The reverse proxy in front of the roles with upstreams; its last loaded config is kept in appDir. */
  proxy?: { spec: ProxySettings; appDir: string; /** What a domain's DNS must name (unset: this machine). */ serverAddress?: string };
  /** How long the proxy may take to reach a new container before the switch is aborted (default 10). */
  reachSeconds?: number;
  /** The services on the host: each must answer before the release command; the database is dumped first. */
  services?: ReleaseServices;
}

interface Undo {
  /** Containers this release created: removed on rollback. */
  created: string[];
  /** Stopped containers of this version it started again: stopped on rollback. */
  restarted: string[];
  /** Containers it stopped (roles without the proxy): started again on rollback. */
  previous: string[];
  /** Roles whose traffic it moved: moved back on rollback. */
  switched: Switched[];
}

export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseError";
  }
}

export async function deployRelease(host: DockerHost, spec: ReleaseContainerSettings, options: ReleaseOptions): Promise<ReleaseResult> {
  const before = await appContainers(host, spec.app);
  const targets = targetContainers(before, spec, options.log);
  const names = spec.roles.map((r) => targets.get(r.role)!);
  const undo: Undo = { created: [], restarted: [], previous: [], switched: [] };
  const clock = new PhaseClock();
  options.log(`release ${spec.version} of ${spec.app}: image ${spec.image} (${spec.imageIdentity})`);
  const proxied = spec.roles.filter((r) => r.upstreams.length > 0);
  if (proxied.length > 0 && !options.proxy) throw new ReleaseError(`roles ${proxied.map((r) => r.role).join(", ")} are served through the proxy, but no proxy was given`);
  if (options.volumes) await prepareVolumes(host, spec, options.volumes, options);
  if (options.services) {
    const services = options.services;
    await clock.time("services", async () => {
      for (const s of services.ready) await waitServiceReady(host, s, options.healthTimeoutSeconds, options);
    });
  }
  // Before any role switches: a failure here leaves the running version alone.
  if (options.releaseCommand) await clock.time("release command", () => runAppReleaseCommandOnce(host, spec, options.releaseCommand!, options));
  const others = spec.roles.filter((r) => r.upstreams.length === 0);
  let proxy: Proxy | undefined;
  try {
    // The proxy is made sure of while the serving roles boot: each new container passes its gate
    // while the old one still serves; then their traffic moves over (a new container joins the
    // proxy's network only to switch). The other roles stop their running container before the
    // new one starts, so they wait for those gates and the proxy; when none of them runs (a
    // first release), nothing is disturbed by booting them at once.
    const proxyReady = (async () => {
      if (options.proxy) proxy = await clock.time("proxy", () => ensureProxy(host, spec, options.proxy!.spec, options.proxy!.appDir, options.log));
    })();
    const servingGated = (async () => {
      for (const role of proxied) await clock.time(role.role, () => bootRole(host, spec, role, targets.get(role.role)!, undo, options));
    })();
    await allOrFirstError([
      proxyReady,
      servingGated,
      (async () => {
        await Promise.all([proxyReady, servingGated]);
        for (const role of proxied) await clock.time(`switch ${role.role}`, () => switchTraffic(host, spec, role, targets.get(role.role)!, proxy!, undo.switched, options));
      })(),
      (async () => {
        if (others.length === 0) return;
        if (proxied.length > 0 && othersStillRunning(before, others, targets)) await Promise.all([proxyReady, servingGated]);
        for (const role of others) await clock.time(role.role, () => bootRole(host, spec, role, targets.get(role.role)!, undo, options));
      })(),
    ]);
    // Live only once each domain has its certificate: a CA that cannot reach the server fails it.
    const domains = options.proxy?.spec.sites.flatMap((s) => (s.domain !== undefined ? [s.domain] : [])) ?? [];
    if (domains.length > 0) {
      await clock.time("certificates", () => awaitCertificates(host, proxy!.names, {
        domains,
        timeoutSeconds: options.proxy!.spec.acme?.timeoutSeconds ?? CERTIFICATE_TIMEOUT_SECONDS,
        since: proxy!.reloaded?.at ?? Date.now(),
        serverAddress: options.proxy!.serverAddress,
        pollMs: options.pollMs,
        log: options.log,
      }));
    }
  } catch (err) {
    await rollBack(host, spec, undo, options, proxy);
    throw err;
  }
  options.log(`release ${spec.version} of ${spec.app} is live: ${names.join(" ")}`);
  await clock.time("tidy", async () => {
    await tidyUp("tidy up old containers", () => tidyContainers(host, spec, options, proxy), options);
    await tidyUp("prune old images", () => pruneImages(host, spec, options), options);
  });
  options.log(`release ${spec.version} took ${clock.summary()}`);
  return { version: spec.version, containers: names };
}

/** Waits for every branch (a rollback must not race one still running), then throws the first error. */
async function allOrFirstError(branches: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(branches)).find((x): x is PromiseRejectedResult => x.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Per role, the container this release runs: the one given (a roll back); else the one named by
 * this version when it runs; else a running one with the role's role version (kept); else the
 * one named by this version. `containers`: the app's, before the release.
 */
function targetContainers(containers: ContainerInfo[], spec: ReleaseContainerSettings, log: (line: string) => void): Map<string, string> {
  const targets = new Map<string, string>();
  for (const role of spec.roles) {
    const given = spec.containers?.[role.role];
    if (given !== undefined) {
      // Checked before anything changes: only a container named by this version can be created.
      if (!containers.some((c) => c.name === given)) throw new ReleaseError(`role ${role.role}: container ${given} is gone, so the release cannot go back to it`);
      targets.set(role.role, given);
      continue;
    }
    const name = containerName(spec.app, role.role, spec.version);
    const roleVersion = spec.roleVersions?.[role.role];
    const kept = roleVersion === undefined || containers.some((c) => c.name === name && c.running)
      ? undefined
      : containers.find((c) => c.role === role.role && c.status === "running" && c.roleVersion === roleVersion);
    if (kept) log(`role ${role.role}: ${kept.name} keeps running: its image, env and settings did not change`);
    targets.set(role.role, kept?.name ?? name);
  }
  return targets;
}

/** Whether any of `roles` had a running container other than its target. */
function othersStillRunning(containers: ContainerInfo[], roles: RoleSettings[], targets: Map<string, string>): boolean {
  const names = new Set(roles.map((r) => r.role));
  return containers.some((c) => c.running && c.role !== undefined && names.has(c.role) && c.name !== targets.get(c.role));
}

async function bootRole(host: DockerHost, spec: ReleaseContainerSettings, role: RoleSettings, name: string, undo: Undo, options: ReleaseOptions): Promise<void> {
  const existing = await inspectContainer(host, name);
  if (existing?.running) {
    options.log(`role ${role.role}: ${name} already runs`);
    return;
  }
  // Behind the proxy the old container keeps serving until the new one passed its gate.
  const running = role.upstreams.length > 0 ? [] : (await appContainers(host, spec.app)).filter((c) => c.role === role.role && c.running && c.name !== name);
  if (running.length > 0) {
    // A published host port can be bound by one container only: the old one goes first.
    options.log(`role ${role.role}: stopping ${running.map((c) => c.name).join(" ")} (kept for rollback)`);
    undo.previous.push(...running.map((c) => c.name));
    await host.run(stopContainers(running.map((c) => c.name), spec.stopGraceSeconds));
  }
  if (existing) {
    options.log(`role ${role.role}: starting the existing container ${name} again`);
    undo.restarted.push(name);
    await host.run(startContainers([name]));
  } else {
    options.log(`role ${role.role}: starting ${name}`);
    undo.created.push(name);
    await host.run(runContainer(spec, role));
  }
  await gate(host, name, role, options);
}

async function prepareVolumes(host: DockerHost, spec: ReleaseContainerSettings, volumes: { names: string[]; ownerUid: number }, options: ReleaseOptions): Promise<void> {
  for (const name of volumes.names) {
    if ((await host.run(inspectVolume(name), { allowFailure: true })).code === 0) continue;
    await host.run(createVolume(name, spec.app));
    await host.run(chownVolume(spec.image, name, volumes.ownerUid));
    options.log(`created volume ${name}, owned by uid ${volumes.ownerUid}`);
  }
}

/** Every volume any role mounts, once. */
function allMounts(spec: ReleaseContainerSettings): VolumeMount[] {
  const byVolume = new Map(spec.roles.flatMap((r) => r.mounts).map((m) => [m.volume, m]));
  return [...byVolume.values()];
}

/** The app's release command (app.release, e.g. migrations) in a one-off container, unless it already ran for this key. */
async function runAppReleaseCommandOnce(host: DockerHost, spec: ReleaseContainerSettings, releaseCommand: NonNullable<ReleaseOptions["releaseCommand"]>, options: ReleaseOptions): Promise<void> {
  const done = await host.run(readFile(releaseCommand.markerFile), { allowFailure: true });
  if (done.code === 0 && done.stdout.trim() === releaseCommand.key) {
    options.log("release command: already ran for this image, env and command");
    return;
  }
  const snapshot = options.services?.snapshot;
  if (snapshot) await takeSnapshot(host, snapshot, options.log);
  const name = `${spec.app}-release-${spec.version}`;
  await host.run(removeContainers([name], { force: true }), { allowFailure: true });
  options.log(`release command: ${releaseCommand.command.join(" ")}`);
  await host.run(startReleaseCommandContainer({ name, app: spec.app, image: spec.image, envFile: spec.envFile, mounts: allMounts(spec), command: releaseCommand.command, network: spec.network }));
  const started = Date.now();
  let container = await inspectContainer(host, name);
  while (container && container.status !== "exited" && container.status !== "dead" && Date.now() - started < releaseCommand.timeoutSeconds * 1000) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    container = await inspectContainer(host, name);
  }
  const logs = await host.run(containerLogs(name, 1000), { allowFailure: true });
  for (const line of `${logs.stdout}${logs.stderr}`.trimEnd().split("\n")) if (line) options.log(`  | ${line}`);
  await host.run(removeContainers([name], { force: true }), { allowFailure: true });
  const finished = container && (container.status === "exited" || container.status === "dead");
  if (!finished || container!.exitCode !== 0) {
    const why = finished ? `exited ${container!.exitCode}` : `did not finish within ${releaseCommand.timeoutSeconds}s and was stopped`;
    const kept = snapshot ? `; the database as it was before is in the newest snapshot in ${snapshot.dir}` : "";
    throw new ReleaseError(`the release command \`${releaseCommand.command.join(" ")}\` ${why}: nothing was switched, the previous version keeps serving${kept}`);
  }
  await host.run(writePrivateFile(releaseCommand.markerFile), { stdin: `${releaseCommand.key}\n` });
  options.log("release command: done");
}

/** A gate in words, as failure messages name it. */
export function describeGate(role: RoleSettings, runningSeconds: number): string {
  const g = role.gate;
  return g.kind === "http" ? `GET :${g.port}${g.path}` : g.kind === "tcp" ? `TCP :${g.port}` : `running for ${runningSeconds}s`;
}

/**
 * Polls until the gate passes. Fails when the container stops, is restarted (it crashed:
 * the restart policy hides a crash loop from a plain "is it running" look), turns unhealthy,
 * or the time runs out.
 */
async function gate(host: DockerHost, name: string, role: RoleSettings, options: ReleaseOptions): Promise<void> {
  const timeout = options.healthTimeoutSeconds;
  const runningSeconds = Math.min(options.runningGateSeconds ?? RUNNING_GATE_SECONDS, timeout);
  const what = describeGate(role, runningSeconds);
  const probe = gateProbe(name, role.gate, Math.min(5, timeout));
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const baseline = (await inspectContainer(host, name))?.restartCount ?? 0;
  let lastAnswer = "";
  for (;;) {
    const c = await inspectContainer(host, name);
    if (!c) return gateFailed(host, name, role, what, `container ${name} is gone`, options);
    if (c.status === "exited" || c.status === "dead") return gateFailed(host, name, role, what, `container ${name} ${c.status} (exit code ${c.exitCode})`, options);
    if (c.restartCount > baseline || c.status === "restarting") return gateFailed(host, name, role, what, `container ${name} crashed and was restarted`, options);
    if (c.health === "unhealthy") return gateFailed(host, name, role, what, `container ${name} is unhealthy (docker healthcheck)`, options);
    if (c.status === "running") {
      if (!probe) {
        if (elapsed() >= runningSeconds) break;
      } else {
        const r = await host.run(probe, { allowFailure: true });
        lastAnswer = (r.stdout.trim() || r.stderr.trim()).split("\n").pop() ?? "";
        if (r.code === 0) break;
      }
    }
    if (elapsed() >= timeout) {
      return gateFailed(host, name, role, what, `timed out${lastAnswer ? `, last answer: ${lastAnswer}` : ""}`, options);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
  options.log(`role ${role.role}: ${name} passed ${what}`);
}

async function gateFailed(host: DockerHost, name: string, role: RoleSettings, what: string, reason: string, options: ReleaseOptions): Promise<never> {
  const lines = options.logLines ?? 100;
  const logs = await host.run(containerLogs(name, lines), { allowFailure: true });
  const text = `${logs.stdout}${logs.stderr}`.trimEnd();
  options.log(`role ${role.role}: ${reason}; last ${lines} log lines of ${name}:`);
  for (const line of text ? text.split("\n") : ["(no output)"]) options.log(`  | ${line}`);
  throw new ReleaseError(`role ${role.role} did not become healthy: ${reason} (gate ${what}, timeout ${options.healthTimeoutSeconds}s)`);
}

/** Undoes a failed release: traffic moves back, the proxy's config too, its new containers go, the previous ones run again. Never throws. */
async function rollBack(host: DockerHost, spec: ReleaseContainerSettings, undo: Undo, options: ReleaseOptions, proxy: Proxy | undefined): Promise<void> {
  for (const s of [...undo.switched].reverse()) await switchBack(host, spec, s, proxy!, options.log);
  if (proxy && options.proxy) await restoreProxyConfig(host, proxy, options.proxy.appDir, options.log);
  const attempt = async (what: string, undoStep: () => Promise<unknown>) => {
    try {
      await undoStep();
      options.log(what);
    } catch (err) {
      options.log(`rollback: could not ${what}: ${(err as Error).message}`);
    }
  };
  if (undo.created.length) await attempt(`removed ${undo.created.join(" ")}`, () => host.run(removeContainers(undo.created, { force: true })));
  if (undo.restarted.length) await attempt(`stopped ${undo.restarted.join(" ")} again`, () => host.run(stopContainers(undo.restarted, spec.stopGraceSeconds)));
  if (undo.previous.length) await attempt(`the previous version runs again: ${undo.previous.join(" ")}`, () => host.run(startContainers(undo.previous)));
}

async function tidyUp(what: string, tidy: () => Promise<void>, options: ReleaseOptions): Promise<void> {
  try {
    await tidy();
  } catch (err) {
    options.log(`warning: could not ${what}: ${(err as Error).message}`);
  }
}

/**
 * After a successful release: roles the app no longer has are stopped; per role the newest
 * stopped container is the rollback and older ones go; stopped containers leave the proxy network.
 */
async function tidyContainers(host: DockerHost, spec: ReleaseContainerSettings, options: ReleaseOptions, proxy: Proxy | undefined): Promise<void> {
  const roles = new Set(spec.roles.map((r) => r.role));
  let all = await appContainers(host, spec.app);
  const dropped = all.filter((c) => c.running && !roles.has(c.role ?? ""));
  for (const c of dropped) options.log(`stopping ${c.name}: role ${c.role} is no longer part of the app`);
  if (dropped.length) {
    await host.run(stopContainers(dropped.map((c) => c.name), spec.stopGraceSeconds));
    all = await appContainers(host, spec.app);
  }
  const stopped = all.filter((c) => !c.running).sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  const kept = new Set<string>();
  const old: ContainerInfo[] = [];
  for (const c of stopped) {
    const role = c.role ?? "";
    if (kept.has(role)) old.push(c);
    else kept.add(role);
  }
  for (const c of old) options.log(`removing old container ${c.name}`);
  if (old.length) await host.run(removeContainers(old.map((c) => c.name)));
  if (proxy) await detachStopped(host, stopped.filter((c) => !old.includes(c)), proxy);
}

/** Keeps `keepImages` app images: the running one, every one a container uses, then the newest. */
async function pruneImages(host: DockerHost, spec: ReleaseContainerSettings, options: ReleaseOptions & { keepImages: number }): Promise<void> {
  const current = await inspectImage(host, spec.image);
  const ids = (await host.run(allContainerIds())).stdout.split("\n").filter(Boolean);
  const used = new Set<string>(ids.length ? (JSON.parse((await host.run(inspectContainers(ids))).stdout) as { Image: string }[]).map((c) => c.Image) : []);
  if (current) used.add(current.id);
  let count = 0;
  const unused: string[] = [];
  for (const image of await appImages(host, spec.app)) {
    if (used.has(image.id)) count++;
    else unused.push(image.id);
  }
  // Newest first: unused images stay while there is room.
  for (const id of unused) {
    if (count < options.keepImages) {
      count++;
      continue;
    }
    options.log(`removing image ${id}`);
    await host.run(removeImages([id], { force: true }));
  }
}
