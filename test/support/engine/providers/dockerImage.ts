// docker:index/image:Image, as @pulumi/docker 5.2.0 does it. Read in pulumi/pulumi-docker at
// 237b7899 (v5.2.0's tag is not in the mirror; v5.1.0..237b7899 change no line of image.go and
// only an import of provider.go): provider/provider.go, provider/image.go, provider/hybrid.go.
// The engine that drives it in CI is the CLI's (pulumi v3.259.0), not the SDK's (3.248).
// - Configure (hybrid.go:72-95, provider.go:80-104): the host is the `host` config, else
//   DOCKER_HOST (provider.go:688-699), else unix:///var/run/docker.sock; the daemon is pinged,
//   and without an explicit host ~/.docker/run/docker.sock and ~/.docker/desktop/docker.sock are
//   tried next (image.go:931-992); ssh:// is not pinged. No answer fails Configure, so every
//   preview, up and destroy. `docker context` is never read (client.FromEnv): this model runs
//   the docker CLI with DOCKER_HOST set and DOCKER_CONTEXT unset.
// - Check (provider.go:128-268): buildOnPreview defaults to false; build.context defaults to ".",
//   build.dockerfile to <context>/Dockerfile; the Dockerfile must exist (paths relative to the
//   provider's working directory, the project dir); build.contextDigest is added
//   (dockerContext.ts); build.platform defaults to linux/<host arch>; an invalid builderVersion
//   fails (image.go:698-716); pushing or cacheFrom without registry.server needs a fully
//   qualified image name (image.go:779-811);
// - Diff (provider.go:271-348): the old inputs stored under `__inputs` against the new ones, per
//   top-level key; `registry` counts only when its `server` changed; never a replace;
// - Create/Update (provider.go:351-486): preview builds nothing (repoDigest unknown) unless
//   buildOnPreview; otherwise build with BuildKit unless builderVersion is BuilderV1
//   (image.go:48-51,201-237), then repoDigest = the local image ID when skipPush (image.go:287-300),
//   else push and "<repository>@sha256:<digest>" from the push (image.go:302-359);
// - Read does not reconcile and Delete does nothing (provider.go:415-495): a locally removed image
//   is not rebuilt.
// BuildKit takes only `default`, `host` and `none` as build network (moby v20.10.24
// builder/builder-next/builder.go:315-320): the daemon refuses any other. The real provider calls
// the daemon's API; this model runs a docker CLI that can build with BuildKit (20.10 has it built
// in, 23+ needs buildx).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { containsUnknowns, deepEqual, DiffKind, isObject, isSecret, PropertyMap, reveal, revealMap, secret, Wire } from "../properties";
import { run as runProcess, type RunResult } from "../../docker/localEngine";
import { contextDigest } from "./dockerContext";
import type { CheckFailure, OperationContext, ProviderModel } from "./types";

