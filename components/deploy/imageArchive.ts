// The local `docker save` archive that copy shipping uploads (no registry needed). Node + the
// local docker CLI; no Pulumi. Synchronous: the component calls it inside an apply.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { IMAGE_ID } from "./containerSpec";

const ARCHIVE = /^([0-9a-f]{64})\.tar\.gz$/;

/** Written next to each archive: which image repository (≈ app) it belongs to, for pruning. */
interface ArchiveMeta {
  repository: string;
  image: string;
  imageId: string;
}

/**
 * Ensures a gzip'd `docker save` of `image` exists at <cacheDir>/<hex of imageId>.tar.gz and
 * returns its path. The image is saved by ID (no tag inside: the load step tags it), and
 * `gzip -n` stores no name or time, so the same image always gives the same bytes. Reuses an
 * existing archive; writes through a temp file + rename. Keeps the newest `keep` archives of
 * the same image repository (a <hex>.json file beside each archive records it).
 */
export function ensureImageArchive(o: { image: string; imageId: string; cacheDir: string; keep?: number }): string {
  const keep = o.keep ?? 2;
  if (!IMAGE_ID.test(o.imageId)) throw new Error(`image id ${JSON.stringify(o.imageId)} must be sha256:<64 hex digits>`);
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be an integer >= 1, got ${keep}`);
  const actual = localImageId(o.image);
  if (actual !== o.imageId) {
    throw new Error(`local image ${o.image} has id ${actual}, not ${o.imageId}: it was rebuilt or retagged since; build it again`);
  }

  const hex = o.imageId.slice("sha256:".length);
  fs.mkdirSync(o.cacheDir, { recursive: true });
  const file = path.join(o.cacheDir, `${hex}.tar.gz`);
  if (fs.existsSync(file)) {
    // Newest by mtime is what pruning keeps.
    const now = new Date();
    fs.utimesSync(file, now, now);
  } else {
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      execFileSync("bash", ["-c", 'set -euo pipefail; docker save "$1" | gzip -n >"$2"', "bash", o.imageId, tmp], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`could not save image ${o.image} (${o.imageId}) to ${file}: ${stderrOf(err)}`);
    }
  }
  const meta: ArchiveMeta = { repository: repositoryOf(o.image), image: o.image, imageId: o.imageId };
  fs.writeFileSync(path.join(o.cacheDir, `${hex}.json`), JSON.stringify(meta) + "\n");
  pruneArchives(o.cacheDir, meta.repository, keep);
  return file;
}

function localImageId(image: string): string {
  try {
    return execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", image], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (err) {
    throw new Error(`local image ${image} not found (docker image inspect: ${stderrOf(err)})`);
  }
}

/** Removes this repository's archives beyond the newest `keep`; archives of other repositories stay. */
function pruneArchives(cacheDir: string, repository: string, keep: number): void {
  const mine = fs
    .readdirSync(cacheDir)
    .map((name) => ARCHIVE.exec(name)?.[1])
    .filter((hex): hex is string => hex !== undefined && readMeta(cacheDir, hex)?.repository === repository)
    .map((hex) => ({ hex, mtime: fs.statSync(path.join(cacheDir, `${hex}.tar.gz`)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { hex } of mine.slice(keep)) {
    fs.rmSync(path.join(cacheDir, `${hex}.tar.gz`), { force: true });
    fs.rmSync(path.join(cacheDir, `${hex}.json`), { force: true });
  }
}

function readMeta(cacheDir: string, hex: string): ArchiveMeta | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(cacheDir, `${hex}.json`), "utf8")) as ArchiveMeta;
  } catch {
    return undefined;
  }
}

/** "registry:5000/ns/demo:tag@sha256:..." -> "registry:5000/ns/demo". */
export function repositoryOf(image: string): string {
  return image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message?: string };
  const text = e.stderr ? e.stderr.toString().trim() : "";
  return text || e.message || String(err);
}
