// Reading PEP 621 dependencies (and extras) from pyproject.toml text, and the clear refusals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pyprojectKind, readPyprojectDependencies } from "../../components/config/pyproject";
import { dependencyErrorOf as errorOf } from "../support/config/projectFiles";

const PROJECT = `
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "My_Site"
version = "2.0"
dependencies = ["Django>=4.2,<5", 'psycopg[binary]>=3.1; python_version >= "3.10"']

[project.optional-dependencies]
prod = ["gunicorn>=22", "my-site[cache]"]
cache = ["redis>=5", "Django>=4.2,<5"]
dev = ["pytest"]
`;


describe("readPyprojectDependencies", () => {
  it("reads [project].dependencies as written, whatever the build backend", () => {
    assert.deepEqual(
      readPyprojectDependencies(PROJECT, []),
      { name: "My_Site", dependencies: ["Django>=4.2,<5", 'psycopg[binary]>=3.1; python_version >= "3.10"'], buildRequires: ["hatchling"] },
      "name, dependencies and the build backend",
    );
  });

  it("builds a project without [build-system] with setuptools and wheel, as pip does", () => {
    assert.deepEqual(readPyprojectDependencies('[project]\nname = "x"\nversion = "1"\n', []).buildRequires, ["setuptools>=40.8.0", "wheel"], "PEP 518's default");
  });

  it("adds the chosen extras, following the project's references to its own extras, without duplicates", () => {
    assert.deepEqual(
      readPyprojectDependencies(PROJECT, ["Prod"]).dependencies,
      ["Django>=4.2,<5", 'psycopg[binary]>=3.1; python_version >= "3.10"', "gunicorn>=22", "redis>=5"],
      "prod pulls in cache through my-site[cache]; dev is not chosen",
    );
  });

  it("accepts a project without dependencies", () => {
    assert.deepEqual(readPyprojectDependencies('[project]\nname = "bare"\nversion = "1"\n', []).dependencies, [], "an empty list");
  });

  it("refuses dynamic dependencies, saying what is supported", () => {
    const err = errorOf(() => readPyprojectDependencies('[project]\nname = "x"\ndynamic = ["version", "dependencies"]\n', []));
    assert.match(err.message, /"dependencies" in \[project\]\.dynamic/, "names the cause");
    assert.match(err.message, /PEP 621 projects whose \[project\] table lists `dependencies`/, "says what works");
    assert.equal(err.key, "app.requirements", "the key to fix");
  });

  it("refuses Poetry-only dependencies with the ways out", () => {
    const err = errorOf(() => readPyprojectDependencies('[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = "^3.11"\ndjango = "^4.2"\n', []));
    assert.match(err.message, /only in \[tool\.poetry\]/, "names Poetry");
    assert.match(err.message, /poetry export -f requirements\.txt/, "offers the export");
  });

  it("refuses a file without [project], invalid TOML, and a missing name", () => {
    assert.match(errorOf(() => readPyprojectDependencies("[tool.black]\nline-length = 100\n", [])).message, /has no \[project\] table/, "no [project]");
    assert.match(errorOf(() => readPyprojectDependencies("[project\nname = 1", [])).message, /is not valid TOML/, "bad TOML");
    assert.match(errorOf(() => readPyprojectDependencies('[project]\nversion = "1"\n', [])).message, /\[project\]\.name is missing/, "no name");
  });

  it("refuses an unknown extra under app.extras, listing the known ones", () => {
    const err = errorOf(() => readPyprojectDependencies(PROJECT, ["production"]));
    assert.match(err.message, /asks for extra "production", but \[project.optional-dependencies\] has "prod", "cache", "dev"/, "lists the extras");
    assert.equal(err.key, "app.extras", "the key to fix");
  });

  it("refuses entries that would become pip options or break the command", () => {
    for (const bad of ["--index-url=http://evil/", "django\nrequests"]) {
      const text = `[project]\nname = "x"\ndependencies = [${JSON.stringify(bad)}]\n`;
      assert.match(errorOf(() => readPyprojectDependencies(text, [])).message, /expected a PEP 508 requirement/, `refuses ${JSON.stringify(bad)}`);
    }
    assert.match(errorOf(() => readPyprojectDependencies('[project]\nname = "x"\ndependencies = "django"\n', [])).message, /must be an array/, "a string");
  });
});

describe("pyprojectKind", () => {
  it("tells PEP 621, Poetry, tool-only and invalid files apart", () => {
    assert.equal(pyprojectKind(PROJECT), "pep621", "PEP 621");
    assert.equal(pyprojectKind("[tool.poetry.dependencies]\ndjango = '*'\n"), "poetry", "Poetry");
    assert.equal(pyprojectKind("[tool.ruff]\nline-length = 100\n"), "other", "tool config only");
    assert.equal(pyprojectKind("[project"), undefined, "invalid");
  });
});

