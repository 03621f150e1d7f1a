// A PEP 503 package index on loopback, for image builds that install real third-party packages
// without PyPI: Debian bookworm's pure-Python packages (apt-get download, dpkg-deb -x, no install
// on this machine) repackaged as wheels, or Debian's own *-whl files. The built wheels are cached
// under a directory keyed by the exact .deb files, so a machine builds them once.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { zipSync, type Zippable } from "fflate";

const execFileAsync = promisify(execFile);

/** Debian packages the fixtures need; libjs-jquery resolves Django admin's symlinks to jQuery. */
export const DEBIAN_PACKAGES = [
  "python3-django",
  "python3-asgiref",
  "python3-sqlparse",
  "python3-tz",
  "python3-gunicorn",
  "python3-whitenoise",
  "python3-setuptools-whl",
  "python3-wheel-whl",
  "libjs-jquery",
];

// Debian's egg-info drops these upstream install_requires (Debian declares them as package
// dependencies instead); restored so pip resolves the same graph as from PyPI.
const UPSTREAM_REQUIRES: Record<string, string[]> = {
  django: ["asgiref>=3.3.2,<4", "pytz", "sqlparse>=0.2.2"],
  gunicorn: ["setuptools>=3.0"],
};

// Bump when the repackaging changes, so cached wheels are rebuilt.
const BUILDER_VERSION = "1";
const DIST_PACKAGES = "usr/lib/python3/dist-packages";
const PYTHON_WHEELS = "usr/share/python-wheels";
// Fixed zip timestamps: the same .deb files give byte-identical wheels, hence stable hashes.
const ZIP_MTIME = new Date("2020-01-01T00:00:00Z");

export interface Wheel {
  /** PEP 503 normalized project name, e.g. "django". */
  project: string;
  version: string;
  filename: string;
  sha256: string;
}

export interface WheelSet {
  dir: string;
  wheels: Wheel[];
  /** Debian package → version it was built from. */
  debs: Record<string, string>;
}

export function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

export function wheelCacheRoot(): string {
  return process.env.PYDEPLOY_WHEEL_CACHE ?? path.join(os.homedir(), ".cache", "pydeploy", "wheels");
}

/** The wheels for `packages`, from the cache or built now. Needs apt-get's package lists (apt-get update). */
export async function debianWheels(packages: string[] = DEBIAN_PACKAGES, cacheRoot = wheelCacheRoot()): Promise<WheelSet> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-wheels-"));
  try {
    const debs = await aptUris(packages, work);
    const key = createHash("sha256")
      .update([BUILDER_VERSION, ...debs.map((d) => `${d.filename} ${d.sha256}`).sort()].join("\n"))
      .digest("hex")
      .slice(0, 16);
    const dir = path.join(cacheRoot, key);
    const cached = readManifest(dir);
    if (cached) return cached;

    const debDir = path.join(work, "debs");
    const root = path.join(work, "root");
    const out = path.join(work, "out");
    for (const d of [debDir, root, out]) fs.mkdirSync(d);
    await run("apt-get", ["download", "-q", ...packages], debDir);
    for (const d of debs) {
      const file = path.join(debDir, d.filename);
      if (sha256(fs.readFileSync(file)) !== d.sha256) throw new Error(`${d.filename}: checksum differs from apt's index`);
      // Unpacked into one tree, like an install, so symlinks between packages resolve.
      await run("dpkg-deb", ["-x", file, root], work);
    }
    const wheels = [...repackageEggInfos(root, out), ...copyDebianWheels(root, out)];
    const manifest: WheelSet = {
      dir,
      wheels: wheels.sort((a, b) => a.filename.localeCompare(b.filename)),
      debs: Object.fromEntries(debs.map((d) => [d.package, d.version])),
    };
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify({ ...manifest, dir: undefined }, null, 2));
    fs.mkdirSync(cacheRoot, { recursive: true });
    try {
      fs.renameSync(out, dir);
    } catch (err) {
      // Another run built the same set at the same time: theirs is as good.
      if (!readManifest(dir)) throw err;
    }
    return readManifest(dir) ?? manifest;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function readManifest(dir: string): WheelSet | undefined {
  const file = path.join(dir, "manifest.json");
  if (!fs.existsSync(file)) return undefined;
  const m = JSON.parse(fs.readFileSync(file, "utf8")) as Omit<WheelSet, "dir">;
  return { ...m, dir };
}

