// The services step: the app's long-lived service containers (PostgreSQL, Redis, accessories) on
// its private network. Runs only when their settings or secrets change, never for an app deploy.
// Everything is checked first (images, a PostgreSQL major version against its data), then each
// changed service is replaced: the old container is kept, renamed, until the new one answers.
import { createHash, createHmac } from "node:crypto";
import { renderEnvFile, serverTag } from "../containerSpec";
import { containerLabel, containerLogs, execInContainer, inspectNetwork, inspectVolume, makePrivateDir, pullThroughMirrors, removeContainers, removeNetwork, renameContainer, startContainers, stopContainers, tagImage, writePrivateFile } from "../dockerCommands";
import {
  createServiceVolume,
  createServicesNetwork,
  psqlFromStdin,
  readPostgresVersion,
  runServiceContainer,
  setPasswordSql,
  serviceContainerIds,
  writeRedisConfig,
} from "../services/serviceCommands";
import { LABEL_SERVICE, LABEL_SERVICE_CONFIG, renderRedisConfig, serviceContainerEnv, type ServiceSecrets, type ServiceSettings } from "../services/serviceSpec";
import type { ServicesSpec } from "../spec";
import { appSalt, ensureAppFolder } from "./appFolder";
import { inspectContainer, inspectImage } from "./dockerState";
import { BASE_PULL_TIMEOUT_SECONDS, shipImage } from "./ship";
import type { DockerHost, LocalHost } from "./transport";

export interface ServicesResult {
  services: { name: string; container: string; action: "unchanged" | "created" | "replaced" }[];
}

interface Planned {
  service: ServiceSettings;
  /** PostgreSQL's password, set again on a data directory that may hold another. */
  password?: string;
  envFile: string;
  redisConfig?: string;
  configHash: string;
  /** The running container's config label; undefined when there is no container. */
  current?: { running: boolean; configHash: string };
}

export interface ServicesOptions {
  log: (line: string) => void;
  /** The deploying machine's engine: an image it has and the host lacks is copied from it. */
  deployer?: LocalHost;
  pollMs?: number;
}

export async function runServices(host: DockerHost, spec: ServicesSpec, secrets: ServiceSecrets, options: ServicesOptions): Promise<ServicesResult> {
  const { log } = options;
  await ensureAppFolder(host, spec.appDir);
  await host.run(makePrivateDir(`${spec.appDir}/services`));
  const salt = await appSalt(host, spec.appDir);

  // Checked before anything changes: a refusal leaves every service as it was.
  const planned: Planned[] = [];
  for (const service of spec.services) {
    await ensureImage(host, spec, service.image, options);
    const env = renderEnvFile(serviceContainerEnv(service, secrets[service.name]));
    const redisConfig = service.redisConfig ? renderRedisConfig(requirePassword(service, secrets)) : undefined;
    const keyed = createHmac("sha256", salt).update(env).update(redisConfig ?? "").digest("hex");
    const configHash = createHash("sha256").update(JSON.stringify(service)).update(keyed).digest("hex").slice(0, 16);
    const existing = await inspectContainer(host, service.container);
    const current = existing && { running: existing.running, configHash: (await host.run(containerLabel(service.container, LABEL_SERVICE_CONFIG))).stdout.trim() };
    if (service.postgres && current?.configHash !== configHash) await checkPostgresVersion(host, service);
    planned.push({ service, envFile: env, redisConfig, configHash, current, ...(service.postgres ? { password: requirePassword(service, secrets) } : {}) });
  }

  if ((await host.run(inspectNetwork(spec.network), { allowFailure: true })).code !== 0) {
    await host.run(createServicesNetwork(spec.network, spec.app));
    log(`created network ${spec.network}`);
  }
  const results: ServicesResult["services"] = [];
  for (const p of planned) {
    const { service } = p;
    if (p.current?.running && p.current.configHash === p.configHash) {
      log(`service ${service.name}: ${service.container} runs with these settings; left alone`);
      results.push({ name: service.name, container: service.container, action: "unchanged" });
      continue;
    }
    await apply(host, spec, p, options);
    results.push({ name: service.name, container: service.container, action: p.current ? "replaced" : "created" });
  }
  await removeDropped(host, spec, log);
  return { services: results };
}