describe("readPyprojectDependencies: exact messages, self-references and odd tables", () => {
  const SUPPORTED = "pydeploy installs PEP 621 projects whose [project] table lists `dependencies` (and optional-dependencies, chosen with app.extras) statically";

  it("names pyproject.toml when no file name is given, and keeps only the first line of a TOML error", () => {
    assert.equal(
      errorOf(() => readPyprojectDependencies("[project\nname = 1", [])).message,
      "pyproject.toml is not valid TOML: Invalid TOML document: illegal character in key",
      "the default file name and the parser's first line",
    );
  });

  it("a file without a [tool] table, with [tool.poetry] but no dependencies, or whose project is not a table, has no [project] table", () => {
    const noProject = `pyproject.toml has no [project] table. ${SUPPORTED}; for another layout set app.requirements to a requirements file`;
    for (const text of ["", "[other]\nx = 1\n", '[tool.poetry]\nname = "x"\n', "project = [1, 2]\n", 'project = "x"\n']) {
      assert.equal(errorOf(() => readPyprojectDependencies(text, [])).message, noProject, `text ${JSON.stringify(text)}`);
    }
  });

  it("Poetry dependency groups alone are Poetry's format too", () => {
    const err = errorOf(() => readPyprojectDependencies('[tool.poetry]\nname = "x"\n[tool.poetry.group.dev.dependencies]\npytest = "*"\n', []));
    assert.match(err.message, /^pyproject\.toml declares its dependencies only in \[tool\.poetry\], which is Poetry's own format\./, "names Poetry");
  });

  it("dynamic optional-dependencies are refused only when extras are asked for", () => {
    const text = '[project]\nname = "x"\ndynamic = ["optional-dependencies"]\ndependencies = ["django"]\n';
    assert.deepEqual(readPyprojectDependencies(text, []).dependencies, ["django"], "no extras: the static dependencies suffice");
    const err = errorOf(() => readPyprojectDependencies(text, ["prod"]));
    assert.equal(err.message, `pyproject.toml lists "optional-dependencies" in [project].dynamic, so app.extras cannot be read from it. ${SUPPORTED}`, "the message");
    assert.equal(err.key, "app.extras", "the key to fix");
  });

  it("a list must hold only strings; entries are trimmed", () => {
    assert.equal(
      errorOf(() => readPyprojectDependencies('[project]\nname = "x"\ndependencies = ["django", 1]\n', [])).message,
      'pyproject.toml: [project].dependencies must be an array of requirement strings such as "Django>=4.2,<5"',
      "a number in the list",
    );
    assert.equal(
      errorOf(() => readPyprojectDependencies('[project]\nname = "x"\n[build-system]\nrequires = "hatchling"\n', [])).message,
      'pyproject.toml: [build-system].requires must be an array of requirement strings such as "Django>=4.2,<5"',
      "build requirements as a string",
    );
    assert.equal(
      errorOf(() => readPyprojectDependencies('[project]\nname = "x"\n[project.optional-dependencies]\nprod = "gunicorn"\n', ["prod"])).message,
      'pyproject.toml: [project.optional-dependencies].prod must be an array of requirement strings such as "Django>=4.2,<5"',
      "an extra as a string",
    );
    assert.deepEqual(readPyprojectDependencies('[project]\nname = "x"\ndependencies = ["  django>=4  "]\n', []).dependencies, ["django>=4"], "trimmed");
  });

  it("a self-reference is the bare project name (any spelling) with extras; anything else goes to pip as written", () => {
    const text = [
      "[project]",
      'name = "My_Site"',
      'dependencies = ["uvicorn[standard]", "mysite[cache]", "my-site[cache]>=2.0", "wrapper my-site[cache]"]',
      "[project.optional-dependencies]",
      'prod = ["my__site [ cache , ]", "gunicorn"]',
      'cache = ["redis", "MY.SITE[prod]"]',
      "",
    ].join("\n");
    assert.deepEqual(
      readPyprojectDependencies(text, ["prod"]).dependencies,
      ["uvicorn[standard]", "mysite[cache]", "my-site[cache]>=2.0", "wrapper my-site[cache]", "redis", "gunicorn"],
      "another package's extras, another name, a versioned or prefixed reference stay; prod pulls in cache (and cache prod again) once",
    );
  });

  it("an unknown extra named by the project's own reference is a problem of app.requirements, naming where it was asked for", () => {
    const inExtra = errorOf(() => readPyprojectDependencies('[project]\nname = "x"\n[project.optional-dependencies]\nprod = ["x[nosuch]"]\n', ["prod"]));
    assert.equal(inExtra.message, 'pyproject.toml: [project.optional-dependencies].prod asks for extra "nosuch", but [project.optional-dependencies] has "prod"', "the message");
    assert.equal(inExtra.key, "app.requirements", "the key to fix");
    const inBase = errorOf(() => readPyprojectDependencies('[project]\nname = "x"\ndependencies = ["x[nosuch]"]\n', []));
    assert.equal(inBase.message, 'pyproject.toml: [project].dependencies asks for extra "nosuch", but [project.optional-dependencies] has none', "no optional dependencies at all");
    assert.equal(inBase.key, "app.requirements", "the key to fix");
  });
});

describe("pyprojectKind: files without [tool]", () => {
  it("an empty file or one with other tables is other", () => {
    assert.equal(pyprojectKind(""), "other", "empty");
    assert.equal(pyprojectKind("[other]\nx = 1\n"), "other", "no tool table");
  });
});
