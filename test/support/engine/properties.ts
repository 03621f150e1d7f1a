// Property values in the Pulumi RPC wire form (what the Node SDK sends the monitor with secrets
// and resource references enabled): secrets, assets and archives are objects tagged with a
// signature key, unknowns the sentinel string. The engine model keeps values in this form so
// state round-trips to JSON with secretness and unknowns intact. Diff and path semantics follow
// pulumi/pulumi sdk/go/common/resource (properties_diff.go DeepEquals, properties_path.go
// Contains/Reset) at pkg/v3.248.0.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };
export type PropertyMap = Record<string, Wire>;

// The SDK's constants (@pulumi/pulumi runtime/rpc.js): kept literal so pure helpers need no Pulumi import.
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
/** The RPC unknown sentinel: an output the SDK resolves as unknown, so apply() callbacks do not run. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type WireObject = { [key: string]: Wire };

export function isObject(v: Wire | undefined): v is WireObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function hasSig(v: Wire | undefined, sig: string): v is WireObject {
  return isObject(v) && v[SIG_KEY] === sig;
}
export const isSecret = (v: Wire | undefined): v is WireObject => hasSig(v, SECRET_SIG);
export const isAsset = (v: Wire | undefined): v is WireObject => hasSig(v, ASSET_SIG);
export const isArchive = (v: Wire | undefined): v is WireObject => hasSig(v, ARCHIVE_SIG);
export const isResourceRef = (v: Wire | undefined): v is WireObject => hasSig(v, RESOURCE_SIG);
export const isUnknown = (v: Wire | undefined): boolean => v === UNKNOWN;

export function secret(v: Wire): Wire {
  return isSecret(v) ? v : { [SIG_KEY]: SECRET_SIG, value: v };
}

/** A plain (non-signature) object: walk into it. */
function isPlainObject(v: Wire | undefined): v is WireObject {
  return isObject(v) && v[SIG_KEY] === undefined;
}

/** The value with every secret wrapper removed (deeply): what a provider actually uses. */
export function reveal(v: Wire): Wire {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

export function revealMap(m: PropertyMap): Record<string, any> {
  return reveal(m) as Record<string, any>;
}

export function containsUnknowns(v: Wire | undefined): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknowns);
  if (isSecret(v)) return containsUnknowns(v.value);
  if (isPlainObject(v)) return Object.values(v).some(containsUnknowns);
  return false;
}

export function containsSecrets(v: Wire | undefined): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecrets);
  if (isPlainObject(v)) return Object.values(v).some(containsSecrets);
  return false;
}

/** Go's HasValue: null and absent are the same. */
const hasValue = (v: Wire | undefined): boolean => v !== undefined && v !== null;

/** PropertyValue.DeepEquals: secret vs plain differs; assets and archives compare by content hash and source. */
export function deepEqual(a: Wire | undefined, b: Wire | undefined): boolean {
  if (!hasValue(a) || !hasValue(b)) return !hasValue(a) && !hasValue(b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isAsset(a) || isArchive(a)) {
    if (!isObject(b) || b[SIG_KEY] !== a[SIG_KEY]) return false;
    return ["hash", "path", "text", "uri"].every((k) => deepEqual(a[k], b[k])) && deepEqual(a.assets, b.assets);
  }
  if (isSecret(a)) return isSecret(b) && deepEqual(a.value, b.value);
  if (isObject(a)) {
    if (!isObject(b) || isSecret(b)) return false;
    return mapsEqual(a, b);
  }
  return a === b;
}

export function mapsEqual(a: PropertyMap, b: PropertyMap): boolean {
  for (const k of Object.keys(a)) if (!deepEqual(a[k], b[k])) return false;
  for (const k of Object.keys(b)) if (!(k in a) && hasValue(b[k])) return false;
  return true;
}

export type DiffKind = "add" | "delete" | "update";

