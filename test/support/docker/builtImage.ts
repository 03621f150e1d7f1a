// The tests' helper images built on the local base (HAProxy, pebble, the PyPI base): each tagged
// by a hash of its build context and the base image's ID, so it is built once per version of them.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BASE_IMAGE, docker } from "./localEngine";

/** A file of the build context: its content, and its mode when it must be executable. */
export type ContextFile = string | Buffer | { content: string | Buffer; mode: number };

/** Builds `repository:<hash>` from these context files (Dockerfile among them) unless it exists; returns the tag. */
export async function ensureBuiltImage(repository: string, files: Record<string, ContextFile>, o: { timeoutMs?: number } = {}): Promise<string> {
  const base = (await docker(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE])).stdout.trim();
  const hash = createHash("sha256");
  for (const [name, file] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(name).update("\0").update(contentOf(file)).update("\0");
  }
  const tag = `${repository}:${hash.update(base).digest("hex").slice(0, 12)}`;
  if ((await docker(["image", "inspect", tag], { allowFailure: true })).code === 0) return tag;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-test-image-"));
  try {
    for (const [name, file] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, name), contentOf(file));
      if (typeof file === "object" && !Buffer.isBuffer(file)) fs.chmodSync(path.join(dir, name), file.mode);
    }
    await docker(["build", "--quiet", "-t", tag, dir], { env: { ...process.env, DOCKER_BUILDKIT: "0" }, timeoutMs: o.timeoutMs ?? 10 * 60_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

const contentOf = (file: ContextFile): string | Buffer => (typeof file === "string" || Buffer.isBuffer(file) ? file : file.content);
