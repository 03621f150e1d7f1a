// The ship step: the built image gets onto the host under its server tag, verified before any
// release uses it. Copy mode sends the layers the host lacks into its `docker load` over SSH
// (no registry); a host with registry mirrors first pulls the image's base there, so only the
// app's own layers travel. Registry mode pulls by digest with a throwaway login. Images are
// identified by their layer diffIDs, which are the same in the classic and the containerd store.
import { pipeline, Transform } from "node:stream";
import {
  allImageIds,
  inspectImages,
  loadImage,
  makeTempDir,
  pullImage,
  pullThroughMirrors,
  registryLogin,
  registryLogout,
  registryMirrors,
  removeImages,
  removePath,
  saveImage,
  smokeTest,
  tagImage,
} from "../dockerCommands";
import type { ShipImage, ShipSpec, StepSecrets } from "../spec";
import { ImageInfo, inspectImage } from "./dockerState";
import { checkLayers, layerArchive, normalizedName, presentPrefix, SavedImage, unpackSave } from "./layerArchive";
import { PhaseClock } from "./phaseClock";
import type { DockerHost, LocalHost } from "./transport";

export interface ShipResult {
  /** What happened: the host had it, it was copied, pulled, or (local target) tagged. */
  action: "present" | "copied" | "pulled" | "tagged";
  serverTag: string;
  /** Bytes sent to the host to ship it (0 when present). */
  bytesSent: number;
}

/**
 * Two images shipped side by side (the app's and the proxy's, which shares its base): the second
 * is saved while the first is sent, and sent after it, so the deployer runs one `docker save` at
 * a time and the host never gets the shared layers twice.
 */
export interface ShipOptions {
  /** Start `docker save` once this settles. */
  saveAfter?: Promise<unknown>;
  /** Ask the host which layers it holds once this settles. */
  hostLayersAfter?: Promise<unknown>;
  /** Called when this image's `docker save` is done (or failed). */
  onSaved?: () => void;
  /** Called when the host loaded this image's layers, before they are checked there. */
  onLoaded?: () => void;
  /** Called when the host pulled this image's base through its mirror, before the rest is sent. */
  onBaseOnHost?: () => void;
}

/**
 * The app's image and, with roles behind the proxy, the proxy's, side by side: the proxy's is
 * saved once the app's is, and asks the host for its layers once the base they share is there
 * (pulled through the host's mirror, or loaded with the app's layers; or the app's ship ended
 * without a load); an app ship that fails stops it.
 */
export async function shipImages(
  host: DockerHost,
  deployer: LocalHost,
  spec: ShipSpec,
  secrets: StepSecrets,
  log: (line: string) => void,
): Promise<{ app: ShipResult; proxy?: ShipResult }> {
  const signal = () => {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => (fire = resolve));
    return { fired, fire };
  };
  const saved = signal();
  const baseThere = signal();
  const app = shipImage(host, deployer, spec, spec.image, secrets, log, { onSaved: saved.fire, onLoaded: baseThere.fire, onBaseOnHost: baseThere.fire });
  app.then(saved.fire, saved.fire);
  const baseOnHost = Promise.race([baseThere.fired, app]);
  // Read only when the proxy's image is sent: a proxy already there must not leave it unhandled.
  baseOnHost.catch(() => undefined);
  const proxy = spec.proxyImage ? shipImage(host, deployer, spec, spec.proxyImage, secrets, log, { saveAfter: saved.fired, hostLayersAfter: baseOnHost }) : undefined;
  const [shippedApp, shippedProxy] = await Promise.allSettled([app, proxy]);
  // The app's error first: the proxy's then only repeats it.
  if (shippedApp.status === "rejected") throw shippedApp.reason;
  if (shippedProxy.status === "rejected") throw shippedProxy.reason;
  return { app: shippedApp.value, ...(shippedProxy.value ? { proxy: shippedProxy.value } : {}) };
}

export async function shipImage(
  host: DockerHost,
  deployer: LocalHost,
  spec: ShipSpec,
  image: ShipImage,
  secrets: StepSecrets,
  log: (line: string) => void,
  options: ShipOptions = {},
): Promise<ShipResult> {
  const tag = image.serverTag;
  const onHost = await inspectImage(host, tag);
  if (onHost) {
    // The tag is only ever set after a verified load or pull.
    log(`image ${tag} is already on ${host.description}`);
    return { action: "present", serverTag: tag, bytesSent: 0 };
  }
  if (spec.target.kind === "local") {
    const local = await builtImage(deployer, image);
    await deployer.run(tagImage(local.id, tag));
    log(`tagged ${image.name} (${image.identity}) as ${tag}`);
    return { action: "tagged", serverTag: tag, bytesSent: 0 };
  }
  if (spec.registry) {
    const bytesSent = await pull(host, spec.registry, image, secrets, log);
    await verify(host, tag, (await inspectImage(deployer, image.identity))?.layers, log);
    return { action: "pulled", serverTag: tag, bytesSent };
  }
  const local = await builtImage(deployer, image);
  const clock = new PhaseClock();
  const bytesSent = await copy(host, deployer, local, image, log, clock, options);
  log(`shipped ${tag}: ${(bytesSent / 1e6).toFixed(1)} MB sent; took ${clock.summary()}`);
  return { action: "copied", serverTag: tag, bytesSent };
}