/** The service's image on the host: already there, copied from the deployer's engine, or pulled. */
async function ensureImage(host: DockerHost, spec: ServicesSpec, image: string, options: ServicesOptions): Promise<void> {
  if (await inspectImage(host, image)) return;
  const local = spec.target.kind === "ssh" && options.deployer ? await inspectImage(options.deployer, image) : undefined;
  if (local && options.deployer) {
    // Shipped under a tag of its own (ship removes that tag from the deployer afterwards), then named as configured.
    const shipped = { name: image, identity: local.id, serverTag: serverTag(image, local.id) };
    const { specVersion, target, app, appDir, connectTimeoutSeconds } = spec;
    await shipImage(host, options.deployer, { specVersion, target, app, appDir, connectTimeoutSeconds, image: shipped }, shipped, {}, options.log);
    const tag = shipped.serverTag;
    await host.run(tagImage(tag, image));
    return;
  }
  options.log(`pulling ${image} on ${host.description}`);
  const pulled = await host.run(pullThroughMirrors(image, BASE_PULL_TIMEOUT_SECONDS), { allowFailure: true });
  if (pulled.code !== 0) {
    throw new Error(`service image ${image}: ${host.description} could not pull it (${(pulled.stderr || pulled.stdout).trim() || `exit ${pulled.code}`}) and this machine's Docker engine does not have it to copy; check the name, deploy.registryMirrors, or docker pull it here first`);
  }
}

function requirePassword(service: ServiceSettings, secrets: ServiceSecrets): string {
  const password = secrets[service.name]?.password;
  if (!password) throw new Error(`service ${service.name}: no password was given on stdin`);
  return password;
}

/** A data directory of another major version needs pg_upgrade: refused, with what to do. */
async function checkPostgresVersion(host: DockerHost, service: ServiceSettings): Promise<void> {
  const pg = service.postgres!;
  if (!pg.dataMount || (await host.run(inspectVolume(pg.dataMount), { allowFailure: true })).code !== 0) return;
  const read = await host.run(readPostgresVersion(service.image, pg.dataMount), { allowFailure: true });
  const onDisk = Number.parseInt(read.stdout.trim(), 10);
  if (read.code !== 0 || Number.isNaN(onDisk)) return; // a new, empty volume
  if (onDisk !== pg.major) {
    throw new Error(
      `service ${service.name}: its data (volume ${pg.dataMount}) is PostgreSQL ${onDisk}, and the config asks for ${pg.major}. ` +
        `A major version cannot read another's data directory, and pydeploy does not run pg_upgrade: ` +
        `set services.${service.name}.version back to ${onDisk}, or dump the database (pg_dump), deploy ${pg.major} as a new service (another name, so a new volume) and restore into it. Nothing was changed.`,
    );
  }
}

async function apply(host: DockerHost, spec: ServicesSpec, p: Planned, options: ServicesOptions): Promise<void> {
  const { service } = p;
  const { log } = options;
  for (const m of service.mounts) {
    if ((await host.run(inspectVolume(m.volume), { allowFailure: true })).code === 0) continue;
    await host.run(createServiceVolume(m.volume, spec.app, service.name));
    log(`service ${service.name}: created volume ${m.volume}`);
  }
  await host.run(writePrivateFile(service.envFile), { stdin: p.envFile });
  if (service.redisConfig && p.redisConfig) await host.run(writeRedisConfig(service.image, service.redisConfig.volume), { stdin: p.redisConfig });

  // The previous container is kept, stopped and renamed, until the new one answers.
  const previous = `${service.container}-previous`;
  if (p.current) {
    log(`service ${service.name}: its settings changed; replacing ${service.container} (its data stays in ${service.mounts.map((m) => m.volume).join(", ") || "no volume"})`);
    await host.run(removeContainers([previous], { force: true }), { allowFailure: true });
    await host.run(stopContainers([service.container], 30));
    await host.run(renameContainer(service.container, previous));
  } else {
    log(`service ${service.name}: starting ${service.container} (${service.image})`);
  }
  await host.run(runServiceContainer({ app: spec.app, network: spec.network, service, configHash: p.configHash, logMaxSize: spec.logMaxSize, logMaxFiles: spec.logMaxFiles }));
  try {
    await waitServiceReady(host, { name: service.name, container: service.container, kind: service.kind, command: service.ready }, spec.readyTimeoutSeconds, options);
    if (p.password !== undefined) await syncPostgresPassword(host, service, p.password);
  } catch (err) {
    await host.run(removeContainers([service.container], { force: true }), { allowFailure: true });
    if (p.current) {
      await host.run(renameContainer(previous, service.container));
      await host.run(startContainers([service.container]), { allowFailure: true });
      log(`service ${service.name}: the previous container runs again`);
    }
    throw err;
  }
  if (p.current) await host.run(removeContainers([previous], { force: true }));
}