interface DebUri {
  package: string;
  version: string;
  filename: string;
  sha256: string;
}

/** What `apt-get download` would fetch (run in an empty directory: it skips files already there). */
async function aptUris(packages: string[], emptyDir: string): Promise<DebUri[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync("apt-get", ["download", "--print-uris", ...packages], { cwd: emptyDir }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(
      `apt-get cannot find the Debian packages for the test wheel index (${packages.join(" ")}): ${stderr.trim()}\n` +
        "Run `apt-get update` (as root) on a machine with Debian bookworm's sources.",
    );
  }
  const debs = stdout
    .split("\n")
    .filter((l) => l.startsWith("'"))
    .map((line) => {
      const m = /^'[^']+' (\S+) \d+ SHA256:([0-9a-f]{64})$/.exec(line.trim());
      if (!m) throw new Error(`unexpected apt-get --print-uris line: ${line}`);
      const [pkg, version] = decodeURIComponent(m[1]).replace(/\.deb$/, "").split("_");
      return { package: pkg, version, filename: m[1], sha256: m[2] };
    });
  const missing = packages.filter((p) => !debs.some((d) => d.package === p));
  if (missing.length) throw new Error(`apt-get --print-uris listed no file for ${missing.join(", ")}`);
  return debs;
}

/** One wheel per *.egg-info in dist-packages: its top-level modules plus a dist-info made from the egg-info. */
function repackageEggInfos(root: string, out: string): Wheel[] {
  const site = path.join(root, DIST_PACKAGES);
  if (!fs.existsSync(site)) return [];
  return fs
    .readdirSync(site)
    .filter((e) => e.endsWith(".egg-info"))
    .map((egg) => {
      const eggDir = path.join(site, egg);
      const pkgInfo = fs.readFileSync(path.join(eggDir, "PKG-INFO"), "utf8");
      const { headers, body } = splitMetadata(pkgInfo);
      const name = header(headers, "Name");
      const version = header(headers, "Version");
      const distInfo = `${name.replace(/[-_.]+/g, "_")}-${version}.dist-info`;

      const files: Record<string, Uint8Array> = {};
      const topLevel = fs.readFileSync(path.join(eggDir, "top_level.txt"), "utf8").split("\n").filter(Boolean);
      for (const top of topLevel) {
        const asDir = path.join(site, top);
        if (fs.existsSync(asDir) && fs.lstatSync(asDir).isDirectory()) collect(root, asDir, top, files);
        else if (fs.existsSync(`${asDir}.py`)) files[`${top}.py`] = fs.readFileSync(`${asDir}.py`);
        else throw new Error(`${egg}: top-level ${top} not found in ${site}`);
      }

      const requires = requiresDist(fs.existsSync(path.join(eggDir, "requires.txt")) ? fs.readFileSync(path.join(eggDir, "requires.txt"), "utf8") : "");
      const base = UPSTREAM_REQUIRES[normalize(name)] ?? [];
      const metadata =
        headers.filter((h) => !/^(Requires-Dist|Provides-Extra|Metadata-Version):/i.test(h)).join("\n") +
        "\n" +
        [
          ...requires.extras.map((e) => `Provides-Extra: ${e}`),
          ...[...base, ...requires.lines].map((r) => `Requires-Dist: ${r}`),
        ].join("\n") +
        "\n\n" +
        body;
      files[`${distInfo}/METADATA`] = utf8(`Metadata-Version: 2.1\n${metadata}`);
      files[`${distInfo}/WHEEL`] = utf8("Wheel-Version: 1.0\nGenerator: pydeploy-test-support\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
      files[`${distInfo}/top_level.txt`] = utf8(topLevel.join("\n") + "\n");
      const entryPoints = path.join(eggDir, "entry_points.txt");
      if (fs.existsSync(entryPoints)) files[`${distInfo}/entry_points.txt`] = fs.readFileSync(entryPoints);
      const record = Object.entries(files)
        .map(([f, data]) => `${f},sha256=${Buffer.from(createHash("sha256").update(data).digest()).toString("base64url")},${data.length}`)
        .concat(`${distInfo}/RECORD,,`)
        .join("\n");
      files[`${distInfo}/RECORD`] = utf8(record + "\n");

      const filename = `${name.replace(/[-_.]+/g, "_")}-${version}-py3-none-any.whl`;
      const zippable: Zippable = {};
      for (const f of Object.keys(files).sort((a, b) => Number(a.startsWith(distInfo)) - Number(b.startsWith(distInfo)) || a.localeCompare(b))) {
        zippable[f] = [files[f], { mtime: ZIP_MTIME }];
      }
      const zip = zipSync(zippable, { level: 6 });
      fs.writeFileSync(path.join(out, filename), zip);
      return { project: normalize(name), version, filename, sha256: sha256(zip) };
    });
}

/** Debian's ready-made wheels (python3-*-whl). */
function copyDebianWheels(root: string, out: string): Wheel[] {
  const dir = path.join(root, PYTHON_WHEELS);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".whl"))
    .map((filename) => {
      const data = fs.readFileSync(path.join(dir, filename));
      fs.writeFileSync(path.join(out, filename), data);
      const [name, version] = filename.split("-");
      return { project: normalize(name), version, filename, sha256: sha256(data) };
    });
}

