// Helpers for the engine harness's own tests: a stack of a fixture program in a temp dir.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineStack, EngineStackOptions, RunResult } from "./";

export const FIXTURES = path.join(__dirname, "..", "..", "engine", "fixtures");

export interface FixtureRun {
  dir: string;
  /** A stack of `fixture` with this config, on the run's one state file. */
  stack(config: Record<string, unknown>, extra?: Partial<EngineStackOptions>): EngineStack;
  /** The lines the commands appended to $LOG so far. */
  log(): string[];
  logFile: string;
  cleanup(): void;
}

export function fixtureRun(fixture: string): FixtureRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-engine-test-"));
  const logFile = path.join(dir, "log.txt");
  return {
    dir,
    logFile,
    stack: (config, extra = {}) =>
      new EngineStack({
        stateFile: path.join(dir, "state.json"),
        project: "fixture",
        stack: "test",
        program: path.join(FIXTURES, fixture),
        cwd: FIXTURES,
        config: { "fixture:log": logFile, ...config },
        ...extra,
      }),
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean) : []),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** "name:op" of the custom resources' steps, in execution order. */
export function ops(r: RunResult): string[] {
  return r.steps.filter((s) => s.custom).map((s) => `${s.name}:${s.op}`);
}

/** Fails with the run's error and log when it did not succeed. */
export function mustSucceed(r: RunResult, what: string): RunResult {
  if (!r.ok) throw new Error(`${what} failed: ${r.error}\n--- log ---\n${r.log.slice(-3000)}`);
  return r;
}
