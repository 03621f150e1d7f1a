// The contract between the Pulumi component and the deployer it runs (runner/main.ts): what
// each step is told, as plain JSON in its environment, and the secrets it reads on stdin.
// Pure: the component builds these, the runner validates and runs them, the tests assert them.
import { createHash, createHmac } from "node:crypto";
import * as path from "node:path";
import { z } from "zod";
import { certificateTimeoutSeconds, healthTimeoutSeconds, runningGateSeconds, httpUrl, imageReference, keepImages, port, releaseTimeoutSeconds, SLUG, unixUser } from "../config/fields";
import { containerSettingsSchema, validateSettings, type ContainerSettings } from "./containerSpec";
import { issueList } from "./contractIssues";
import { MAX_LINE_BYTES, splitBytes } from "./outputLines";
import { acmeOptionsSchema, proxySiteSchema, validateProxyConfig } from "./proxy/proxyConfig";
import { serviceSecretsSchema, serviceSettingsSchema, snapshotSettingsSchema } from "./services/serviceSpec";

/**
 * The deployer, run by local.Command from the project directory (the provider's working
 * directory): main.ts, started from a bundle built once per version of the sources (launch.cjs).
 */
export const RUNNER = "components/deploy/runner/launch.cjs";
/** The environment variable that carries a step's spec. */
export const SPEC_ENV = "PYDEPLOY_SPEC";

export const STEPS = ["host", "ship", "services", "release", "remove", "remove-services"] as const;
export type StepName = (typeof STEPS)[number];

/** The shell line a local.Command runs for a step. */
export function runnerCommand(step: StepName): string {
  return `node ${RUNNER} ${step}`;
}

/**
 * Stored with every step's spec. A delete runs today's runner against the spec an older version
 * stored (provider-semantics.md: the delete runs with the old state), so when a step's schema
 * changes, bump this and keep the previous host spec's schema in REMOVE_SPEC_SCHEMAS.
 */
export const SPEC_VERSION = 1 as const;

const targetSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("local") }),
  z.strictObject({
    kind: z.literal("ssh"),
    host: z.string().min(1),
    port,
    user: unixUser,
    /** "ssh-ed25519 AAAA…": the only key the server may present. Absent: any key, with a warning. */
    hostKey: z.string().optional(),
  }),
]);
export type Target = z.infer<typeof targetSchema>;
export type SshTarget = Extract<Target, { kind: "ssh" }>;

const baseShape = {
  specVersion: z.literal(SPEC_VERSION, { error: `expected specVersion ${SPEC_VERSION}` }),
  target: targetSchema,
  app: z.string().regex(SLUG),
  /** The app's folder on the Docker host, relative to the (SSH) user's home unless absolute. */
  appDir: z.string().min(1),
  /** How long to keep dialling a host that does not answer yet (a new server boots for minutes). */
  connectTimeoutSeconds: z.number().int().min(1),
};

export const hostSpecSchema = z.strictObject({
  ...baseShape,
  /** `remove` deletes the app's volumes too (else it keeps them and says so). */
  removeVolumes: z.boolean(),
  /** SSH hosts only: Docker CE is installed from here when missing; mirrors go to daemon.json. */
  dockerInstall: z.strictObject({ mirror: httpUrl, registryMirrors: z.array(httpUrl) }).optional(),
});
export type HostSpec = z.infer<typeof hostSpecSchema>;

const imageShape = z.strictObject({
  /** repository:tag as built on the deployer. */
  name: z.string().min(1),
  /** docker.Image's repoDigest: the local image ID, or repository@sha256:… when pushed. */
  identity: z.string().min(1),
  /** The tag it gets on the host: serverTag(name, identity). */
  serverTag: z.string().min(1),
  /** The image it is built FROM: a host with registry mirrors that holds none of its layers pulls it there first. */
  base: imageReference.optional(),
});
export type ShipImage = z.infer<typeof imageShape>;