/**
 * The detailed diff of two input maps, keyed by property path ("a.b[0]"), as
 * plugin.NewDetailedDiffFromObjectDiff makes it: objects and arrays recurse, anything else
 * (secrets, assets, unknowns, scalars) is a leaf.
 */
export function detailedDiff(olds: PropertyMap, news: PropertyMap): Map<string, DiffKind> {
  const out = new Map<string, DiffKind>();
  diffObjects(olds, news, [], out);
  return out;
}

function diffObjects(olds: WireObject, news: WireObject, at: PathElement[], out: Map<string, DiffKind>): void {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  for (const k of [...keys].sort()) {
    const o = olds[k];
    const n = news[k];
    if (!hasValue(o) && hasValue(n)) out.set(formatPath([...at, k]), "add");
    else if (hasValue(o) && !hasValue(n)) out.set(formatPath([...at, k]), "delete");
    else if (hasValue(o) && hasValue(n)) diffValues(o, n, [...at, k], out);
  }
}

function diffValues(o: Wire, n: Wire, at: PathElement[], out: Map<string, DiffKind>): void {
  if (Array.isArray(o) && Array.isArray(n)) {
    for (let i = 0; i < Math.max(o.length, n.length); i++) {
      if (i >= o.length) out.set(formatPath([...at, i]), "add");
      else if (i >= n.length) out.set(formatPath([...at, i]), "delete");
      else diffValues(o[i], n[i], [...at, i], out);
    }
    return;
  }
  if (isPlainObject(o) && isPlainObject(n)) {
    diffObjects(o, n, at, out);
    return;
  }
  if (!deepEqual(o, n)) out.set(formatPath(at), "update");
}

// ---- property paths (resource.PropertyPath) ----

export type PathElement = string | number;

