// Every command the deployer runs on a Docker host, as an argv (Kamal's command classes): one
// source for the deployer and the tests, which assert them exactly. Pure: no I/O, no Pulumi.
// Values are separate argv words, never shell text; the SSH transport quotes each word.
import { LABEL_APP } from "../image/labels";
import { dockerRunArgs, LABEL_ROLE, mountArgs, ReleaseContainerSettings, RoleSettings, VolumeMount } from "./containerSpec";

export type Argv = string[];

/** JSON-producing reads: the deployer parses the Engine API's own field names. */
export const dockerVersion = (): Argv => ["docker", "version", "--format", "{{.Server.Version}}"];
export const dockerInfoJson = (): Argv => ["docker", "info", "--format", "{{json .}}"];
/** The daemon's registry mirrors (daemon.json "registry-mirrors"): a JSON list, or null. */
export const registryMirrors = (): Argv => ["docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}"];

export const appContainerIds = (app: string): Argv => [
  "docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", `label=${LABEL_APP}=${app}`,
];
export const allContainerIds = (): Argv => ["docker", "ps", "--all", "--quiet", "--no-trunc"];
export const inspectContainers = (idsOrNames: string[]): Argv => ["docker", "container", "inspect", ...idsOrNames];

export const appImageIds = (app: string): Argv => [
  "docker", "image", "ls", "--quiet", "--no-trunc", "--filter", `label=${LABEL_APP}=${app}`,
];
export const labelledImageIds = (label: string, value: string): Argv => ["docker", "image", "ls", "--quiet", "--no-trunc", "--filter", `label=${label}=${value}`];
export const allImageIds = (): Argv => ["docker", "image", "ls", "--quiet", "--no-trunc"];
export const inspectImages = (refs: string[]): Argv => ["docker", "image", "inspect", ...refs];

export const runContainer = (spec: ReleaseContainerSettings, role: RoleSettings): Argv => dockerRunArgs(spec, role);
export const startContainers = (names: string[]): Argv => ["docker", "start", ...names];
/** Graceful: SIGTERM, then SIGKILL after `graceSeconds`. */
export const stopContainers = (names: string[], graceSeconds: number): Argv => ["docker", "stop", "--time", String(graceSeconds), ...names];
export const removeContainers = (names: string[], o: { force?: boolean } = {}): Argv => ["docker", "rm", ...(o.force ? ["--force"] : []), ...names];
export const renameContainer = (from: string, to: string): Argv => ["docker", "rename", from, to];
export const containerLogs = (name: string, tail: number): Argv => ["docker", "logs", "--tail", String(tail), name];
/** What a container logged in the last `seconds` (by the Docker host's clock). */
export const containerLogsSince = (name: string, seconds: number): Argv => ["docker", "logs", "--since", `${seconds}s`, name];

/** Runs a command inside a running container; `stdin` keeps its input open (`-i`). */
export const execInContainer = (container: string, command: Argv, o: { stdin?: boolean } = {}): Argv => [
  "docker", "exec", ...(o.stdin ? ["-i"] : []), container, ...command,
];
/** One label of a container, by `docker inspect --format` (empty when it has none). */
export const containerLabel = (container: string, label: string): Argv => [
  "docker", "container", "inspect", "--format", `{{index .Config.Labels "${label}"}}`, container,
];
/** A throwaway container of `image` in another container's network namespace, allowed to change its firewall. */
export const runInNetworkOf = (container: string, image: string, command: Argv): Argv => [
  "docker", "run", "--rm", "--network", `container:${container}`, "--cap-add", "NET_ADMIN", "--user", "root", image, ...command,
];

/** The one-off container of the release command: the app's env and volumes, no restart, no port. */
export const startReleaseCommandContainer = (o: { name: string; app: string; image: string; envFile: string; mounts: VolumeMount[]; command: string[]; network?: string }): Argv => [
  "docker", "run", "--detach",
  "--name", o.name,
  "--env-file", o.envFile,
  ...(o.network ? ["--network", o.network] : []),
  "--label", `${LABEL_APP}=${o.app}`,
  "--label", `${LABEL_ROLE}=release-command`,
  ...mountArgs(o.mounts),
  o.image,
  ...o.command,
];

