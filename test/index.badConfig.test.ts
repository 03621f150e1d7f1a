// The program (index.ts) with an invalid stack config: the import fails with one error naming
// every bad key, before any resource is registered.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../components/config/stackFile";
import { REPO_ROOT } from "./support/docker";
import { drainRegistrations, installMocks } from "./support/mocks";

const raw = readStackFile(REPO_ROOT, "local");
const app = raw.values.app as { roles: Record<string, Record<string, unknown>> };
const mocks = installMocks({
  stack: "local",
  config: {
    "pydeploy:target": "local",
    "pydeploy:app": { ...app, roles: { ...app.roles, web: { ...app.roles.web, port: 70000 } } },
    "pydeploy:colour": "blue",
  },
});

test("a bad port and an unknown key: one error naming both, and nothing registered", async () => {
  process.chdir(REPO_ROOT);
  let error: unknown;
  await assert.rejects(import("../index"), (err: unknown) => {
    error = err;
    return true;
  });
  const message = String((error as Error).message);
  assert.ok(pulumi.RunError.isInstance(error), "a RunError: Pulumi prints the message without a stack trace");
  assert.match(message, /^invalid stack configuration:/);
  assert.match(message, /pydeploy:app\.roles\.web\.port: expected a port from 1 to 65535, got 70000/);
  assert.match(message, /pydeploy: unknown key "colour"/);
  await drainRegistrations();
  assert.deepEqual(mocks.resources, []);
});