/** Files under `dir` as wheel paths under `prefix`; symlinks (Debian links bundled JS to libjs-*) become their target's bytes. */
function collect(root: string, dir: string, prefix: string, files: Record<string, Uint8Array>): void {
  for (const entry of fs.readdirSync(dir).sort()) {
    if (entry === "__pycache__" || entry.endsWith(".pyc")) continue;
    const full = path.join(dir, entry);
    const target = resolveInside(root, full);
    const stat = fs.statSync(target);
    if (stat.isDirectory()) collect(root, target, `${prefix}/${entry}`, files);
    else if (entry.endsWith(".so")) throw new Error(`${full}: a compiled module; only pure-Python packages can be repackaged`);
    else files[`${prefix}/${entry}`] = fs.readFileSync(target);
  }
}

/** Follows symlinks as if `root` were /, refusing any that lead outside it or nowhere. */
function resolveInside(root: string, file: string): string {
  let current = file;
  for (let hops = 0; hops < 20; hops++) {
    if (!fs.lstatSync(current, { throwIfNoEntry: false })?.isSymbolicLink()) {
      if (!fs.existsSync(current)) throw new Error(`${file}: dangling symlink (add the Debian package that ships its target)`);
      return current;
    }
    const link = fs.readlinkSync(current);
    const next = path.isAbsolute(link) ? path.join(root, link) : path.resolve(path.dirname(current), link);
    // `..` past the root stays at the root, as it does on a real file system.
    const rel = path.relative(root, next);
    current = rel.startsWith("..") ? path.join(root, rel.split(path.sep).filter((p) => p !== "..").join(path.sep)) : next;
  }
  throw new Error(`${file}: too many levels of symlinks`);
}

/** setuptools' requires.txt: base lines, then [extra], [extra:marker] or [:marker] sections. */
export function requiresDist(text: string): { lines: string[]; extras: string[] } {
  const lines: string[] = [];
  const extras: string[] = [];
  let extra = "";
  let marker = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const section = /^\[([^\]:]*)(?::(.*))?\]$/.exec(line);
    if (section) {
      extra = section[1].trim();
      marker = (section[2] ?? "").trim();
      if (extra && !extras.includes(extra)) extras.push(extra);
      continue;
    }
    const conditions = [marker && (extra ? `(${marker})` : marker), extra && `extra == "${extra}"`].filter(Boolean);
    lines.push(conditions.length ? `${line}; ${conditions.join(" and ")}` : line);
  }
  return { lines, extras };
}