const HOST_PLATFORM = `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
/** client.DefaultDockerHost on Linux. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";
/** hybrid.go:79 wrapping image.go:991. */
export const CONFIGURE_FAILED = "docker native provider returned an unexpected error from Configure: failed to connect to any docker daemon";

function known(v: Wire | undefined): boolean {
  return v !== undefined && v !== null && !containsUnknowns(v);
}

/** reference.ParseNamed succeeds only for names whose first component is a registry host. */
function isFullyQualified(name: string): boolean {
  const first = name.split("/")[0];
  return name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
}

// The real provider gets the daemon's refusal straight from ImageBuild (image.go:434-437). A docker
// 20.10 CLI with BuildKit has been seen to hang after printing it (a CI run lost 300 s), so a CLI
// that has printed the refusal and not exited within 10 s is stopped; its output stands.
const DAEMON_REFUSAL = { pattern: /Error response from daemon: /, graceMs: 10_000 };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, input?: string): Promise<RunResult> {
  return runProcess(cmd, args, { env, cwd, input, allowFailure: true, killAfterStderr: DAEMON_REFUSAL });
}

// ---- Configure: which daemon, and is it there ----

function pingHttp(options: http.RequestOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...options, method: "HEAD", path: "/_ping", timeout: 30_000 }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 300) resolve();
      else reject(new Error(`HEAD /_ping answered ${code}`));
    });
    req.on("timeout", () => req.destroy(new Error("timed out after 30 s")));
    req.on("error", reject);
    req.end();
  });
}

async function pingCli(host: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await run("docker", ["version", "--format", "{{.Server.Version}}"], dockerEnv(host, env), os.tmpdir());
  if (r.code !== 0) throw new Error(r.stderr.trim() || `docker version exited ${r.code}`);
}

/** client.Ping: unix and plain tcp over HTTP here; TLS and other schemes through the docker CLI. */
async function ping(host: string, env: NodeJS.ProcessEnv): Promise<void> {
  const tls = Boolean(env.DOCKER_TLS_VERIFY || env.DOCKER_CERT_PATH);
  if (host.startsWith("unix://")) return pingHttp({ socketPath: host.slice("unix://".length) });
  if (host.startsWith("tcp://") && !tls) {
    const url = new URL(`http://${host.slice("tcp://".length)}`);
    return pingHttp({ host: url.hostname, port: url.port || 2375 });
  }
  return pingCli(host, env);
}

const configured = new Map<string, Promise<string>>();

/**
 * The provider's Configure: resolves and pings the daemon once per configuration (image.go:931-992)
 * and returns its address. Fails with the real provider's message.
 */
export function configureDocker(config: Record<string, Wire>, env: NodeJS.ProcessEnv): Promise<string> {
  const configHost = typeof config.host === "string" ? config.host : env.DOCKER_HOST || undefined;
  const key = JSON.stringify([configHost, env.DOCKER_HOST, env.HOME, env.DOCKER_TLS_VERIFY, env.DOCKER_CERT_PATH]);
  let result = configured.get(key);
  if (!result) {
    result = connect(configHost, env);
    configured.set(key, result);
    result.catch(() => configured.delete(key));
  }
  return result;
}

async function connect(configHost: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const isExplicitHost = configHost !== undefined;
  const first = configHost || env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
  if (first.startsWith("ssh://")) return first;
  const candidates = [first];
  if (!isExplicitHost) {
    const home = env.HOME || os.homedir();
    candidates.push(`unix://${home}/.docker/run/docker.sock`, `unix://${home}/.docker/desktop/docker.sock`);
  }
  for (const host of candidates) {
    try {
      await ping(host, env);
      return host;
    } catch (err) {
      process.stderr.write(`error connecting to docker daemon at ${host}: ${(err as Error).message}\n`);
    }
  }
  throw new Error(CONFIGURE_FAILED);
}

/** The docker CLI's environment: this daemon, whatever `docker context` says. */
function dockerEnv(host: string, env: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, DOCKER_HOST: host, ...extra };
  delete out.DOCKER_CONTEXT;
  return out;
}

// ---- the docker CLI that can build with BuildKit ----

let buildKitCli: string | undefined;

