// Finding a project's dependency list (configured or auto-detected) and resolving it, on real files.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AUTO_DETECTED, findRequirementsFile, resolveDependencySource } from "../../components/config/dependencySource";
import { dependencyErrorOf as errorOf, projectWith } from "../support/config/projectFiles";


const PEP621 = '[project]\nname = "site"\nversion = "1"\ndependencies = ["Django>=4.2"]\n';

describe("findRequirementsFile: auto-detection", () => {
  it("takes the first file of the documented order that exists", () => {
    const all = {
      "requirements.txt": "-r requirements/production.txt\n",
      "requirements/production.txt": "gunicorn\n",
      "requirements/prod.txt": "gunicorn\n",
      "requirements/base.txt": "django\n",
      "pyproject.toml": PEP621,
    };
    const expectedOrder = ["requirements.txt", "requirements/production.txt", "requirements/prod.txt", "requirements/base.txt", "pyproject.toml"];
    assert.deepEqual([...AUTO_DETECTED], expectedOrder, "the documented order");
    for (let i = 0; i < expectedOrder.length; i++) {
      const files = Object.fromEntries(Object.entries(all).filter(([f]) => expectedOrder.indexOf(f) >= i));
      assert.equal(findRequirementsFile(projectWith(files), undefined), expectedOrder[i], `with ${Object.keys(files).join(", ")}`);
    }
  });

  it("skips a pyproject.toml that only configures tools, and says so when nothing else is found", () => {
    const dir = projectWith({ "pyproject.toml": "[tool.ruff]\nline-length = 100\n", "Pipfile": "[packages]\n" });
    const err = errorOf(() => findRequirementsFile(dir, undefined));
    assert.match(
      err.message,
      /looked for requirements\.txt, requirements\/production\.txt, requirements\/prod\.txt, requirements\/base\.txt, and pyproject\.toml with a \[project\] table, in that order/,
      "lists what was looked for",
    );
    assert.match(err.message, /pyproject\.toml has no \[project\] table/, "explains why pyproject.toml did not count");
    assert.match(err.message, /pipenv requirements > requirements\.txt/, "hints at the Pipfile export");
    assert.match(err.message, /or to "none" for a project without dependencies/, "names the opt-out");
  });

  it("picks a Poetry pyproject.toml so that resolving it gives Poetry's clear error", () => {
    const dir = projectWith({ "pyproject.toml": "[tool.poetry.dependencies]\ndjango = '^4.2'\n" });
    assert.equal(findRequirementsFile(dir, undefined), "pyproject.toml", "detected");
    assert.match(errorOf(() => resolveDependencySource(dir, "pyproject.toml", [])).message, /only in \[tool\.poetry\]/, "Poetry's error");
  });

  it("checks a configured file: inside the project and present; none means no dependencies", () => {
    const dir = projectWith({ "reqs/prod.txt": "django\n" });
    assert.equal(findRequirementsFile(dir, "reqs/prod.txt"), "reqs/prod.txt", "the configured file");
    assert.equal(findRequirementsFile(dir, "none"), undefined, "none");
    assert.match(errorOf(() => findRequirementsFile(dir, "reqs/dev.txt")).message, /expected an existing file/, "missing");
    assert.match(errorOf(() => findRequirementsFile(dir, "../x.txt")).message, /expected a file inside app\.path/, "outside");
  });
});

describe("resolveDependencySource", () => {
  it("resolves each form", () => {
    const dir = projectWith({ "requirements.txt": "-r requirements/base.txt\n", "requirements/base.txt": "django\n", "pyproject.toml": PEP621 });
    assert.deepEqual(
      resolveDependencySource(dir, "requirements.txt", []),
      { kind: "requirements", entry: "requirements.txt", files: ["requirements.txt", "requirements/base.txt"] },
      "requirements with its include",
    );
    assert.deepEqual(resolveDependencySource(dir, "pyproject.toml", []), { kind: "pyproject", name: "site", dependencies: ["Django>=4.2"], buildRequires: ["setuptools>=40.8.0", "wheel"] }, "pyproject");
    assert.deepEqual(resolveDependencySource(dir, undefined, []), { kind: "none" }, "none");
  });

  it("refuses extras without a pyproject project, and a pyproject.toml below the project root", () => {
    const dir = projectWith({ "requirements.txt": "django\n", "backend/pyproject.toml": PEP621 });
    const extras = errorOf(() => resolveDependencySource(dir, "requirements.txt", ["prod"]));
    assert.equal(extras.key, "app.extras", "the key to fix");
    assert.match(extras.message, /the dependencies come from requirements\.txt/, "says where they come from");
    assert.match(errorOf(() => resolveDependencySource(dir, "backend/pyproject.toml", [])).message, /set app\.path to backend/, "root only");
  });
});

describe("findRequirementsFile and resolveDependencySource: exact messages for what was not found or not supported", () => {
  const LOOKED = "looked for requirements.txt, requirements/production.txt, requirements/prod.txt, requirements/base.txt, and pyproject.toml with a [project] table, in that order";
  const OPT_OUT = '. Set app.requirements to your requirements file or pyproject.toml, or to "none" for a project without dependencies';

  it("nothing found and nothing to say: no parenthesis", () => {
    const dir = projectWith({ "README.md": "" });
    assert.equal(errorOf(() => findRequirementsFile(dir, undefined)).message, `found no dependency list in ${dir}: ${LOOKED}${OPT_OUT}`, "the message");
  });

  it("an invalid pyproject.toml and each unsupported layout are named, joined by ;", () => {
    const dir = projectWith({ "pyproject.toml": "[project\n", "poetry.lock": "", "uv.lock": "", "setup.py": "" });
    assert.equal(
      errorOf(() => findRequirementsFile(dir, undefined)).message,
      `found no dependency list in ${dir}: ${LOOKED} (pyproject.toml is not valid TOML; ` +
        "Poetry's lock file is not read: `poetry export -f requirements.txt -o requirements.txt`, or list the dependencies in [project].dependencies; " +
        "uv's lock file is not read: `uv export --format requirements-txt -o requirements.txt`; " +
        "setup.py's install_requires is not read: list the dependencies in a requirements file or in pyproject.toml's [project].dependencies)" +
        OPT_OUT,
      "every note, in order",
    );
  });

  it("app.requirements set to the project directory itself is not a file inside it", () => {
    const dir = projectWith({ "requirements.txt": "django\n" });
    for (const configured of [".", "./"]) {
      assert.equal(errorOf(() => findRequirementsFile(dir, configured)).message, `expected a file inside app.path (${dir}), got ${JSON.stringify(configured)}`, configured);
    }
  });

  it("extras for a project without dependencies are a problem of app.extras", () => {
    const err = errorOf(() => resolveDependencySource(projectWith({}), undefined, ["prod"]));
    assert.equal(err.message, "expected no extras: they choose [project.optional-dependencies] of a pyproject.toml project, and this project has no dependencies", "the message");
    assert.equal(err.key, "app.extras", "the key to fix");
  });
});