function splitMetadata(text: string): { headers: string[]; body: string } {
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? "" : text.slice(end).replace(/^\r?\n\r?\n/, "");
  // Continuation lines (indented) stay with their header.
  const headers: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^\s/.test(line) && headers.length) headers[headers.length - 1] += `\n${line}`;
    else headers.push(line);
  }
  return { headers, body };
}

function header(headers: string[], name: string): string {
  const h = headers.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!h) throw new Error(`PKG-INFO has no ${name}`);
  return h.slice(name.length + 1).trim();
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(err as { stderr?: string }).stderr ?? err}`);
  }
}

export interface WheelIndex {
  /** The PEP 503 root, e.g. http://127.0.0.1:41234/simple/ (for app.pipIndexUrl). */
  url: string;
  /** 127.0.0.1:<port> (for app.pipTrustedHost). */
  host: string;
  wheels: Wheel[];
  /** "GET /simple/django/ 200", in order. */
  requests: string[];
  wheel(project: string): Wheel;
  /** A pip-compile --generate-hashes style requirements file pinning `projects` to the served wheels. */
  hashPinned(projects: string[]): string;
  close(): Promise<void>;
}

/** Serves `set` on 127.0.0.1 at a random port. */
export async function startWheelIndex(set: WheelSet): Promise<WheelIndex> {
  const byProject = new Map<string, Wheel[]>();
  for (const w of set.wheels) byProject.set(w.project, [...(byProject.get(w.project) ?? []), w]);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://index");
    const reply = (status: number, body: string | Buffer, type = "text/html; charset=utf-8", extra: http.OutgoingHttpHeaders = {}) => {
      requests.push(`${req.method} ${url.pathname} ${status}`);
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...extra });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const page = (title: string, links: [string, string][]) =>
      `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>${title}</title></head><body>\n` +
      links.map(([href, text]) => `<a href="${href}">${text}</a><br>`).join("\n") +
      "\n</body></html>\n";

    if (url.pathname === "/simple/") {
      return reply(200, page("Simple index", [...byProject.keys()].sort().map((p) => [`/simple/${p}/`, p])));
    }
    const project = /^\/simple\/([^/]+)\/?$/.exec(url.pathname);
    if (project) {
      const name = normalize(decodeURIComponent(project[1]));
      // PEP 503: other spellings redirect to the normalized URL.
      if (url.pathname !== `/simple/${name}/`) return reply(301, "", "text/plain", { location: `/simple/${name}/` });
      const wheels = byProject.get(name);
      if (!wheels) return reply(404, "not found\n", "text/plain");
      return reply(200, page(`Links for ${name}`, wheels.map((w) => [`/files/${w.filename}#sha256=${w.sha256}`, w.filename])));
    }
    const file = /^\/files\/([^/]+\.whl)$/.exec(url.pathname);
    const wheel = file && set.wheels.find((w) => w.filename === decodeURIComponent(file[1]));
    if (wheel) return reply(200, fs.readFileSync(path.join(set.dir, wheel.filename)), "application/octet-stream");
    return reply(404, "not found\n", "text/plain");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  const wheel = (project: string) => {
    const w = set.wheels.find((x) => x.project === normalize(project));
    if (!w) throw new Error(`the test index has no ${project}; it has ${set.wheels.map((x) => x.project).join(", ")}`);
    return w;
  };
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    host: `127.0.0.1:${port}`,
    wheels: set.wheels,
    requests,
    wheel,
    hashPinned: (projects) =>
      "# Generated like pip-compile --generate-hashes, from the test index's wheels.\n" +
      projects.map((p) => `${p}==${wheel(p).version} \\\n    --hash=sha256:${wheel(p).sha256}`).join("\n") +
      "\n",
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