function dockerCandidates(env: NodeJS.ProcessEnv): string[] {
  const onPath = (env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, "docker"));
  const seen = new Set<string>();
  return [...onPath, "/usr/bin/docker", "/usr/local/bin/docker"].filter((p) => {
    if (!fs.existsSync(p)) return false;
    const real = fs.realpathSync(p);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** A docker CLI before 23 builds with BuildKit itself under DOCKER_BUILDKIT=1; 23 and later need buildx. */
function findBuildKitCli(env: NodeJS.ProcessEnv): string {
  if (buildKitCli) return buildKitCli;
  const tried: string[] = [];
  const probeEnv = { ...env };
  delete probeEnv.DOCKER_CONTEXT;
  for (const cli of dockerCandidates(env)) {
    const version = spawnSync(cli, ["--version"], { encoding: "utf8", env: probeEnv });
    const major = Number(/Docker version (\d+)\./.exec(version.stdout ?? "")?.[1]);
    const usable = major > 0 && (major < 23 || spawnSync(cli, ["buildx", "version"], { env: probeEnv }).status === 0);
    tried.push(`${cli} (${major > 0 ? `docker ${major}` : "no version"}${usable ? "" : ", no buildx"})`);
    if (usable) return (buildKitCli = cli);
  }
  throw new Error(`no docker CLI here can build with BuildKit, which @pulumi/docker uses by default: tried ${tried.join(", ") || "none on PATH"}; docker 20.10 has it built in, 23 and later need the buildx plugin`);
}

// ---- build and push ----

/** marshalBuilder (image.go:698-716): "1" legacy, "2" BuildKit. */
function builderVersion(v: Wire | undefined): "1" | "2" {
  if (v === undefined || v === null) return "2";
  if (v === "BuilderV1") return "1";
  if (v === "BuilderBuildKit") return "2";
  throw new Error("invalid Docker Builder version");
}

interface Built {
  outputs: PropertyMap;
  stdout: string;
  stderr: string;
}

async function build(ctx: OperationContext, inputs: PropertyMap): Promise<Built> {
  const host = await configureDocker(ctx.providerConfig, ctx.env);
  const plain = revealMap(inputs);
  const b = plain.build ?? {};
  const imageName: string = plain.imageName;
  const context: string = b.context ?? ".";
  const dockerfile: string = b.dockerfile ?? path.join(context, "Dockerfile");
  const contextDir = path.resolve(ctx.projectDir, context);
  const buildKit = builderVersion(b.builderVersion) === "2";
  const cli = buildKit ? findBuildKitCli(ctx.env) : "docker";
  if (!buildKit && fs.existsSync(path.resolve(ctx.projectDir, `${dockerfile}.dockerignore`))) {
    throw new Error(`${ctx.urn}: a Dockerfile-specific ignore file (${dockerfile}.dockerignore) is honoured by the real provider but not by the legacy builder this model runs for BuilderV1`);
  }
  const args = ["build", "-t", imageName, "-f", path.resolve(ctx.projectDir, dockerfile)];
  if (buildKit) args.push("--progress", "plain");
  if (b.platform) args.push("--platform", b.platform);
  if (b.target) args.push("--target", b.target);
  if (b.network) args.push("--network", b.network);
  for (const [k, v] of Object.entries((b.args ?? {}) as Record<string, string>)) args.push("--build-arg", `${k}=${v}`);
  for (const h of (b.addHosts ?? []) as string[]) args.push("--add-host", h);
  for (const c of (b.cacheFrom?.images ?? []) as string[]) args.push("--cache-from", c);
  args.push(contextDir);
  const env = dockerEnv(host, ctx.env, { DOCKER_BUILDKIT: buildKit ? "1" : "0" });
  const built = await run(cli, args, env, ctx.projectDir);
  if (built.code !== 0) {
    const out = (built.stderr || built.stdout).trim();
    // ImageBuild refused by the daemon (image.go:434-437) vs. a failed step in the build output (image.go:453-456).
    const refused = out.indexOf("Error response from daemon: ");
    throw new Error(refused >= 0 ? `error building image: ${out.slice(refused)}` : `error reading build output: docker build exited ${built.code}:\n${out}`);
  }

  const outputs: Record<string, Wire> = {
    dockerfile: path.relative(contextDir, path.resolve(ctx.projectDir, dockerfile)),
    context,
    baseImageName: imageName,
    registryServer: plain.registry?.server ?? "",
    imageName,
    platform: b.platform ?? "",
  };
  const skipPush = plain.skipPush === true;
  if (skipPush || ctx.preview) {
    const inspect = await run(cli, ["image", "inspect", "--format", "{{.Id}}", imageName], env, ctx.projectDir);
    if (inspect.code !== 0) throw new Error(`docker image inspect ${imageName}: ${inspect.stderr}`);
    outputs.repoDigest = inspect.stdout.trim();
    return { outputs: checkpoint(inputs, outputs), stdout: built.stdout, stderr: built.stderr };
  }
  const pushed = await push(ctx, cli, imageName, plain.registry, env);
  outputs.repoDigest = pushed.repoDigest;
  return { outputs: checkpoint(inputs, outputs), stdout: built.stdout + pushed.stdout, stderr: built.stderr + pushed.stderr };
}

/** Pushes with the program's registry credentials in a throw-away docker config (no side effect on ~/.docker). */
async function push(ctx: OperationContext, cli: string, imageName: string, registry: any, env: NodeJS.ProcessEnv): Promise<{ repoDigest: string; stdout: string; stderr: string }> {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-engine-docker-config-"));
  try {
    const pushEnv = { ...env, DOCKER_CONFIG: configDir };
    if (registry?.username && registry?.password) {
      const server = registry.server ?? imageName.split("/")[0];
      const login = await run(cli, ["login", "--username", registry.username, "--password-stdin", server], pushEnv, ctx.projectDir, registry.password);
      if (login.code !== 0) throw new Error(`docker login ${server}: ${login.stderr}`);
    }
    const pushed = await run(cli, ["push", imageName], pushEnv, ctx.projectDir);
    if (pushed.code !== 0) throw new Error(`docker push ${imageName}: ${pushed.stderr || pushed.stdout}`);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    if (!digest) throw new Error(`docker push ${imageName} reported no digest:\n${pushed.stdout}`);
    const repository = imageName.replace(/(@sha256:[0-9a-f]+)$/, "").replace(/:[^/:]+$/, "");
    return { repoDigest: `${repository}@${digest}`, stdout: pushed.stdout, stderr: pushed.stderr };
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
}

/** checkpointObject (provider.go:525-529): the outputs plus the inputs under "__inputs", secret. */
function checkpoint(inputs: PropertyMap, outputs: PropertyMap): PropertyMap {
  return { ...outputs, __inputs: secret(inputs as Wire) };
}

/** parseCheckpointObject (provider.go:532-542): the stored inputs, or none. */
function checkpointInputs(state: PropertyMap): PropertyMap {
  const stored = state.__inputs;
  const inputs = isSecret(stored) ? stored.value : stored;
  return isObject(inputs) ? inputs : {};
}

const hasValue = (v: Wire | undefined) => v !== undefined && v !== null;

/** PropertyMap.Diff per top-level key, then diffUpdates' registry rule (provider.go:295-348). */
function topLevelDiff(olds: PropertyMap, news: PropertyMap): Map<string, DiffKind> {
  const out = new Map<string, DiffKind>();
  for (const k of [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort()) {
    const o = olds[k];
    const n = news[k];
    if (deepEqual(o, n)) continue;
    if (!hasValue(o)) out.set(k, "add");
    else if (!hasValue(n)) out.set(k, "delete");
    else if (k === "registry" && !isSecret(o) && !isSecret(n) && isObject(o) && isObject(n)) {
      // Only an update of `server` (both sides have one) rebuilds: credentials rotate freely.
      if (hasValue(o.server) && hasValue(n.server) && !deepEqual(o.server, n.server)) out.set(k, "update");
    } else out.set(k, "update");
  }
  return out;
}

/** ensureMinimumBuildInputs (provider.go:737-750). */
function minimumBuildInputsKnown(inputs: PropertyMap): boolean {
  const b = inputs.build;
  if (!isObject(b)) return false;
  return !containsUnknowns(b.dockerfile) && !containsUnknowns(b.context) && !containsUnknowns(b.args) && !containsUnknowns(inputs.imageName);
}

/** canPreview (provider.go:754-781): false when a preview builds nothing. */
function buildsInPreview(ctx: OperationContext, inputs: PropertyMap): boolean {
  if (inputs.buildOnPreview !== true) return false;
  if (!minimumBuildInputsKnown(inputs)) {
    ctx.warn(
      "Minimum inputs for build are unresolved. Continuing without preview image build. " +
        "To avoid this warning, ensure image name, dockerfile, args, and context are resolved at preview.",
    );
    return false;
  }
  return true;
}

export const dockerImage: ProviderModel = {
  async check(ctx, news) {
    await configureDocker(ctx.providerConfig, ctx.env);
    const inputs: Record<string, Wire> = structuredClone(news);
    if (!known(inputs.buildOnPreview)) inputs.buildOnPreview = false;
    const failures: CheckFailure[] = [];
    const build: Record<string, Wire> = isObject(inputs.build) ? { ...inputs.build } : {};
    if (inputs.build !== undefined && inputs.build !== null && !isObject(inputs.build)) return { inputs, failures };
    if (known(build.builderVersion)) builderVersion(reveal(build.builderVersion!));
    const context = known(build.context) ? String(reveal(build.context!)) : !hasValue(build.context) ? "." : undefined;
    if (context !== undefined) build.context = context;
    let dockerfile: string | undefined;
    if (known(build.dockerfile)) dockerfile = String(reveal(build.dockerfile!));
    else if (!hasValue(build.dockerfile) && context !== undefined) dockerfile = path.posix.join(context, "Dockerfile");
    if (dockerfile !== undefined) {
      build.dockerfile = dockerfile;
      const abs = path.resolve(ctx.projectDir, dockerfile);
      if (!fs.existsSync(abs)) {
        if (path.isAbsolute(dockerfile)) throw new Error(`expected a relative Dockerfile path; got ${JSON.stringify(dockerfile)} instead: stat ${dockerfile}: no such file or directory`);
        const rel = path.join(context ?? ".", dockerfile);
        if (!fs.existsSync(path.resolve(ctx.projectDir, rel))) throw new Error(`could not open dockerfile at relative path ${JSON.stringify(dockerfile)}: stat ${dockerfile}: no such file or directory`);
        throw new Error(`could not open dockerfile at relative path ${JSON.stringify(dockerfile)}. Try setting \`dockerfile\` to ${JSON.stringify(rel)}`);
      }
      if (context !== undefined) build.contextDigest = contextDigest(ctx.projectDir, context, dockerfile);
    }
    if (!hasValue(build.platform)) build.platform = HOST_PLATFORM;
    inputs.build = build;
    const cacheFrom = isObject(build.cacheFrom) && Array.isArray(build.cacheFrom.images) ? build.cacheFrom.images : [];
    const needCanonicalImage = cacheFrom.length > 0 || inputs.skipPush !== true;
    const registry = isObject(inputs.registry) ? revealMap(inputs.registry) : {};
    const name = inputs.imageName;
    if (needCanonicalImage && !registry.server && typeof name === "string" && !isFullyQualified(name)) {
      throw new Error(
        `${JSON.stringify(name)}: repository name must be canonical.\nThis resource requires all image names to be fully qualified.\n` +
          "For example, if you are attempting to push to Dockerhub, prefix your image name with `docker.io`:\n\n`docker.io/repository/image:tag`",
      );
    }
    return { inputs, failures };
  },

  async diff(_ctx, old, news) {
    return { detailed: topLevelDiff(checkpointInputs(old.outputs), news), replacePaths: [] };
  },

  async create(ctx, inputs) {
    const name = String(reveal(inputs.imageName ?? ""));
    if (ctx.preview && !buildsInPreview(ctx, inputs)) return { id: "", outputs: inputs, ran: false };
    const built = await build(ctx, inputs);
    return { id: name, outputs: built.outputs, ran: true, stdout: built.stdout, stderr: built.stderr };
  },

  async update(ctx, _old, news) {
    if (ctx.preview && !buildsInPreview(ctx, news)) return { outputs: news, ran: false };
    const built = await build(ctx, news);
    return { outputs: built.outputs, ran: true, stdout: built.stdout, stderr: built.stderr };
  },

  async delete(ctx) {
    await configureDocker(ctx.providerConfig, ctx.env);
    return { ran: false };
  },
};