/** The image docker.Image built, found by its identity (local ID, or a digest it was pushed as). */
async function builtImage(deployer: DockerHost, wanted: ShipImage): Promise<ImageInfo> {
  const image = await inspectImage(deployer, wanted.identity);
  if (!image) {
    throw new Error(
      `the image ${wanted.name} (${wanted.identity}) is not in the local Docker engine, and the host does not have it either. ` +
        `Build it again: \`pulumi up --replace <the image's URN>\` (\`pulumi stack --show-urns\` lists it), or change the project so it rebuilds.`,
    );
  }
  return image;
}

/**
 * Ships only the layers the host lacks: `docker save` on the deployer, unpacked; the host's
 * images say which leading layers it already holds (after pulling the base through its mirrors,
 * when it holds none); the rest goes, gzip'd, into `docker load`. If that load or its
 * verification fails (a layer evicted meanwhile, say), every layer goes. Returns the bytes of
 * the archives sent.
 */
async function copy(host: DockerHost, deployer: LocalHost, local: ImageInfo, image: ShipImage, log: (line: string) => void, clock: PhaseClock, order: ShipOptions): Promise<number> {
  const tag = image.serverTag;
  // The host is asked, and pulls the base, while the deployer saves (settled here: a rejection
  // is read after the save).
  const onHost = layersOnHost(host, deployer, local, image, log, clock, order).then(
    (layers) => ({ layers }),
    (error: Error) => ({ error }),
  );
  // Saved under the server tag, so the host's load names it the same on either image store.
  await deployer.run(tagImage(local.id, tag));
  let saved: SavedImage | undefined;
  try {
    saved = await saveOnDeployer(deployer, tag, clock, order);
    const held = await onHost;
    if ("error" in held) throw held.error;
    const skip = presentPrefix(local.layers, held.layers);
    const ready = saved;
    let bytesSent = 0;
    const send = async (from: number) => {
      await sendLayers(host, ready, tag, from, (n) => (bytesSent += n), log, clock);
      order.onLoaded?.();
      await clock.time("verify", () => verify(host, tag, local.layers, log));
    };
    try {
      await send(skip);
    } catch (err) {
      if (skip === 0) throw err;
      log(`the partial load failed (${(err as Error).message}); sending every layer`);
      await send(0);
    }
    return bytesSent;
  } finally {
    saved?.dispose();
    await deployer.run(removeImages([tag]), { allowFailure: true });
  }
}

/** The host's images' layers, once `hostLayersAfter` settles; with none of this image's, its base pulled through the host's mirrors. */
async function layersOnHost(host: DockerHost, deployer: LocalHost, local: ImageInfo, image: ShipImage, log: (line: string) => void, clock: PhaseClock, order: ShipOptions): Promise<string[][]> {
  if (order.hostLayersAfter) await clock.time("waiting to send", () => order.hostLayersAfter!);
  const layers = await hostImageLayers(host);
  if (!image.base || presentPrefix(local.layers, layers) > 0) return layers;
  const base = await clock.time("base from mirror", () => pullBase(host, deployer, image.base!, log));
  if (!base) return layers;
  if (presentPrefix(local.layers, [base]) === 0) log(`the mirror's ${image.base} is not the one this image was built on (other layers); sending every layer`);
  else order.onBaseOnHost?.();
  return [...layers, base];
}

/** `docker save` of `tag` on the deployer, unpacked, once `saveAfter` settles; `onSaved` is called either way. */
async function saveOnDeployer(deployer: LocalHost, tag: string, clock: PhaseClock, order: ShipOptions): Promise<SavedImage> {
  try {
    if (order.saveAfter) await clock.time("waiting to save", () => order.saveAfter!.catch(() => undefined));
    const save = deployer.spawn(saveImage(tag));
    save.stdin.end();
    let saveErr = "";
    save.stderr.on("data", (d: Buffer) => (saveErr += d));
    const exited = new Promise<number | null>((resolve) => save.on("close", resolve));
    const saved = await clock.time("docker save", () =>
      unpackSave(save.stdout).catch(async (err: Error) => {
        throw new Error(`docker save ${tag} failed: ${(await exited) ? saveErr.trim() : err.message}`);
      }),
    );
    if ((await exited) !== 0) {
      saved.dispose();
      throw new Error(`docker save ${tag} exited with an error: ${saveErr.trim()}`);
    }
    return saved;
  } finally {
    order.onSaved?.();
  }
}

