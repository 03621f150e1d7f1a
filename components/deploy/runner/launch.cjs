// Usage: node components/deploy/runner/launch.cjs <step>   (what every step's local.Command runs)
// Starts the deployer (main.ts) from one bundled file, built by esbuild the first time a version
// of the sources runs and kept in node_modules/.cache/pydeploy: `node --import tsx main.ts`
// transforms and resolves every module on each step (about 0.7 s here), the bundle starts in
// about 0.3 s. Packages stay external: they load from node_modules as under tsx. Each module's
// __dirname is its own folder, as under tsx: the deployer runs scripts that lie beside its modules.
// @ts-check
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const COMPONENTS = path.resolve(__dirname, "../..");
const PROJECT = path.dirname(COMPONENTS);
const ENTRY = path.join(__dirname, "main.ts");
const CACHE = path.join(PROJECT, "node_modules", ".cache", "pydeploy");
/** Bundles of other source versions are removed once this old (a run in progress may still use one). */
const STALE_MS = 24 * 3600 * 1000;

/** Every TypeScript file under components/, by path and content, with esbuild's version, tsconfig.json and this file (how it builds). */
function sourcesKey() {
  const hash = crypto.createHash("sha256");
  hash.update(require("esbuild/package.json").version);
  hash.update(fs.readFileSync(__filename));
  hash.update(fs.readFileSync(path.join(PROJECT, "tsconfig.json")));
  const files = fs
    .readdirSync(COMPONENTS, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .sort();
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(fs.readFileSync(path.join(COMPONENTS, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

/** Writes each component module's folder in place of its `__dirname`, which in a bundle would be the cache's. */
const ownDirname = {
  name: "own-dirname",
  /** @param {import("esbuild").PluginBuild} b */
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(COMPONENTS + path.sep)) return undefined;
      const source = fs.readFileSync(args.path, "utf8");
      return { contents: source.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))), loader: "ts" };
    });
  },
};

/**
 * Builds the bundle under a unique name and renames it into place: steps started side by side may race.
 * @param {string} bundle
 */
async function build(bundle) {
  const esbuild = require("esbuild");
  const partial = `${bundle}.${process.pid}.partial`;
  fs.mkdirSync(CACHE, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: [ENTRY],
      outfile: partial,
      bundle: true,
      platform: "node",
      target: `node${process.versions.node}`,
      format: "cjs",
      packages: "external",
      logLevel: "silent",
      plugins: [ownDirname],
    });
    fs.renameSync(partial, bundle);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    const detail = err && typeof err === "object" && "errors" in err && Array.isArray(err.errors) && err.errors.length > 0
      ? err.errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`).join("; ")
      : String(err instanceof Error ? err.message : err);
    throw new Error(`could not build the deployer (${path.relative(PROJECT, ENTRY)}) into ${path.relative(PROJECT, CACHE)}: ${detail}`);
  }
  for (const name of fs.readdirSync(CACHE)) {
    const file = path.join(CACHE, name);
    if (file !== bundle && name.startsWith("runner-") && Date.now() - fs.statSync(file).mtimeMs > STALE_MS) fs.rmSync(file, { force: true });
  }
}

async function main() {
  let bundle;
  try {
    bundle = path.join(CACHE, `runner-${sourcesKey()}.cjs`);
    if (!fs.existsSync(bundle)) await build(bundle);
  } catch (err) {
    process.stderr.write(`pydeploy: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  // main.ts reads its step from argv[2], as when run directly.
  require(bundle);
}

void main();