/** Parses `a.b[0]["c.d"][*]` into its elements. */
export function parsePath(text: string): PathElement[] {
  const out: PathElement[] = [];
  let i = 0;
  const bad = () => new Error(`invalid property path ${JSON.stringify(text)}: expected names joined by "." and [index] or ["key"]`);
  while (i < text.length) {
    if (text[i] === "[") {
      const end = text.indexOf("]", i);
      if (end < 0) throw bad();
      const inner = text.slice(i + 1, end);
      if (inner.startsWith('"')) {
        const close = findClosingQuote(text, i + 1);
        out.push(JSON.parse(text.slice(i + 1, close + 1)) as string);
        if (text[close + 1] !== "]") throw bad();
        i = close + 2;
        continue;
      }
      if (inner === "*") out.push("*");
      else if (/^\d+$/.test(inner)) out.push(Number(inner));
      else throw bad();
      i = end + 1;
    } else {
      if (text[i] === ".") {
        if (out.length === 0) throw bad();
        i++;
      }
      let j = i;
      while (j < text.length && text[j] !== "." && text[j] !== "[") j++;
      if (j === i) throw bad();
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

function findClosingQuote(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  throw new Error(`invalid property path ${JSON.stringify(text)}: unterminated quote`);
}

export function formatPath(p: PathElement[]): string {
  return p
    .map((k, i) => {
      if (typeof k === "number") return `[${k}]`;
      if (/^[A-Za-z0-9_]+$/.test(k) || k === "*") return i === 0 ? k : `.${k}`;
      return `[${JSON.stringify(k)}]`;
    })
    .join("");
}

/** PropertyPath.Contains: `p` is a prefix of `other`, "*" matching any key or index. */
export function pathContains(p: PathElement[], other: PathElement[]): boolean {
  if (other.length < p.length) return false;
  return p.every((k, i) => k === "*" || k === other[i]);
}

/**
 * processIgnoreChanges (step_generator.go): each ignored path of the new inputs takes the old
 * inputs' value (or is removed when the old inputs lack it). Returns a new map.
 */
export function applyIgnoreChanges(news: PropertyMap, olds: PropertyMap, ignoreChanges: string[]): PropertyMap {
  const result = structuredClone(news) as WireObject;
  for (const text of ignoreChanges) resetAt(parsePath(text), olds, result, false);
  return result;
}

function resetAt(p: PathElement[], old: Wire | undefined, neu: Wire | undefined, oldSecret: boolean): void {
  if (p.length === 0) return;
  if (isSecret(old)) return resetAt(p, old.value, neu, true);
  if (isSecret(neu)) return resetAt(p, old, neu.value, oldSecret);
  const [key, ...rest] = p;
  const keys: PathElement[] =
    key === "*" ? (isPlainObject(old) ? Object.keys(old) : Array.isArray(old) ? old.map((_, i) => i) : []) : [key];
  for (const k of keys) {
    if (typeof k === "number") {
      if (!Array.isArray(old) || !Array.isArray(neu) || k >= old.length || k >= neu.length) continue;
      if (rest.length === 0) neu[k] = oldSecret ? secret(old[k]) : old[k];
      else resetAt(rest, old[k], neu[k], oldSecret);
    } else {
      if (!isPlainObject(neu)) continue;
      const oldValue = isPlainObject(old) ? old[k] : undefined;
      if (rest.length === 0) {
        if (oldValue === undefined) delete neu[k];
        else neu[k] = oldSecret ? secret(oldValue) : oldValue;
      } else resetAt(rest, oldValue, neu[k], oldSecret);
    }
  }
}

// ---- assets and archives ----

/**
 * Adds the content hash to every asset and archive, as the engine does when it receives a
 * registration (source_eval.go: ComputeAssetHashes, relative paths from the project dir).
 * A path that cannot be read fails, in preview too.
 */
export function hashAssets(m: PropertyMap, workingDir: string): PropertyMap {
  const walk = (v: Wire, key: string): Wire => {
    if (isAsset(v) || isArchive(v)) {
      if (typeof v.hash === "string" && v.hash) return v;
      try {
        return { ...v, hash: isAsset(v) ? assetHash(v, workingDir) : archiveHash(v, workingDir) };
      } catch (err) {
        throw new Error(`unmarshal properties: failed to compute ${isAsset(v) ? "asset" : "archive"} hash for "${key}": ${(err as Error).message}`);
      }
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (isSecret(v)) return { ...(v as WireObject), value: walk((v as WireObject).value, key) };
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, walk(v, k)]));
}

function assetHash(a: WireObject, workingDir: string): string {
  if (typeof a.text === "string") return sha256(Buffer.from(a.text));
  if (typeof a.path === "string") return sha256(fs.readFileSync(path.resolve(workingDir, a.path)));
  throw new Error("only path and text assets are modelled (no URI assets)");
}

// A directory archive's hash in Pulumi is the sha256 of a tar stream of it; this model hashes
// the same content (sorted relative paths and bytes) in its own framing: equal content, equal hash.
function archiveHash(a: WireObject, workingDir: string): string {
  if (typeof a.path === "string") {
    const p = path.resolve(workingDir, a.path);
    if (fs.statSync(p).isFile()) return sha256(fs.readFileSync(p));
    const h = createHash("sha256");
    for (const rel of listFiles(p)) h.update(rel).update("\0").update(fs.readFileSync(path.join(p, rel))).update("\0");
    return h.digest("hex");
  }
  if (isPlainObject(a.assets)) {
    const h = createHash("sha256");
    for (const k of Object.keys(a.assets).sort()) {
      const member = a.assets[k] as WireObject;
      h.update(k).update("\0").update(isAsset(member) ? assetHash(member, workingDir) : archiveHash(member, workingDir));
    }
    return h.digest("hex");
  }
  throw new Error("only path and asset-map archives are modelled (no URI archives)");
}

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every leaf of `v` that is not inside a secret, as text (for "no secret in plain state" checks). */
export function plainLeaves(v: Wire | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (isSecret(v)) return [];
  if (Array.isArray(v)) return v.flatMap(plainLeaves);
  if (isObject(v)) return Object.entries(v).flatMap(([k, x]) => (k === SIG_KEY ? [] : plainLeaves(x)));
  return [String(v)];
}