export const shipSpecSchema = z.strictObject({
  ...baseShape,
  image: imageShape,
  /** The reverse proxy's image, built from the app's base: shipped the same way. */
  proxyImage: imageShape.optional(),
  /** Pull from here instead of copying (the password arrives on stdin). */
  registry: z.strictObject({ server: z.string().min(1), username: z.string().min(1) }).optional(),
});
export type ShipSpec = z.infer<typeof shipSpecSchema>;

export const servicesSpecSchema = z.strictObject({
  ...baseShape,
  /** The app's private network: services answer there by their names. */
  network: z.string().regex(SLUG),
  services: z.array(serviceSettingsSchema),
  /** How long a new or changed service may take to answer. */
  readyTimeoutSeconds: healthTimeoutSeconds,
  logMaxSize: z.string(),
  logMaxFiles: z.number().int().min(1),
});
export type ServicesSpec = z.infer<typeof servicesSpecSchema>;

/** What a release needs of the services: their network, a readiness check each, the database to snapshot. */
const releaseServicesSchema = z.strictObject({
  network: z.string().regex(SLUG),
  ready: z.array(z.strictObject({ name: z.string(), container: z.string(), kind: z.enum(["postgres", "redis", "accessory"]), command: z.array(z.string()).optional() })),
  snapshot: snapshotSettingsSchema.optional(),
});
export type ReleaseServices = z.infer<typeof releaseServicesSchema>;

/**
 * A server released before this one in a rolling release: where it is (no key material) and how its
 * release differs from this server's. With services on the first server, that one's containers
 * join the services' network and wait for them; the others reach them by host entries.
 */
const rollPeerSchema = targetSchema.options[1].extend({
  network: containerSettingsSchema.shape.network,
  serviceHosts: containerSettingsSchema.shape.serviceHosts,
  services: releaseServicesSchema.optional(),
});
export type RollPeer = z.infer<typeof rollPeerSchema>;

export const releaseSpecSchema = z.strictObject({
  ...baseShape,
  settings: containerSettingsSchema,
  healthTimeoutSeconds,
  runningGateSeconds,
  keepImages,
  /** The app's volumes (Docker names); a new one is handed to this uid. */
  volumes: z.strictObject({ names: z.array(z.string().regex(SLUG)), ownerUid: z.number().int().min(0) }),
  /** Run once per new image, env or command, before any role switches (e.g. migrations). */
  releaseCommand: z.strictObject({ command: z.array(z.string()).min(1), timeoutSeconds: releaseTimeoutSeconds }).optional(),
  /** The services on the host: waited for, and the database snapshotted, before the release command. */
  services: releaseServicesSchema.optional(),
  /** The reverse proxy in front of the roles with upstreams (proxy/*.ts). */
  proxy: z
    .strictObject({
      /** Its image as tagged on the host. */
      image: imageReference,
      sites: z.array(proxySiteSchema).min(1, { error: "expected at least one proxy site" }),
      /** The config's ACME options; the CA root's PEM itself, not a flag. */
      acme: acmeOptionsSchema.omit({ customCaRoot: true }).extend({ caRoot: z.string().optional(), timeoutSeconds: certificateTimeoutSeconds.optional() }).optional(),
    })
    .optional(),
  /** A rolling release: the servers released before this one (same key); a failure here takes them back (runner/roll.ts). */
  earlier: z.array(rollPeerSchema).optional(),
});
export type ProxySettings = NonNullable<ReleaseSpec["proxy"]>;
export type ReleaseSpec = z.infer<typeof releaseSpecSchema>;

/** What `remove` (the host step's delete) needs of the host step's spec, whichever version stored it. */
export type RemoveSpec = Pick<HostSpec, "target" | "app" | "appDir" | "connectTimeoutSeconds" | "removeVolumes">;

/**
 * The host spec as pydeploy stored it before specVersion (up to commit fb44c72; recorded in
 * test/deploy/fixtures/hostSpec.v0.json). Frozen: stacks deployed then are destroyed with it.
 */
