// Where a project's dependencies come from: a requirements file (with the files it includes), a
// PEP 621 pyproject.toml, or nothing. Used by the config check (errors before anything is created)
// and by the Dockerfile renderer (which files to copy, what to install). No Pulumi; reads the project.
import * as fs from "node:fs";
import * as path from "node:path";
import { normalizeName, pyprojectKind, readPyprojectDependencies } from "./pyproject";
import { DependencyError, readRequirementsTree } from "./requirementsFiles";

export type DependencySource =
  /** `pip install -r entry`, after copying `files` (entry included) into the builder stage. */
  | { kind: "requirements"; entry: string; files: string[] }
  /** `pip install <dependencies> <buildRequires>` before the code, then `pip install --no-deps --no-build-isolation .` after it. */
  | { kind: "pyproject"; name: string; dependencies: string[]; buildRequires: string[] }
  | { kind: "none" };

/** app.requirements value for a project without dependencies. */
export const NO_REQUIREMENTS = "none";
export const PYPROJECT = "pyproject.toml";

/**
 * Looked for in this order when app.requirements is unset. The root requirements.txt first (what
 * `docker init` and most tutorials use, and what cookiecutter-django keeps for Heroku, pointing at
 * requirements/production.txt); then cookiecutter-django's and similar split layouts; then a PEP 621
 * pyproject.toml.
 */
export const AUTO_DETECTED = ["requirements.txt", "requirements/production.txt", "requirements/prod.txt", "requirements/base.txt", PYPROJECT] as const;

// Layouts we do not install, with what to do instead.
const UNSUPPORTED_HINTS: [string, string][] = [
  ["Pipfile", "Pipenv's Pipfile is not read: export it with `pipenv requirements > requirements.txt`"],
  ["poetry.lock", "Poetry's lock file is not read: `poetry export -f requirements.txt -o requirements.txt`, or list the dependencies in [project].dependencies"],
  ["uv.lock", "uv's lock file is not read: `uv export --format requirements-txt -o requirements.txt`"],
  ["setup.py", "setup.py's install_requires is not read: list the dependencies in a requirements file or in pyproject.toml's [project].dependencies"],
];

/**
 * The requirements file for the project: `configured` checked, or the first of AUTO_DETECTED.
 * Returns undefined for "none". Throws DependencyError saying what was looked for.
 */
export function findRequirementsFile(projectDir: string, configured: string | undefined): string | undefined {
  if (configured === NO_REQUIREMENTS) return undefined;
  if (configured !== undefined) {
    const absolute = path.resolve(projectDir, configured);
    const rel = path.relative(projectDir, absolute);
    if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new DependencyError(`expected a file inside app.path (${projectDir}), got ${JSON.stringify(configured)}`);
    }
    if (!isFile(absolute)) throw new DependencyError(`expected an existing file, but ${absolute} does not exist`);
    return rel.split(path.sep).join("/");
  }
  const notes: string[] = [];
  for (const candidate of AUTO_DETECTED) {
    const absolute = path.join(projectDir, ...candidate.split("/"));
    if (!isFile(absolute)) continue;
    if (candidate !== PYPROJECT) return candidate;
    const kind = pyprojectKind(fs.readFileSync(absolute, "utf8"));
    if (kind === "pep621" || kind === "poetry") return candidate; // Poetry: resolving it gives the clear error
    notes.push(kind === undefined ? "pyproject.toml is not valid TOML" : "pyproject.toml has no [project] table");
  }
  for (const [file, hint] of UNSUPPORTED_HINTS) if (isFile(path.join(projectDir, file))) notes.push(hint);
  throw new DependencyError(
    `found no dependency list in ${projectDir}: looked for ${AUTO_DETECTED.slice(0, -1).join(", ")}, and pyproject.toml with a [project] table, in that order` +
      (notes.length ? ` (${notes.join("; ")})` : "") +
      `. Set app.requirements to your requirements file or pyproject.toml, or to "${NO_REQUIREMENTS}" for a project without dependencies`,
  );
}

/** What to install for `requirementsFile` (a path from findRequirementsFile, or undefined for none). */
export function resolveDependencySource(projectDir: string, requirementsFile: string | undefined, extras: string[]): DependencySource {
  if (requirementsFile === undefined) {
    if (extras.length) throw new DependencyError(`expected no extras: they choose [project.optional-dependencies] of a pyproject.toml project, and this project has no dependencies`, "app.extras");
    return { kind: "none" };
  }
  if (path.posix.basename(requirementsFile) === PYPROJECT) {
    if (requirementsFile !== PYPROJECT) {
      // `pip install .` installs the project at the build context's root.
      throw new DependencyError(`${requirementsFile}: a pyproject.toml project must be at the root of app.path; set app.path to ${path.posix.dirname(requirementsFile)}`);
    }
    const { name, dependencies, buildRequires } = readPyprojectDependencies(fs.readFileSync(path.join(projectDir, PYPROJECT), "utf8"), extras, PYPROJECT);
    return { kind: "pyproject", name: normalizeName(name), dependencies, buildRequires };
  }
  if (extras.length) {
    throw new DependencyError(`expected no extras: they choose [project.optional-dependencies] of a pyproject.toml project, but the dependencies come from ${requirementsFile}; list those packages in the requirements file instead`, "app.extras");
  }
  return { kind: "requirements", entry: requirementsFile, ...readRequirementsTree(projectDir, requirementsFile) };
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}
