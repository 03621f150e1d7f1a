// Helpers for the program tests (test/index.*.test.ts): one index.ts import per test process.
import assert from "node:assert/strict";
import { readStackFile } from "../../../components/config/stackFile";
import { REPO_ROOT } from "../docker/localEngine";

/** A committed stack file as Pulumi hands it to the program: "pydeploy:key" and provider keys. */
export function committedStackConfig(stack: string): Record<string, unknown> {
  const raw = readStackFile(REPO_ROOT, stack);
  return { ...Object.fromEntries(Object.entries(raw.values).map(([k, v]) => [`${raw.project}:${k}`, v])), ...raw.providerConfig };
}

/** The local stack's `pydeploy:app`, to deploy the example elsewhere or break it on purpose. */
export function exampleAppValues(): { roles: Record<string, Record<string, unknown>> } & Record<string, unknown> {
  return readStackFile(REPO_ROOT, "local").values.app as { roles: Record<string, Record<string, unknown>> };
}

/** Imports index.ts the way Pulumi runs it: from the project directory (app.path is relative to it). */
export function importProgram(): Promise<typeof import("../../../index")> {
  process.chdir(REPO_ROOT);
  return import("../../../index");
}

/** Imports index.ts expecting it to fail, and returns the error. */
export async function programError(): Promise<Error> {
  let error: unknown;
  await assert.rejects(importProgram(), (err: unknown) => {
    error = err;
    return true;
  });
  return error as Error;
}
