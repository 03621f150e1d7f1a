// An image archive that leaves out the layers the host already has, loadable by `docker load`
// on both image stores (shipping-and-proxy.md, "`docker load` when the server already has some
// layers"):
// - the classic store reads manifest.json and never opens the file of a layer whose chain it
//   holds, so a leading run of present layers may be missing from the tar;
// - the containerd store reads the OCI layout (index.json) and accepts absent layer blobs whose
//   snapshot it already has; a Docker-format archive with missing files it rejects.
// So the archive carries both: an OCI index and manifest whose layers are the uncompressed tars
// (digest = diffID), and a manifest.json pointing at the same blobs.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import * as tar from "tar";

export interface SavedLayer {
  diffId: string;
  /** Bytes of the uncompressed layer tar. */
  size: number;
  /** The uncompressed layer tar on disk. */
  file: string;
  /** Its path in the save, for errors. */
  savedAs: string;
  /** Whether the file was hashed and found to be `diffId` (a plain tar is hashed only when it is sent: checkLayers). */
  checked: boolean;
}

/** A `docker save` unpacked on the deployer: its config and its layers, by diffID. */
export interface SavedImage {
  dir: string;
  configDigest: string;
  configFile: string;
  layers: SavedLayer[];
  dispose(): void;
}

interface SaveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * Unpacks a `docker save` stream (the legacy layout of Docker ≤ 24, or the OCI + manifest.json
 * layout of Docker ≥ 25 and the containerd store, whose blobs may be gzip'd) into a temp dir.
 * A gzip'd layer is unpacked and checked against the config's diff_ids here; a plain one, which
 * is most of an image, only by checkLayers, when it is sent: the host's layers are never read.
 */
export async function unpackSave(save: Readable): Promise<SavedImage> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-save-"));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const raw = path.join(dir, "raw");
    fs.mkdirSync(raw);
    await pipeline(save, tar.x({ cwd: raw, strict: true }));
    const manifest = JSON.parse(fs.readFileSync(path.join(raw, "manifest.json"), "utf8")) as SaveManifestEntry[];
    if (manifest.length !== 1) throw new Error(`docker save wrote ${manifest.length} images; expected exactly one`);
    const configFile = path.join(raw, manifest[0].Config);
    const configBytes = fs.readFileSync(configFile);
    const configDigest = `sha256:${createHash("sha256").update(configBytes).digest("hex")}`;
    const diffIds = (JSON.parse(configBytes.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    if (diffIds.length !== manifest[0].Layers.length) throw new Error(`docker save: ${manifest[0].Layers.length} layers, but the config lists ${diffIds.length}`);
    const layers: SavedLayer[] = [];
    for (const [i, layerPath] of manifest[0].Layers.entries()) {
      const layer = await uncompressedLayer(path.join(raw, layerPath), path.join(dir, `layer-${i}.tar`));
      const saved = { diffId: diffIds[i], size: layer.size, file: layer.file, savedAs: layerPath, checked: layer.digest !== undefined };
      if (layer.digest !== undefined) mustBeDiffId(i, saved, layer.digest);
      layers.push(saved);
    }
    return { dir, configDigest, configFile, layers, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/** Hashes the layers from `from` on that were not yet, each against its diffID. */
export async function checkLayers(image: SavedImage, from: number): Promise<void> {
  for (const [i, layer] of image.layers.entries()) {
    if (i < from || layer.checked) continue;
    const hash = createHash("sha256");
    for await (const chunk of fs.createReadStream(layer.file)) hash.update(chunk as Buffer);
    mustBeDiffId(i, layer, `sha256:${hash.digest("hex")}`);
    layer.checked = true;
  }
}

function mustBeDiffId(index: number, layer: SavedLayer, digest: string): void {
  if (digest !== layer.diffId) throw new Error(`docker save: layer ${index} (${layer.savedAs}) is ${digest}, not the config's ${layer.diffId}`);
}

/**
 * The layer as an uncompressed tar on disk: a plain tar is used where it lies (an image is mostly
 * one big base layer: no second copy, not read here); a gzip'd blob is unpacked to `target` and
 * hashed on the way (its digest).
 */
async function uncompressedLayer(source: string, target: string): Promise<{ file: string; digest?: string; size: number }> {
  const head = Buffer.alloc(2);
  const fd = fs.openSync(source, "r");
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  if (!head.equals(GZIP_MAGIC)) return { file: source, size: fs.statSync(source).size };
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(fs.createReadStream(source), createGunzip(), async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }, fs.createWriteStream(target));
  return { file: target, digest: `sha256:${hash.digest("hex")}`, size };
}

/**
 * How many leading layers of `ours` the host holds as a chain: the longest prefix that is also
 * a prefix of one of its images' layers (a layer is only reusable on top of the same parents).
 */
export function presentPrefix(ours: string[], hostImages: string[][]): number {
  let best = 0;
  for (const theirs of hostImages) {
    let n = 0;
    while (n < ours.length && n < theirs.length && ours[n] === theirs[n]) n++;
    best = Math.max(best, n);
  }
  return best;
}

/**
 * The archive to ship, gzip'd, as a stream: every layer listed, only those from `skip` on
 * included. Named `tag` on either store. Written to a staging dir first (hard links, no copies).
 */
export function layerArchive(image: SavedImage, tag: string, skip: number): Readable {
  const stage = path.join(image.dir, `archive-${skip}`);
  fs.rmSync(stage, { recursive: true, force: true });
  const blobs = path.join(stage, "blobs", "sha256");
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (digest: string) => path.join(blobs, digest.slice("sha256:".length));
  const blobPath = (digest: string) => `blobs/sha256/${digest.slice("sha256:".length)}`;

  fs.linkSync(image.configFile, blob(image.configDigest));
  image.layers.slice(skip).forEach((l) => {
    if (!fs.existsSync(blob(l.diffId))) fs.linkSync(l.file, blob(l.diffId));
  });
  const ociManifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: image.configDigest, size: fs.statSync(image.configFile).size },
    layers: image.layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: l.diffId, size: l.size })),
  });
  const manifestDigest = `sha256:${createHash("sha256").update(ociManifest).digest("hex")}`;
  fs.writeFileSync(blob(manifestDigest), ociManifest);
  const [, reference] = /:([^/:]+)$/.exec(tag) ?? [];
  fs.writeFileSync(path.join(stage, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(
    path.join(stage, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifestDigest,
          size: Buffer.byteLength(ociManifest),
          annotations: { "io.containerd.image.name": normalizedName(tag), "org.opencontainers.image.ref.name": reference },
        },
      ],
    }),
  );
  fs.writeFileSync(
    path.join(stage, "manifest.json"),
    JSON.stringify([{ Config: blobPath(image.configDigest), RepoTags: [tag], Layers: image.layers.map((l) => blobPath(l.diffId)) }]),
  );
  return tar.c({ cwd: stage, portable: true, gzip: { level: 6 } }, fs.readdirSync(stage)) as unknown as Readable;
}

/**
 * The fully qualified name the containerd image store keys images by ("pydeploy/demo:x" is
 * "docker.io/pydeploy/demo:x"); an OCI archive named otherwise loads under a name Docker
 * cannot find (seen on docker.io 26.1 with the containerd store).
 */
export function normalizedName(ref: string): string {
  const [first, ...rest] = ref.split("/");
  const hasDomain = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasDomain) return ref;
  return rest.length === 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
}
