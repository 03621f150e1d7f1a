// docker:index/image:Image, as @pulumi/docker 5.x does it (pulumi-docker provider/provider.go,
// provider/image.go):
// - Check: buildOnPreview defaults to false; build.context defaults to ".", build.dockerfile to
//   <context>/Dockerfile; the Dockerfile must exist (paths relative to the provider's working
//   directory, i.e. the project dir); build.contextDigest is added (dockerContext.ts);
//   build.platform defaults to linux/<host arch>; with skipPush false the image name must be
//   fully qualified;
// - Diff: old inputs (state __inputs) against the new ones; a registry username/password
//   change alone is no diff; any other change is an update (a rebuild), never a replace;
// - Create/Update: preview builds nothing (repoDigest unknown) unless buildOnPreview; otherwise
//   build, then repoDigest = the local image ID when skipPush, else push and
//   "<repository>@sha256:<digest>" from the push;
// - Read does not reconcile and Delete does nothing: a locally removed image is not rebuilt.
// Difference from the real provider: it builds with the daemon's API and BuildKit by default;
// this model runs the docker CLI with the legacy builder (DOCKER_BUILDKIT=0, no buildx here).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { containsUnknowns, detailedDiff, isObject, PropertyMap, reveal, revealMap, secret, Wire } from "../properties";
import { contextDigest } from "./dockerContext";
import type { CheckFailure, OperationContext, ProviderModel } from "./types";

const HOST_PLATFORM = `linux/${process.arch === "x64" ? "amd64" : process.arch}`;

function known(v: Wire | undefined): boolean {
  return v !== undefined && v !== null && !containsUnknowns(v);
}

/** reference.ParseNamed succeeds only for names whose first component is a registry host. */
function isFullyQualified(name: string): boolean {
  const first = name.split("/")[0];
  return name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

function dockerEnv(ctx: OperationContext, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const host = ctx.providerConfig.host;
  return { ...ctx.env, ...(typeof host === "string" && host ? { DOCKER_HOST: host } : {}), ...extra };
}

interface Built {
  outputs: PropertyMap;
  stdout: string;
  stderr: string;
}

async function build(ctx: OperationContext, inputs: PropertyMap): Promise<Built> {
  const plain = revealMap(inputs);
  const b = plain.build ?? {};
  const imageName: string = plain.imageName;
  const context: string = b.context ?? ".";
  const dockerfile: string = b.dockerfile ?? path.join(context, "Dockerfile");
  const contextDir = path.resolve(ctx.projectDir, context);
  if (fs.existsSync(path.resolve(ctx.projectDir, `${dockerfile}.dockerignore`))) {
    throw new Error(`${ctx.urn}: a Dockerfile-specific ignore file (${dockerfile}.dockerignore) is honoured by the real provider but not by the legacy builder this harness uses`);
  }
  const args = ["build", "-t", imageName, "-f", path.resolve(ctx.projectDir, dockerfile)];
  if (b.platform) args.push("--platform", b.platform);
  if (b.target) args.push("--target", b.target);
  if (b.network) args.push("--network", b.network);
  for (const [k, v] of Object.entries((b.args ?? {}) as Record<string, string>)) args.push("--build-arg", `${k}=${v}`);
  for (const h of (b.addHosts ?? []) as string[]) args.push("--add-host", h);
  for (const c of (b.cacheFrom?.images ?? []) as string[]) args.push("--cache-from", c);
  args.push(contextDir);
  const env = dockerEnv(ctx, { DOCKER_BUILDKIT: "0" });
  const built = await run("docker", args, env, ctx.projectDir);
  if (built.code !== 0) throw new Error(`error reading build output: docker build exited ${built.code}:\n${built.stderr || built.stdout}`);

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
    const inspect = await run("docker", ["image", "inspect", "--format", "{{.Id}}", imageName], env, ctx.projectDir);
    if (inspect.code !== 0) throw new Error(`docker image inspect ${imageName}: ${inspect.stderr}`);
    outputs.repoDigest = inspect.stdout.trim();
    return { outputs: checkpoint(inputs, outputs), stdout: built.stdout, stderr: built.stderr };
  }
  const pushed = await push(ctx, imageName, plain.registry, env);
  outputs.repoDigest = pushed.repoDigest;
  return { outputs: checkpoint(inputs, outputs), stdout: built.stdout + pushed.stdout, stderr: built.stderr + pushed.stderr };
}

