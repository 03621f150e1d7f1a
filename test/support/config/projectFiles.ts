// For the tests of the dependency readers: a throwaway project folder, and the DependencyError a
// call throws.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";
import { DependencyError } from "../../../components/config/requirementsFiles";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A temp project holding these files (paths relative to it); removed after the test file. */
export function projectWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-project-"));
  dirs.push(dir);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** The DependencyError `fn` throws; fails the test if it throws nothing or something else. */
export function dependencyErrorOf(fn: () => unknown): DependencyError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DependencyError, `expected a DependencyError, got ${err}`);
    return err;
  }
  assert.fail("no error was thrown");
}
