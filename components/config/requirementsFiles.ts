// The requirement files a pip requirements file needs: itself plus everything it includes with
// -r/--requirement and -c/--constraint (paths relative to the including file, as pip reads them),
// so the Dockerfile can copy exactly those before installing. No Pulumi; reads the project only.
import * as fs from "node:fs";
import * as path from "node:path";

/** A project whose dependencies cannot be installed as configured; the message says why and what works. */
export class DependencyError extends Error {
  /** The config key to fix. */
  constructor(message: string, readonly key: "app.requirements" | "app.extras" = "app.requirements") {
    super(message);
    this.name = "DependencyError";
  }
}

export interface RequirementsTree {
  /** The entry file first, then every included file once; relative to the project, POSIX separators. */
  files: string[];
}

const INCLUDE = /^(-r|-c|--requirement|--constraint)(?:=|\s+|(?<=^-[rc]))(.+)$/;
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
// COPY expands globs and $VARS in sources; a file we copy must have a plain name.
const COPY_UNSAFE = /[*?[\]$\\'"\s]/;

/** Reads `entry` (relative to `projectDir`) and the files it includes; throws DependencyError naming the file and line. */
export function readRequirementsTree(projectDir: string, entry: string): RequirementsTree {
  const files: string[] = [];
  const visit = (file: string, from?: { file: string; line: number; written: string }) => {
    if (files.includes(file)) return; // pip itself would loop on a cycle; copying once is enough
    const where = from ? `\`${from.written}\` (${from.file} line ${from.line})` : file;
    if (file.startsWith("../") || file === ".." || path.posix.isAbsolute(file)) {
      throw new DependencyError(`${where} points outside the project (${projectDir}): only files inside app.path reach the image`);
    }
    if (COPY_UNSAFE.test(file)) {
      throw new DependencyError(`${where}: expected a file name without spaces, quotes, globs or $ (it is copied into the image by name)`);
    }
    const absolute = path.join(projectDir, ...file.split("/"));
    if (!(fs.statSync(absolute, { throwIfNoEntry: false })?.isFile() ?? false)) {
      throw new DependencyError(`${where}: ${absolute} does not exist${from ? " (includes are relative to the including file)" : ""}`);
    }
    files.push(file);
    for (const { text, line } of logicalLines(fs.readFileSync(absolute, "utf8"))) {
      const include = INCLUDE.exec(text);
      if (include) {
        const target = include[2].trim();
        if (URL_SCHEME.test(target)) {
          if (/^file:/i.test(target)) throw new DependencyError(`\`${text}\` (${file} line ${line}): write a path relative to ${file} instead of a file: URL`);
          continue; // pip fetches http(s) includes itself
        }
        visit(path.posix.normalize(path.posix.join(path.posix.dirname(file), target)), { file, line, written: text });
        continue;
      }
      refuseCodeDependency(text, file, line);
    }
  };
  visit(path.posix.normalize(entry));
  return { files };
}

/** Lines as pip sees them: `\` continuations joined, comments and blank lines dropped. */
export function logicalLines(content: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let pending = "";
  let start = 0;
  // Python's str.splitlines(), which pip reads the file with: a lone CR (or \v, \f, U+2028...) ends a line too.
  content.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/).forEach((raw, i) => {
    if (pending === "") start = i + 1;
    if (raw.endsWith("\\")) {
      pending += raw.slice(0, -1) + " ";
      return;
    }
    // pip: a comment starts at a # at the start of the line or after whitespace.
    const text = (pending + raw).replace(/(^|\s+)#.*$/, "").trim();
    pending = "";
    if (text !== "") out.push({ text, line: start });
  });
  const last = pending.replace(/(^|\s+)#.*$/, "").trim();
  if (last !== "") out.push({ text: last, line: start });
  return out;
}

// The dependency layer is built before the project's code is copied, so nothing may point into it.
function refuseCodeDependency(text: string, file: string, line: number): void {
  const where = `\`${text}\` (${file} line ${line})`;
  if (/^(-e|--editable)(\s|=|$)/.test(text)) {
    throw new DependencyError(
      `${where}: editable installs need the project's code, which is copied after the dependencies are installed; list packages by name, or use a pyproject.toml project (its own package is installed after the code)`,
    );
  }
  if (/^(-f|--find-links)(\s|=)/.test(text) && !URL_SCHEME.test(text.replace(/^(-f|--find-links)[=\s]+/, ""))) {
    throw new DependencyError(`${where}: a local --find-links directory is not copied into the dependency stage; serve it as an index (app.pipExtraIndexUrl) instead`);
  }
  // pip takes every name starting with "." for a path, e.g. ".[prod]" (the project itself with extras).
  if (/^(\.|\/|file:)/.test(text)) {
    throw new DependencyError(`${where}: a local path is not available while the dependencies are installed (the code is copied later); install it from an index, or use a pyproject.toml project`);
  }
}