const hostSpecV0Schema = z.strictObject({
  target: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("local") }),
    z.strictObject({ kind: z.literal("ssh"), host: z.string().min(1), port: z.number().int().min(1).max(65535), user: z.string().min(1), hostKey: z.string().optional() }),
  ]),
  app: z.string().regex(SLUG),
  appDir: z.string().min(1),
  connectTimeoutSeconds: z.number().int().min(1),
  removeVolumes: z.boolean(),
  dockerInstall: z.strictObject({ mirror: z.string(), registryMirrors: z.array(z.string()) }).optional(),
});

/** Every host spec version `remove` may be handed, by specVersion (0: none stored). */
const REMOVE_SPEC_SCHEMAS: Record<number, z.ZodType<RemoveSpec>> = { 0: hostSpecV0Schema, [SPEC_VERSION]: hostSpecSchema };

/** The spec `remove` runs with: today's, or one an earlier pydeploy stored in the state. */
export function parseRemoveSpec(json: string | undefined): RemoveSpec {
  let version: unknown = 0;
  try {
    version = (JSON.parse(json ?? "") as { specVersion?: unknown }).specVersion ?? 0;
  } catch {
    // parseSpec says what is wrong with it.
  }
  const schema = typeof version === "number" ? REMOVE_SPEC_SCHEMAS[version] : undefined;
  if (!schema) {
    throw new Error(`pydeploy remove: ${SPEC_ENV} was stored by a newer pydeploy (specVersion ${JSON.stringify(version)}; this one knows up to ${SPEC_VERSION}): run the destroy with that version`);
  }
  const spec = parseSpec("remove", schema, json);
  return { target: spec.target, app: spec.app, appDir: spec.appDir, connectTimeoutSeconds: spec.connectTimeoutSeconds, removeVolumes: spec.removeVolumes };
}

/** Secrets, on stdin as JSON: never in the spec, a command line or a log. */
export const secretsSchema = z.strictObject({
  privateKey: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  registryPassword: z.string().optional(),
  /** The services' passwords and secret env (services step). */
  services: serviceSecretsSchema.optional(),
});
export type StepSecrets = z.infer<typeof secretsSchema>;

