// Reading PEP 621 dependencies (and extras) from pyproject.toml text, and the clear refusals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pyprojectKind, readPyprojectDependencies } from "../../components/image/pyproject";
import { DependencyError } from "../../components/image/requirementsFiles";

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

function errorOf(fn: () => unknown): DependencyError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DependencyError, `expected a DependencyError, got ${err}`);
    return err;
  }
  assert.fail("no error was thrown");
}

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
