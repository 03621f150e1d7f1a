// A `docker save` archive made in the test process, no Docker engine needed: one image whose
// layers are small tars (stored plain or gzip'd, as either image store saves them), a config
// listing their diffIDs and a manifest.json, in the legacy layout unpackSave reads.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar";

export interface SyntheticSave {
  /** The whole `docker save` output. */
  archive: Buffer;
  /** The layers' diffIDs (sha256 of each uncompressed tar), in order. */
  diffIds: string[];
  /** The config's digest, as unpackSave computes it. */
  configDigest: string;
}

export interface SaveLayout {
  tag: string;
  /** One text file per layer (layer.txt), this content. */
  layers: string[];
  /** Which layers are stored gzip'd (default none). */
  gzipped?: boolean[];
  /** Overrides, to make a broken save. */
  manifest?: (entry: { Config: string; RepoTags: string[]; Layers: string[] }) => unknown[];
  diffIds?: (real: string[]) => string[];
}

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export function syntheticSave(layout: SaveLayout): SyntheticSave {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-synthetic-save-"));
  try {
    const out = path.join(dir, "out");
    fs.mkdirSync(out);
    const layerPaths: string[] = [];
    const diffIds: string[] = [];
    layout.layers.forEach((content, i) => {
      const src = path.join(dir, `src-${i}`);
      fs.mkdirSync(src);
      // Same name and mtime in every layer: equal contents make equal layers.
      fs.writeFileSync(path.join(src, "layer.txt"), content);
      fs.utimesSync(path.join(src, "layer.txt"), 0, 0);
      const layerTar = path.join(dir, `layer-${i}.tar`);
      tar.c({ cwd: src, file: layerTar, sync: true, portable: true }, ["layer.txt"]);
      const bytes = fs.readFileSync(layerTar);
      diffIds.push(sha256(bytes));
      fs.mkdirSync(path.join(out, String(i)));
      const stored = `${i}/layer.tar`;
      fs.writeFileSync(path.join(out, stored), layout.gzipped?.[i] ? gzipSync(bytes) : bytes);
      layerPaths.push(stored);
    });
    const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layout.diffIds ? layout.diffIds(diffIds) : diffIds } });
    fs.writeFileSync(path.join(out, "config.json"), config);
    const entry = { Config: "config.json", RepoTags: [layout.tag], Layers: layerPaths };
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(layout.manifest ? layout.manifest(entry) : [entry]));
    const archive = path.join(dir, "save.tar");
    tar.c({ cwd: out, file: archive, sync: true, portable: true }, fs.readdirSync(out));
    return { archive: fs.readFileSync(archive), diffIds, configDigest: sha256(config) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The entries of a (gzip'd) tar stream: path -> content. */
export async function readArchive(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const parser = new tar.Parser();
  parser.on("entry", (entry: tar.ReadEntry) => {
    const chunks: Buffer[] = [];
    entry.on("data", (c: Buffer) => chunks.push(c));
    entry.on("end", () => entries.set(entry.path, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve, reject) => {
    parser.on("end", resolve);
    parser.on("error", reject);
    stream.pipe(parser);
  });
  return entries;
}