/** The layers from `from` on into the host's `docker load`; `count` gets the archive's bytes as they go, a failed load's too. */
async function sendLayers(host: DockerHost, image: SavedImage, tag: string, from: number, count: (bytes: number) => void, log: (line: string) => void, clock: PhaseClock): Promise<void> {
  const bytes = image.layers.slice(from).reduce((n, l) => n + l.size, 0);
  log(`${tag}: sending ${image.layers.length - from} of ${image.layers.length} layers (${(bytes / 1e6).toFixed(1)} MB before compression); the host has the first ${from}`);
  await clock.time("check layers", () => checkLayers(image, from));
  // Counted on the archive itself: the other image's may be sent at the same time.
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      count(chunk.length);
      done(null, chunk);
    },
  });
  const archive = pipeline(layerArchive(image, tag, from), counted, () => undefined);
  const load = await clock.time("send and docker load", () => host.run(loadImage(), { stdin: archive, allowFailure: true }));
  for (const line of `${load.stdout}${load.stderr}`.split("\n")) if (line.trim()) log(`docker load: ${line.trim()}`);
  if (load.code !== 0) throw new Error(`docker load on ${host.description} exited ${load.code}`);
}

/** How long a host may take to pull the base through its mirrors before every layer is sent instead. */
export const BASE_PULL_TIMEOUT_SECONDS = 300;

/**
 * The base's layers on the host, pulled through the registry mirrors its daemon is configured
 * with (Docker Hub images only: mirrors serve no other registry). By digest when the deployer
 * knows the one it built on, so the layers are the same. Undefined when there is no mirror or
 * the pull fails: then every layer is sent, as without a mirror.
 */
async function pullBase(host: DockerHost, deployer: DockerHost, base: string, log: (line: string) => void): Promise<string[] | undefined> {
  const name = normalizedName(base);
  if (!name.startsWith("docker.io/")) return undefined;
  const mirrors = JSON.parse((await host.run(registryMirrors())).stdout.trim() || "null") as string[] | null;
  if (!mirrors?.length) return undefined;
  const ref = await pinnedReference(deployer, base);
  log(`pulling the base ${ref} on ${host.description} through its registry mirror${mirrors.length > 1 ? "s" : ""} ${mirrors.join(", ")}`);
  const pulled = await host.run(pullThroughMirrors(ref, BASE_PULL_TIMEOUT_SECONDS), { allowFailure: true });
  if (pulled.code !== 0) {
    const why = pulled.code === 124 ? `no answer within ${BASE_PULL_TIMEOUT_SECONDS} s` : (pulled.stderr || pulled.stdout).trim();
    log(`the base did not come through the mirror (${why}); sending every layer`);
    return undefined;
  }
  return (await inspectImage(host, ref))?.layers;
}

/** `base` by the digest the deployer pulled it as, when it did; else as written. */
async function pinnedReference(deployer: DockerHost, base: string): Promise<string> {
  // A Docker Hub name has no port: its repository ends at the tag's ':' or the digest's '@'.
  const repository = normalizedName(base).split(/[:@]/)[0];
  const local = await inspectImage(deployer, base).catch(() => undefined);
  const digest = local?.repoDigests.find((d) => normalizedName(d).startsWith(`${repository}@`));
  return digest ?? base;
}

/** The layer lists of every image on the host. */
async function hostImageLayers(host: DockerHost): Promise<string[][]> {
  const ids = [...new Set((await host.run(allImageIds())).stdout.split("\n").filter(Boolean))];
  if (ids.length === 0) return [];
  const images = JSON.parse((await host.run(inspectImages(ids))).stdout) as { RootFS: { Layers?: string[] } }[];
  return images.map((i) => i.RootFS.Layers ?? []);
}

/** Returns the bytes it sent: the password, on the login's stdin (the layers come from the registry). */
async function pull(host: DockerHost, registry: NonNullable<ShipSpec["registry"]>, image: ShipImage, secrets: StepSecrets, log: (line: string) => void): Promise<number> {
  if (!secrets.registryPassword) throw new Error(`the registry password for ${registry.server} was not given on stdin`);
  const configDir = (await host.run(makeTempDir())).stdout.trim();
  try {
    await host.run(registryLogin(configDir, registry.server, registry.username), { stdin: secrets.registryPassword });
    const bytesSent = Buffer.byteLength(secrets.registryPassword);
    log(`pulling ${image.identity}`);
    await host.run(pullImage(configDir, image.identity));
    await host.run(tagImage(image.identity, image.serverTag));
    return bytesSent;
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
  // Both at once: a failed check removes the tag either way, and the smoke run is harmless.
  const [loaded, smoke] = await Promise.all([inspectImage(host, tag), host.run(smokeTest(tag), { allowFailure: true })]);
  if (!loaded) throw new Error(`after shipping, ${host.description} has no image ${tag}`);
  if (layers && JSON.stringify(loaded.layers) !== JSON.stringify(layers)) {
    await host.run(removeImages([tag]), { allowFailure: true });
    throw new Error(`the image ${tag} on ${host.description} has other layers than the one built (${loaded.layers.length} vs ${layers.length}); the tag was removed`);
  }
  if (smoke.code !== 0) {
    await host.run(removeImages([tag]), { allowFailure: true });
    throw new Error(`the image ${tag} on ${host.description} does not start (docker run --rm exited ${smoke.code}): ${(smoke.stderr || smoke.stdout).trim()}; the tag was removed`);
  }
  log(`verified ${tag}: ${loaded.layers.length} layers, it starts`);
}