/** Joins a network under an alias (the proxy reaches a role's container by it). */
export const connectNetwork = (network: string, container: string, alias: string): Argv => ["docker", "network", "connect", "--alias", alias, network, container];
/** `force` also takes a stopped or removed container off. */
export const disconnectNetwork = (network: string, container: string, o: { force?: boolean } = {}): Argv => [
  "docker", "network", "disconnect", ...(o.force ? ["--force"] : []), network, container,
];
export const inspectNetwork = (name: string): Argv => ["docker", "network", "inspect", name];
export const createLabelledNetwork = (name: string, label: string, value: string): Argv => ["docker", "network", "create", "--label", `${label}=${value}`, name];
export const removeNetwork = (name: string): Argv => ["docker", "network", "rm", name];

export const inspectVolume = (name: string): Argv => ["docker", "volume", "inspect", name];
export const createLabelledVolume = (name: string, label: string, value: string): Argv => ["docker", "volume", "create", "--label", `${label}=${value}`, name];
export const createVolume = (name: string, app: string): Argv => createLabelledVolume(name, LABEL_APP, app);
export const appVolumes = (app: string): Argv => ["docker", "volume", "ls", "--quiet", "--filter", `label=${LABEL_APP}=${app}`];
export const removeVolumes = (names: string[]): Argv => ["docker", "volume", "rm", ...names];
/** On the volume that holds an app's claim on a Docker daemon (runner/claim.ts). */
export const LABEL_CLAIM = "pydeploy.claim";
/** A claim's volume: its name carries the owner token of the host step that made it. */
export const claimVolumeName = (app: string, owner: string): string => `${app}.claim.${owner}`;
export const claimVolumes = (app: string): Argv => ["docker", "volume", "ls", "--quiet", "--filter", `label=${LABEL_CLAIM}=${app}`];
export const createClaimVolume = (app: string, owner: string): Argv => createLabelledVolume(claimVolumeName(app, owner), LABEL_CLAIM, app);
/** A new volume belongs to root: hand it to the app's user, with the image's own chown. */
export const chownVolume = (image: string, volume: string, uid: number): Argv => [
  "docker", "run", "--rm", "--user", "0:0", "--network", "none", "--entrypoint", "chown",
  "--mount", `type=volume,source=${volume},target=/volume`, image, `${uid}:${uid}`, "/volume",
];

/** Starts the image once, without network: a loaded image whose layers did not unpack fails here. */
export const smokeTest = (image: string): Argv => ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", "exit 0"];

export const tagImage = (source: string, target: string): Argv => ["docker", "tag", source, target];
/** Untags, or removes an image nothing else names; `force` for an ID with several tags. */
export const removeImages = (refs: string[], o: { force?: boolean } = {}): Argv => ["docker", "image", "rm", ...(o.force ? ["--force"] : []), ...refs];
/** Reads an image archive (tar, or gzip'd tar) from stdin. */
export const loadImage = (): Argv => ["docker", "load"];
export const saveImage = (ref: string): Argv => ["docker", "save", ref];

/** `docker` with a throwaway client config, so a registry login leaves no credential behind. */
const withConfig = (configDir: string, argv: Argv): Argv => ["env", `DOCKER_CONFIG=${configDir}`, ...argv];
/** The password arrives on stdin. */
export const registryLogin = (configDir: string, server: string, username: string): Argv =>
  withConfig(configDir, ["docker", "login", "--username", username, "--password-stdin", server]);
export const pullImage = (configDir: string, ref: string): Argv => withConfig(configDir, ["docker", "pull", ref]);
/** A pull the daemon routes through its registry mirrors (Docker Hub images), given up after `seconds`. */
export const pullThroughMirrors = (ref: string, seconds: number): Argv => ["timeout", String(seconds), "docker", "pull", "--quiet", ref];
export const registryLogout = (configDir: string, server: string): Argv => withConfig(configDir, ["docker", "logout", server]);

/** File commands for the app's folder (paths relative to the SSH user's home). */
export const makePrivateDir = (dir: string): Argv => ["mkdir", "-p", "-m", "700", dir];
export const makeTempDir = (): Argv => ["mktemp", "-d"];
export const removePath = (path: string): Argv => ["rm", "-rf", "--", path];
export const readFile = (path: string): Argv => ["cat", "--", path];
/** Writes stdin to `path`, mode 600, atomically (a reader never sees half a file). */
export const writePrivateFile = (path: string): Argv => [
  "sh", "-c", 'umask 077 && cat >"$1.tmp" && chmod 600 "$1.tmp" && mv -f "$1.tmp" "$1"', "sh", path,
];

