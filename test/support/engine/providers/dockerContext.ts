// The build-context digest @pulumi/docker 5.x's docker.Image Check adds as build.contextDigest
// (pulumi-docker provider/provider.go hashContext, getIgnorePatterns): sha256 over, first the
// Dockerfile's content under the name "Dockerfile" (mode 0), then every file of the context
// that the ignore file does not exclude, in walk order, each as
// "<relative path><Go FileMode string><sha256 of content (symlinks: of the target path)>\0".
// The ignore file is "<dockerfile>.dockerignore" if present, else "<context>/.dockerignore";
// patterns are matched with @balena/dockerignore (Docker's rules).
import ignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The ignore file the provider reads, or undefined. Paths as given (relative to `cwd`). */
export function ignoreFileFor(cwd: string, context: string, dockerfile: string): string | undefined {
  for (const candidate of [`${dockerfile}.dockerignore`, path.join(context, ".dockerignore")]) {
    if (fs.existsSync(path.resolve(cwd, candidate))) return candidate;
  }
  return undefined;
}

/** Go's fs.FileMode.String() for what a build context holds (files, dirs, symlinks, special bits). */
export function goFileMode(mode: number, kind: "file" | "dir" | "symlink"): string {
  let prefix = "";
  if (kind === "dir") prefix += "d";
  if (kind === "symlink") prefix += "L";
  if (mode & 0o4000) prefix += "u";
  if (mode & 0o2000) prefix += "g";
  if (mode & 0o1000) prefix += "t";
  if (prefix === "") prefix = "-";
  const rwx = "rwxrwxrwx";
  let perms = "";
  for (let i = 0; i < 9; i++) perms += mode & (1 << (8 - i)) ? rwx[i] : "-";
  return prefix + perms;
}

function walk(root: string, rel: string, out: string[]): void {
  const entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true }).map((e) => e.name).sort();
  for (const name of entries) {
    const childRel = rel ? `${rel}/${name}` : name;
    out.push(childRel);
    const st = fs.lstatSync(path.join(root, childRel));
    if (st.isDirectory()) walk(root, childRel, out);
  }
}

/** hashContext(context, dockerfile), both relative to `cwd` (the provider's working directory) or absolute. */
export function contextDigest(cwd: string, context: string, dockerfile: string): string {
  const contextDir = path.resolve(cwd, context);
  const ignoreFile = ignoreFileFor(cwd, context, dockerfile);
  const patterns = ignoreFile ? fs.readFileSync(path.resolve(cwd, ignoreFile), "utf8") : "";
  const ig = ignore().add(patterns.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#")));

  const input: Buffer[] = [];
  const add = (name: string, mode: string, contentHash: Buffer) => input.push(Buffer.from(name), Buffer.from(mode), contentHash, Buffer.from([0]));
  const sha = (data: Buffer | string) => createHash("sha256").update(data).digest();

  add("Dockerfile", goFileMode(0, "file"), sha(fs.readFileSync(path.resolve(cwd, dockerfile))));
  const all: string[] = [];
  walk(contextDir, "", all);
  for (const rel of all) {
    if (ig.ignores(rel)) continue;
    const abs = path.join(contextDir, rel);
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) continue;
    if (st.isSymbolicLink()) {
      // filepath.EvalSymlinks of the joined path: relative when the context was given relative.
      const target = fs.realpathSync(abs);
      const shown = path.isAbsolute(context) ? target : path.relative(cwd, target);
      add(rel, goFileMode(st.mode & 0o7777, "symlink"), sha(shown.split(path.sep).join("/")));
    } else {
      add(rel, goFileMode(st.mode & 0o7777, "file"), sha(fs.readFileSync(abs)));
    }
  }
  return createHash("sha256").update(Buffer.concat(input)).digest("hex");
}
