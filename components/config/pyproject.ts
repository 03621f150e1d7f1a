// The dependencies of a PEP 621 pyproject.toml: [project].dependencies plus the chosen extras
// from [project.optional-dependencies]. Pure: takes the file's text.
import { parse as parseToml, TomlError } from "smol-toml";
import { DependencyError } from "./requirementsFiles";

export interface PyprojectDependencies {
  /** The [project] name, as written. */
  name: string;
  /** PEP 508 requirement strings, de-duplicated, in file order (extras after the base list). */
  dependencies: string[];
  /** [build-system].requires: what building the project needs (PEP 518's default without the table). */
  buildRequires: string[];
}

// PEP 517/518: a project without [build-system] is built with setuptools, as pip does.
const DEFAULT_BUILD_REQUIRES = ["setuptools>=40.8.0", "wheel"];

const SUPPORTED =
  "pydeploy installs PEP 621 projects whose [project] table lists `dependencies` (and optional-dependencies, chosen with app.extras) statically";

export function readPyprojectDependencies(text: string, extras: string[], file = "pyproject.toml"): PyprojectDependencies {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const detail = err instanceof TomlError ? err.message.split("\n")[0] : String(err);
    throw new DependencyError(`${file} is not valid TOML: ${detail}`);
  }
  const project = table(doc.project);
  if (!project) {
    const poetry = table(table(doc.tool)?.poetry);
    if (poetry && ("dependencies" in poetry || "group" in poetry)) {
      throw new DependencyError(
        `${file} declares its dependencies only in [tool.poetry], which is Poetry's own format. ${SUPPORTED}: move them to [project].dependencies (Poetry 2 reads them there), or export a requirements file (poetry export -f requirements.txt -o requirements.txt) and set app.requirements to it`,
      );
    }
    throw new DependencyError(`${file} has no [project] table. ${SUPPORTED}; for another layout set app.requirements to a requirements file`);
  }
  const name = typeof project.name === "string" ? project.name : "";
  if (name === "") throw new DependencyError(`${file}: [project].name is missing; PEP 621 requires it and pip needs it to install the project`);
  const dynamic = Array.isArray(project.dynamic) ? project.dynamic : [];
  if (dynamic.includes("dependencies")) {
    throw new DependencyError(
      `${file} lists "dependencies" in [project].dynamic: they are computed by the build backend, so they cannot be installed before the code. ${SUPPORTED}: write them in [project].dependencies, or set app.requirements to a requirements file`,
    );
  }
  if (extras.length > 0 && dynamic.includes("optional-dependencies")) {
    throw new DependencyError(`${file} lists "optional-dependencies" in [project].dynamic, so app.extras cannot be read from it. ${SUPPORTED}`, "app.extras");
  }

  const optional = table(project["optional-dependencies"]) ?? {};
  const list = (value: unknown, where: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((d) => typeof d === "string")) {
      throw new DependencyError(`${file}: ${where} must be an array of requirement strings such as "Django>=4.2,<5"`);
    }
    for (const d of value as string[]) {
      // These strings become pip arguments: an option or a line break would change the command.
      if (/^\s*-|[\r\n\0]/.test(d)) throw new DependencyError(`${file}: ${where} has ${JSON.stringify(d)}; expected a PEP 508 requirement such as "Django>=4.2,<5"`);
    }
    return (value as string[]).map((d) => d.trim());
  };

  const result: string[] = [];
  const seenExtras = new Set<string>();
  const add = (requirements: string[], where: string) => {
    for (const r of requirements) {
      // `myproject[extra]` inside optional-dependencies pulls in another of the project's own extras.
      const self = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*\[([^\]]*)\]\s*$/.exec(r);
      if (self && normalizeName(self[1]) === normalizeName(name)) {
        for (const e of self[2].split(",").map((s) => s.trim()).filter(Boolean)) addExtra(e, where);
        continue;
      }
      if (!result.includes(r)) result.push(r);
    }
  };
  const addExtra = (extra: string, requestedBy: string) => {
    const key = Object.keys(optional).find((k) => normalizeName(k) === normalizeName(extra));
    if (key === undefined) {
      const known = Object.keys(optional);
      throw new DependencyError(
        `${file}: ${requestedBy} asks for extra "${extra}", but [project.optional-dependencies] has ${known.length ? known.map((k) => `"${k}"`).join(", ") : "none"}`,
        requestedBy === "app.extras" ? "app.extras" : "app.requirements",
      );
    }
    if (seenExtras.has(key)) return;
    seenExtras.add(key);
    add(list(optional[key], `[project.optional-dependencies].${key}`), `[project.optional-dependencies].${key}`);
  };

  add(list(project.dependencies, "[project].dependencies"), "[project].dependencies");
  for (const extra of extras) addExtra(extra, "app.extras");
  const buildSystem = table(doc["build-system"]);
  const buildRequires = buildSystem && "requires" in buildSystem ? list(buildSystem.requires, "[build-system].requires") : DEFAULT_BUILD_REQUIRES;
  return { name, dependencies: result, buildRequires };
}

/** Whether the text has a [project] table (a PEP 621 project) or Poetry dependencies; undefined if not TOML. */
export function pyprojectKind(text: string): "pep621" | "poetry" | "other" | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (table(doc.project)) return "pep621";
  const poetry = table(table(doc.tool)?.poetry);
  return poetry && "dependencies" in poetry ? "poetry" : "other";
}

/** PEP 503 normalization: names and extras compare case-insensitively with -, _ and . alike. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function table(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
