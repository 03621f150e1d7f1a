// Every command the deployer runs for the services, as an argv: one source for the runner and the
// tests. Secrets never appear here: they travel on stdin into files of mode 600.
import type { Argv } from "../dockerCommands";
import { mountArgs } from "../containerSpec";
import { LABEL_APP } from "../../image/labels";
import { LABEL_SERVICE, LABEL_SERVICE_CONFIG, LABEL_SERVICE_OF, REDIS_CONFIG_FILE, type ServiceSettings } from "./serviceSpec";

export const serviceContainerIds = (app: string): Argv => ["docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", `label=${LABEL_SERVICE_OF}=${app}`];

export const createServicesNetwork = (network: string, app: string): Argv => ["docker", "network", "create", "--label", `${LABEL_SERVICE_OF}=${app}`, network];
export const servicesNetworks = (app: string): Argv => ["docker", "network", "ls", "--quiet", "--filter", `label=${LABEL_SERVICE_OF}=${app}`];

/** Service volumes carry pydeploy.app: `pulumi destroy` keeps them, or removes them when asked, with the app's. */
export const createServiceVolume = (name: string, app: string, service: string): Argv => [
  "docker", "volume", "create", "--label", `${LABEL_APP}=${app}`, "--label", `${LABEL_SERVICE}=${service}`, name,
];

/** The long-lived container: restarted by Docker, on the app's network under the service's name, nothing public. */
export const runServiceContainer = (o: { app: string; network: string; service: ServiceSettings; configHash: string; logMaxSize: string; logMaxFiles: number }): Argv => [
  "docker", "run", "--detach",
  "--name", o.service.container,
  "--restart", "unless-stopped",
  "--network", o.network,
  "--network-alias", o.service.name,
  "--env-file", o.service.envFile,
  "--log-opt", `max-size=${o.logMaxSize}`,
  "--log-opt", `max-file=${o.logMaxFiles}`,
  "--label", `${LABEL_SERVICE_OF}=${o.app}`,
  "--label", `${LABEL_SERVICE}=${o.service.name}`,
  "--label", `${LABEL_SERVICE_CONFIG}=${o.configHash}`,
  ...(o.service.loopbackPort ? ["-p", `127.0.0.1:${o.service.loopbackPort.host}:${o.service.loopbackPort.container}`] : []),
  ...(o.service.privatePort ? ["-p", `${hostAddress(o.service.privatePort.address)}:${o.service.privatePort.port}:${o.service.privatePort.port}`] : []),
  ...mountArgs(o.service.mounts),
  o.service.image,
  ...(o.service.command ?? []),
];

/** `-p` takes an IPv6 host address in brackets. */
const hostAddress = (address: string) => (address.includes(":") ? `[${address}]` : address);

/** The data directory's PG_VERSION, read with the new image before its container replaces the old one. */
export const readPostgresVersion = (image: string, volume: string): Argv => [
  "docker", "run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "cat",
  "--mount", `type=volume,source=${volume},target=/pgdata,readonly`, image, "/pgdata/PG_VERSION",
];

/** Writes stdin (Redis's config, with its password) into the data volume, mode 600; the image's entrypoint hands it to redis. */
export const writeRedisConfig = (image: string, volume: string): Argv => [
  "docker", "run", "--rm", "--interactive", "--network", "none", "--user", "0:0", "--entrypoint", "sh",
  "--mount", `type=volume,source=${volume},target=/data`, image,
  "-c", `umask 077 && cat > /data/${REDIS_CONFIG_FILE}.tmp && mv -f /data/${REDIS_CONFIG_FILE}.tmp /data/${REDIS_CONFIG_FILE}`,
];

/** psql as the image's superuser over the container's socket (trusted there), its SQL on stdin. */
export const psqlFromStdin = (container: string, user: string, database: string): Argv => [
  "docker", "exec", "--interactive", container, "psql", "--username", user, "--dbname", database, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
];

/** The role's password set to the one in the state: a data directory kept from an earlier deploy (destroy keeps volumes) has another. */
export function setPasswordSql(user: string, password: string): string {
  return `ALTER ROLE "${user.replace(/"/g, '""')}" WITH PASSWORD '${password.replace(/'/g, "''")}';\n`;
}

/** pg_dump's custom format into a file on the host, written whole or not at all. */
export const dumpDatabase = (container: string, user: string, database: string, file: string): Argv => [
  "sh", "-c", 'umask 077 && docker exec "$1" pg_dump --format=custom --username "$2" "$3" >"$4.tmp" && mv -f "$4.tmp" "$4"', "sh", container, user, database, file,
];
export const listDir = (dir: string): Argv => ["ls", "-1", "--", dir];

/** For a person: loads a snapshot back (the app's tables are dropped and recreated from it). */
export function restoreCommand(container: string, user: string, database: string, file: string): string {
  return `docker exec -i ${container} pg_restore --clean --if-exists --no-owner --username ${user} --dbname ${database} < ${file}`;
}
