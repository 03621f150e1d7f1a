// The include tree of a requirements file, read from real files in a temp project.
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { logicalLines, readRequirementsTree } from "../../components/config/requirementsFiles";
import { dependencyErrorOf as errorOf, projectWith } from "../support/config/projectFiles";


describe("readRequirementsTree", () => {
  it("follows -r and -c relative to the including file, in every spelling pip accepts", () => {
    const dir = projectWith({
      "requirements/production.txt": "-r base.txt\n--requirement=extra/a.txt\ngunicorn\n",
      "requirements/base.txt": "-c ../constraints.txt\n--constraint ../more.txt\nDjango~=3.2.0\n",
      "requirements/extra/a.txt": "-rb.txt\n",
      "requirements/extra/b.txt": "-r ../base.txt\n", // a cycle back to base
      "constraints.txt": "sqlparse<0.5\n",
      "more.txt": "",
      "requirements/local.txt": "-r base.txt\ndjango-debug-toolbar\n",
    });
    const tree = readRequirementsTree(dir, "requirements/production.txt");
    assert.deepEqual(
      tree.files,
      ["requirements/production.txt", "requirements/base.txt", "constraints.txt", "more.txt", "requirements/extra/a.txt", "requirements/extra/b.txt"],
      "entry first, each file once, local.txt not included",
    );
  });

  it("leaves http(s) includes to pip and ignores comments, blank lines and continuations", () => {
    const dir = projectWith({
      "requirements.txt": "# -r nothere.txt\n\n-r https://example.com/reqs.txt\nrequests \\\n  >=2  # -r nothere.txt\n",
    });
    assert.deepEqual(readRequirementsTree(dir, "requirements.txt").files, ["requirements.txt"], "only the entry");
  });

  it("reads hash-pinned files with --hash on continuation lines", () => {
    const dir = projectWith({ "requirements.txt": "--require-hashes\n-c constraints.txt\ndjango==3.2.25 \\\n    --hash=sha256:abc\n", "constraints.txt": "" });
    assert.deepEqual(readRequirementsTree(dir, "requirements.txt").files, ["requirements.txt", "constraints.txt"], "options and hashes are not includes");
  });

  it("refuses an include that does not exist, naming the line and the resolved path", () => {
    const dir = projectWith({ "requirements/production.txt": "gunicorn\n-r base.txt\n" });
    const err = errorOf(() => readRequirementsTree(dir, "requirements/production.txt"));
    assert.match(err.message, /`-r base\.txt` \(requirements\/production\.txt line 2\)/, "names the line");
    assert.ok(err.message.includes(path.join(dir, "requirements", "base.txt")), `names the resolved path: ${err.message}`);
    assert.match(err.message, /relative to the including file/, "explains how includes resolve");
    assert.equal(err.key, "app.requirements", "the key to fix");
  });

  it("refuses an include that leaves the project", () => {
    const dir = projectWith({ "requirements.txt": "-c ../../outside.txt\n" });
    assert.match(errorOf(() => readRequirementsTree(dir, "requirements.txt")).message, /points outside the project/, "outside app.path");
  });

  it("refuses editable installs, local paths and local --find-links, which need files copied later", () => {
    for (const line of ["-e .", "--editable=./lib", ".", "./libs/foo", "file:///tmp/x.whl", "-f ./wheels"]) {
      const dir = projectWith({ "requirements.txt": `django\n${line}\n` });
      const err = errorOf(() => readRequirementsTree(dir, "requirements.txt"));
      assert.ok(err.message.includes(`\`${line}\` (requirements.txt line 2)`), `names the line for ${line}: ${err.message}`);
    }
    const remote = projectWith({ "requirements.txt": "-f https://download.example/wheels/\ndjango\n" });
    assert.deepEqual(readRequirementsTree(remote, "requirements.txt").files, ["requirements.txt"], "a remote --find-links is fine");
  });

  it("refuses file names that COPY would expand", () => {
    const dir = projectWith({ "requirements.txt": "-r req*.txt\n", "req*.txt": "" });
    assert.match(errorOf(() => readRequirementsTree(dir, "requirements.txt")).message, /without spaces, quotes, globs or \$/, "a glob character");
  });
});

describe("logicalLines", () => {
  it("joins continuations, keeps the first line number, drops comments", () => {
    assert.deepEqual(
      logicalLines("a  # c\n# only a comment\nb \\\n  c\\\n d\n\ne#not-a-comment\n"),
      [
        { text: "a", line: 1 },
        { text: "b    c  d", line: 3 },
        { text: "e#not-a-comment", line: 7 },
      ],
      "pip's reading of the lines",
    );
  });
});

