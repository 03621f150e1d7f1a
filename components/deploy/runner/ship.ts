// The ship step: the built image gets onto the host under its server tag, verified before any
// release uses it. Copy mode streams `docker save` into the host's `docker load` over SSH
// (no registry); registry mode pulls by digest with a throwaway login. Images are identified
// by their layer diffIDs, which are the same in the classic and the containerd image store.
import { spawn } from "node:child_process";
import { createGzip } from "node:zlib";
import {
  loadImage,
  makeTempDir,
  pullImage,
  registryLogin,
  registryLogout,
  removeImages,
  removePath,
  saveImage,
  smokeTest,
  tagImage,
} from "../dockerCommands";
import type { ShipSpec, StepSecrets } from "../spec";
import { ImageInfo, inspectImage } from "./dockerState";
import type { DockerHost } from "./transport";

export interface ShipResult {
  /** What happened: the host had it, it was copied, pulled, or (local target) tagged. */
  action: "present" | "copied" | "pulled" | "tagged";
  serverTag: string;
  /** Bytes sent to the host to ship it (0 when present). */
  bytesSent: number;
}

export async function shipImage(
  host: DockerHost,
  deployer: DockerHost,
  spec: ShipSpec,
  secrets: StepSecrets,
  log: (line: string) => void,
): Promise<ShipResult> {
  const tag = spec.image.serverTag;
  const onHost = await inspectImage(host, tag);
  if (onHost) {
    // The tag is only ever set after a verified load or pull.
    log(`image ${tag} is already on ${host.description}`);
    return { action: "present", serverTag: tag, bytesSent: 0 };
  }
  if (spec.target.kind === "local") {
    const local = await builtImage(deployer, spec);
    await deployer.run(tagImage(local.id, tag));
    log(`tagged ${spec.image.name} (${spec.image.identity}) as ${tag}`);
    return { action: "tagged", serverTag: tag, bytesSent: 0 };
  }
  const before = host.bytesSent;
  if (spec.registry) {
    await pull(host, spec, secrets, log);
    await verify(host, tag, (await inspectImage(deployer, spec.image.identity))?.layers, log);
    return { action: "pulled", serverTag: tag, bytesSent: host.bytesSent - before };
  }
  const local = await builtImage(deployer, spec);
  await copy(host, deployer, local, tag, log);
  await verify(host, tag, local.layers, log);
  const bytesSent = host.bytesSent - before;
  log(`shipped ${tag}: ${(bytesSent / 1e6).toFixed(1)} MB sent`);
  return { action: "copied", serverTag: tag, bytesSent };
}

/** The image docker.Image built, found by its identity (local ID, or a digest it was pushed as). */
async function builtImage(deployer: DockerHost, spec: ShipSpec): Promise<ImageInfo> {
  const image = await inspectImage(deployer, spec.image.identity);
  if (!image) {
    throw new Error(
      `the image ${spec.image.name} (${spec.image.identity}) is not in the local Docker engine, and the host does not have it either. ` +
        `Build it again: \`pulumi up --replace <the image's URN>\` (\`pulumi stack --show-urns\` lists it), or change the project so it rebuilds.`,
    );
  }
  return image;
}

/** `docker save` of the image under its server tag, gzip'd on the way, into the host's `docker load`. */
async function copy(host: DockerHost, deployer: DockerHost, local: ImageInfo, tag: string, log: (line: string) => void): Promise<void> {
  // Saved under the server tag, so the host's load names it the same on either image store.
  await deployer.run(tagImage(local.id, tag));
  try {
    const [cmd, ...args] = saveImage(tag);
    const save = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let saveErr = "";
    save.stderr.on("data", (d: Buffer) => (saveErr += d));
    const saved = new Promise<void>((resolve, reject) => {
      save.on("error", reject);
      save.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`docker save ${tag} exited ${code}: ${saveErr.trim()}`))));
    });
    const [load] = await Promise.all([host.run(loadImage(), { stdin: save.stdout.pipe(createGzip({ level: 6 })) }), saved]);
    for (const line of `${load.stdout}${load.stderr}`.split("\n")) if (line.trim()) log(`docker load: ${line.trim()}`);
  } finally {
    await deployer.run(removeImages([tag]), { allowFailure: true });
  }
}

async function pull(host: DockerHost, spec: ShipSpec, secrets: StepSecrets, log: (line: string) => void): Promise<void> {
  const registry = spec.registry!;
  if (!secrets.registryPassword) throw new Error(`the registry password for ${registry.server} was not given on stdin`);
  const configDir = (await host.run(makeTempDir())).stdout.trim();
  try {
    await host.run(registryLogin(configDir, registry.server, registry.username), { stdin: secrets.registryPassword });
    log(`pulling ${spec.image.identity}`);
    await host.run(pullImage(configDir, spec.image.identity));
    await host.run(tagImage(spec.image.identity, spec.image.serverTag));
  } finally {
    await host.run(registryLogout(configDir, registry.server), { allowFailure: true });
    await host.run(removePath(configDir), { allowFailure: true });
  }
}

/**
 * The image under `tag` has the expected layers and its Python starts. A load can "succeed"
 * while unpacking failed (containerd store, Docker 28+): this is what catches it.
 */
async function verify(host: DockerHost, tag: string, layers: string[] | undefined, log: (line: string) => void): Promise<void> {
  const loaded = await inspectImage(host, tag);
  if (!loaded) throw new Error(`after shipping, ${host.description} has no image ${tag}`);
  if (layers && JSON.stringify(loaded.layers) !== JSON.stringify(layers)) {
    await host.run(removeImages([tag]), { allowFailure: true });
    throw new Error(`the image ${tag} on ${host.description} has other layers than the one built (${loaded.layers.length} vs ${layers.length}); the tag was removed`);
  }
  const smoke = await host.run(smokeTest(tag), { allowFailure: true });
  if (smoke.code !== 0) {
    await host.run(removeImages([tag]), { allowFailure: true });
    throw new Error(`the image ${tag} on ${host.description} does not start (docker run --rm exited ${smoke.code}): ${(smoke.stderr || smoke.stdout).trim()}; the tag was removed`);
  }
  log(`verified ${tag}: ${loaded.layers.length} layers, it starts`);
}