/**
 * PostgreSQL reads POSTGRES_PASSWORD only when it creates the data directory: a volume kept from
 * an earlier deploy (destroy keeps volumes, the next up generates a new password) has another.
 * The state's password is set again, as SQL on stdin (never an argv); a failure counts as a
 * container that does not answer: the previous one runs again.
 */
async function syncPostgresPassword(host: DockerHost, service: ServiceSettings, password: string): Promise<void> {
  const pg = service.postgres!;
  const r = await host.run(psqlFromStdin(service.container, pg.user, pg.database), { stdin: setPasswordSql(pg.user, password), allowFailure: true });
  if (r.code !== 0) throw new Error(`service ${service.name}: setting ${pg.user}'s password in ${service.container} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Waits until the service answers its readiness command (or, with none, keeps running); a container that exits fails at once. */
export async function waitServiceReady(
  host: DockerHost,
  s: { name: string; container: string; kind: string; command?: string[] },
  timeoutSeconds: number,
  options: { log: (line: string) => void; pollMs?: number },
): Promise<void> {
  const started = Date.now();
  let last = "";
  for (;;) {
    const c = await inspectContainer(host, s.container);
    if (!c || (!c.running && c.status !== "restarting" && c.status !== "created")) {
      throw new Error(`service ${s.name}: ${s.container} ${c ? `exited (${c.exitCode})` : "does not exist"}${await logTail(host, s.container)}`);
    }
    if (c.running) {
      if (!s.command) return;
      const r = await host.run(execInContainer(s.container, s.command), { allowFailure: true });
      last = (r.stdout + r.stderr).trim();
      // redis-cli says NOAUTH without the password: the server answers, which is what is asked.
      if (s.kind === "redis" ? /PONG|NOAUTH/.test(last) : r.code === 0) {
        options.log(`service ${s.name}: answers (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        return;
      }
    }
    if (Date.now() - started > timeoutSeconds * 1000) {
      throw new Error(`service ${s.name}: ${s.container} did not answer within ${timeoutSeconds} s${last ? ` (last answer: ${last.slice(0, 200)})` : ""}${await logTail(host, s.container)}`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

async function logTail(host: DockerHost, container: string): Promise<string> {
  const logs = await host.run(containerLogs(container, 20), { allowFailure: true });
  const text = `${logs.stdout}${logs.stderr}`.trim();
  return text ? `; its last log lines:\n${text}` : "";
}

/**
 * The services step's delete: every service is out of the config (or the stack is destroyed).
 * Their containers go, their volumes stay; the network goes once nothing uses it (else `remove`
 * takes it with the app).
 */
export async function removeServices(host: DockerHost, spec: ServicesSpec, log: (line: string) => void): Promise<void> {
  await removeDropped(host, { ...spec, services: [] }, log);
  const removed = await host.run(removeNetwork(spec.network), { allowFailure: true });
  if (removed.code === 0) log(`removed network ${spec.network}`);
}

/** A service taken out of the config: its container goes, its volumes stay. */
async function removeDropped(host: DockerHost, spec: ServicesSpec, log: (line: string) => void): Promise<void> {
  const wanted = new Set(spec.services.map((s) => s.container));
  const ids = (await host.run(serviceContainerIds(spec.app))).stdout.split("\n").filter(Boolean);
  for (const id of ids) {
    const c = await inspectContainer(host, id);
    if (!c || wanted.has(c.name)) continue;
    const service = (await host.run(containerLabel(c.name, LABEL_SERVICE))).stdout.trim();
    log(`service ${service || c.name} is no longer in the config: removing ${c.name}; its volumes stay (docker volume ls --filter label=${LABEL_SERVICE}=${service})`);
    await host.run(removeContainers([c.name], { force: true }));
  }
}