/** Parses and checks a step's spec; the message names the step and what is wrong. */
export function parseSpec<S extends z.ZodTypeAny>(step: StepName, schema: S, json: string | undefined): z.infer<S> {
  if (!json) throw new Error(`pydeploy ${step}: ${SPEC_ENV} is not set; this program is run by the pydeploy Pulumi component`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`pydeploy ${step}: ${SPEC_ENV} is not JSON: ${(err as Error).message}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`pydeploy ${step}: invalid ${SPEC_ENV}: ${issueList(result.error.issues)}`);
  if (step === "release") {
    const release = result.data as ReleaseSpec;
    validateSettings(release.settings);
    // The rules across sites; the ACME options are the schema's own.
    if (release.proxy) validateProxyConfig({ sites: release.proxy.sites });
    // The release version hashes the settings' JSON: keep them as the component wrote them, not in the schema's key order.
    return { ...release, settings: (value as { settings: ContainerSettings }).settings } as z.infer<S>;
  }
  return result.data;
}

/**
 * The host step's trigger (a change replaces the step, and the old step's `remove` runs): the
 * machine, not the user. Another user on the same machine is an update: the app stays.
 */
export function hostTrigger(target: Target): string {
  return target.kind === "ssh" ? `${target.host}:${target.port}` : "local";
}

/** The app's folder on the host: <remoteDir>/<app>. Relative paths are in the user's home. */
export function appDirOf(remoteDir: string, app: string): string {
  if (remoteDir.startsWith("~")) throw new Error(`remote dir ${JSON.stringify(remoteDir)}: write it relative to the home directory (e.g. .pydeploy), not with ~`);
  return path.posix.join(remoteDir, app);
}

export const envFileOf = (appDir: string): string => `${appDir}/app.env`;
export const saltFileOf = (appDir: string): string => `${appDir}/salt`;
export const ownerFileOf = (appDir: string): string => `${appDir}/owner`;
/** What the release command last ran successfully for (releaseCommandKey()). */
export const releaseCommandFileOf = (appDir: string): string => `${appDir}/release-command`;

/** When this changes, the release command runs again: a new image, env or command. */
export function releaseCommandKey(imageIdentity: string, command: string[], envFile: string, salt: string): string {
  const envPrint = createHmac("sha256", salt).update(envFile).digest("hex");
  return createHash("sha256").update(JSON.stringify({ imageIdentity, command })).update(envPrint).digest("hex");
}

/**
 * Names a release: the container settings and a keyed hash of the env file. The key is a
 * random salt kept on the host, so the (plain) container names reveal nothing about secret
 * values, and rotating the SSH key changes nothing.
 */
export function releaseVersion(settings: ContainerSettings, envFile: string, salt: string): string {
  const envPrint = createHmac("sha256", salt).update(envFile).digest("hex");
  return createHash("sha256").update(JSON.stringify(settings)).update(envPrint).digest("hex").slice(0, 12);
}

/**
 * Per role, the version its container alone would have: the shared settings, its own and the
 * env. A change to one role's settings leaves the others' roleVersions as they were.
 */
export function roleVersions(settings: ContainerSettings, envFile: string, salt: string): Record<string, string> {
  return Object.fromEntries(settings.roles.map((role) => [role.role, releaseVersion({ ...settings, roles: [role] }, envFile, salt)]));
}

/** The final stdout line of a step: what the component reads back as outputs. */
export const RESULT_PREFIX = "pydeploy-result: ";
/** A result too long for one line comes in pieces: these lines, then the RESULT_PREFIX line with the last piece. */
export const RESULT_PART_PREFIX = "pydeploy-result-part: ";
// Results are read back from the state, maybe printed by another pydeploy version: keys this
// version does not know are dropped, not refused.
export const releaseResultSchema = z.object({ version: z.string().min(1), containers: z.array(z.string()) });
export type ReleaseResult = z.infer<typeof releaseResultSchema>;
export const hostResultSchema = z.object({
  /** A fresh token written to <appDir>/owner: `remove` deletes only a folder it still owns. */
  owner: z.string().min(1),
});
export type HostResult = z.infer<typeof hostResultSchema>;

/** One line of JSON, as a step printed it before results were split (and as short ones still are). */
export function resultLine(result: object): string {
  return `${RESULT_PREFIX}${JSON.stringify(result)}`;
}

/** The result as stdout lines, each within MAX_LINE_BYTES (outputLines.ts): pieces of its JSON, the last one marked. */
export function resultLines(result: object): string[] {
  const pieces = splitBytes(JSON.stringify(result), MAX_LINE_BYTES - Buffer.byteLength(RESULT_PART_PREFIX));
  return pieces.map((piece, i) => `${i === pieces.length - 1 ? RESULT_PREFIX : RESULT_PART_PREFIX}${piece}`);
}

/** The result a step printed last, checked against its schema, or throws naming the step. */
export function parseResult<S extends z.ZodTypeAny>(step: StepName, schema: S, stdout: string): z.infer<S> {
  const lines = stdout.split("\n");
  let last = lines.length - 1;
  while (last >= 0 && !lines[last].startsWith(RESULT_PREFIX)) last--;
  if (last < 0) throw new Error(`pydeploy ${step}: the step printed no result line`);
  let first = last;
  while (first > 0 && lines[first - 1].startsWith(RESULT_PART_PREFIX)) first--;
  const json = lines.slice(first, last).map((l) => l.slice(RESULT_PART_PREFIX.length)).join("") + lines[last].slice(RESULT_PREFIX.length);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`pydeploy ${step}: the step's result is not JSON: ${(err as Error).message}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`pydeploy ${step}: the step's result is not what this version reads: ${issueList(result.error.issues)}`);
  return result.data;
}

/** What a step printed, without its result lines: the log a person reads. */
export function stepLogOf(stdout: string): string {
  return stdout
    .split("\n")
    .filter((l) => l && !l.startsWith(RESULT_PREFIX) && !l.startsWith(RESULT_PART_PREFIX))
    .join("\n");
}