describe("readRequirementsTree: exact messages and pip's reading of odd lines", () => {
  it("a DependencyError is named so", () => {
    const dir = projectWith({});
    assert.equal(errorOf(() => readRequirementsTree(dir, "requirements.txt")).name, "DependencyError", "its name");
  });

  it("a missing entry file names the path alone; an include of .. points outside the project", () => {
    const dir = projectWith({ "requirements.txt": "-r ..\n" });
    assert.equal(errorOf(() => readRequirementsTree(dir, "nope.txt")).message, `nope.txt: ${path.join(dir, "nope.txt")} does not exist`, "no include hint for the entry");
    assert.equal(
      errorOf(() => readRequirementsTree(dir, "requirements.txt")).message,
      `\`-r ..\` (requirements.txt line 1) points outside the project (${dir}): only files inside app.path reach the image`,
      "the parent directory",
    );
  });

  it("a file: URL include is refused; an http(s) URL that merely contains file: is left to pip", () => {
    const dir = projectWith({ "requirements.txt": "django\n-r file:///srv/reqs.txt\n" });
    assert.equal(
      errorOf(() => readRequirementsTree(dir, "requirements.txt")).message,
      "`-r file:///srv/reqs.txt` (requirements.txt line 2): write a path relative to requirements.txt instead of a file: URL",
      "the message",
    );
    const remote = projectWith({ "requirements.txt": "-r https://example.com/profile:web.txt\n" });
    assert.deepEqual(readRequirementsTree(remote, "requirements.txt").files, ["requirements.txt"], "remote include");
  });

  it("a package whose name ends in -r, -c, -e or -f is a requirement, not an option", () => {
    const dir = projectWith({ "requirements.txt": "django-c==1.0\nfoo-r==2.0\nbar-e\nbaz-f==1\n" });
    assert.deepEqual(readRequirementsTree(dir, "requirements.txt").files, ["requirements.txt"], "nothing included, nothing refused");
  });

  it("a local path written with ./ after -r is read, even when it holds ://", () => {
    const dir = projectWith({ "requirements.txt": "-r ./v1://base.txt\n", "v1:/base.txt": "django\n" });
    assert.deepEqual(readRequirementsTree(dir, "requirements.txt").files, ["requirements.txt", "v1:/base.txt"], "the local include");
  });

  it("refuses a bare -e, ../ paths and the project itself with extras; a remote --find-links after several spaces is fine", () => {
    for (const line of ["-e", "../libs/foo", ".[prod]", ".."]) {
      const dir = projectWith({ "requirements.txt": `${line}\n` });
      const err = errorOf(() => readRequirementsTree(dir, "requirements.txt"));
      assert.ok(err.message.startsWith(`\`${line}\` (requirements.txt line 1): `), `names the line for ${line}: ${err.message}`);
    }
    const remote = projectWith({ "requirements.txt": "--find-links  https://download.example/wheels/\ndjango\n" });
    assert.deepEqual(readRequirementsTree(remote, "requirements.txt").files, ["requirements.txt"], "two spaces before the URL");
  });

  it("a lone CR ends a line, as Python's splitlines() does for pip", () => {
    const dir = projectWith({ "requirements.txt": "django\r-r base.txt\r", "base.txt": "" });
    assert.deepEqual(readRequirementsTree(dir, "requirements.txt").files, ["requirements.txt", "base.txt"], "the include on the second line");
  });
});

describe("logicalLines: edges", () => {
  it("trims each line; a continuation at the very end of the file still counts, comments dropped", () => {
    assert.deepEqual(logicalLines("  django  \na\n  b#c  \\"), [
      { text: "django", line: 1 },
      { text: "a", line: 2 },
      { text: "b#c", line: 3 },
    ], "trimmed lines and a trailing continuation");
    assert.deepEqual(logicalLines("a\n# note \\"), [{ text: "a", line: 1 }], "a trailing commented continuation");
    assert.deepEqual(logicalLines("a\u2028b\fc"), [
      { text: "a", line: 1 },
      { text: "b", line: 2 },
      { text: "c", line: 3 },
    ], "U+2028 and form feed end lines too");
    assert.deepEqual(logicalLines("PyVISA==1.12\vVV"), [
      { text: "PyVISA==1.12", line: 1 },
      { text: "VV", line: 2 },
    ], "a vertical tab ends a line; the letter V does not");
  });
});