/** Pushes with the program's registry credentials in a throw-away docker config (no side effect on ~/.docker). */
async function push(ctx: OperationContext, imageName: string, registry: any, env: NodeJS.ProcessEnv): Promise<{ repoDigest: string; stdout: string; stderr: string }> {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-engine-docker-config-"));
  try {
    const pushEnv = { ...env, DOCKER_CONFIG: configDir };
    if (registry?.username && registry?.password) {
      const server = registry.server ?? imageName.split("/")[0];
      const login = await run("docker", ["login", "--username", registry.username, "--password-stdin", server], pushEnv, ctx.projectDir, registry.password);
      if (login.code !== 0) throw new Error(`docker login ${server}: ${login.stderr}`);
    }
    const pushed = await run("docker", ["push", imageName], pushEnv, ctx.projectDir);
    if (pushed.code !== 0) throw new Error(`docker push ${imageName}: ${pushed.stderr || pushed.stdout}`);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    if (!digest) throw new Error(`docker push ${imageName} reported no digest:\n${pushed.stdout}`);
    const repository = imageName.replace(/(@sha256:[0-9a-f]+)$/, "").replace(/:[^/:]+$/, "");
    return { repoDigest: `${repository}@${digest}`, stdout: pushed.stdout, stderr: pushed.stderr };
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
}

/** checkpointObject: the outputs plus the inputs under "__inputs", secret. */
function checkpoint(inputs: PropertyMap, outputs: PropertyMap): PropertyMap {
  return { ...outputs, __inputs: secret(inputs as Wire) };
}

export const dockerImage: ProviderModel = {
  async check(ctx, news) {
    const inputs: Record<string, Wire> = structuredClone(news);
    if (!known(inputs.buildOnPreview)) inputs.buildOnPreview = false;
    const failures: CheckFailure[] = [];
    const build: Record<string, Wire> = isObject(inputs.build) ? { ...inputs.build } : {};
    if (inputs.build !== undefined && !isObject(inputs.build)) return { inputs, failures };
    const context = known(build.context) ? String(reveal(build.context!)) : build.context === undefined ? "." : undefined;
    if (context !== undefined) build.context = context;
    let dockerfile: string | undefined;
    if (known(build.dockerfile)) dockerfile = String(reveal(build.dockerfile!));
    else if (build.dockerfile === undefined && context !== undefined) dockerfile = path.posix.join(context, "Dockerfile");
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
    if (build.platform === undefined || build.platform === null) build.platform = HOST_PLATFORM;
    inputs.build = build;
    const skipPush = inputs.skipPush === true;
    const name = inputs.imageName;
    if (!skipPush && typeof name === "string" && !isFullyQualified(name)) {
      throw new Error(
        `${JSON.stringify(name)}: repository name must be canonical.\nThis resource requires all image names to be fully qualified.\n` +
          "For example, if you are attempting to push to Dockerhub, prefix your image name with `docker.io`:\n\n`docker.io/repository/image:tag`",
      );
    }
    return { inputs, failures };
  },

  async diff(_ctx, old, news) {
    const detailed = detailedDiff(old.inputs, news);
    // A registry credential change alone does not rebuild (diffUpdates: only registry.server counts).
    for (const p of [...detailed.keys()]) if (p === "registry.username" || p === "registry.password") detailed.delete(p);
    return { detailed, replacePaths: [] };
  },

  async create(ctx, inputs) {
    const name = String(reveal(inputs.imageName ?? ""));
    if (ctx.preview && inputs.buildOnPreview !== true) return { id: "", outputs: inputs, ran: false };
    const built = await build(ctx, inputs);
    return { id: name, outputs: built.outputs, ran: true, stdout: built.stdout, stderr: built.stderr };
  },

  async update(ctx, _old, news) {
    if (ctx.preview && news.buildOnPreview !== true) return { outputs: news, ran: false };
    const built = await build(ctx, news);
    return { outputs: built.outputs, ran: true, stdout: built.stdout, stderr: built.stderr };
  },

  async delete() {
    return { ran: false };
  },
};
