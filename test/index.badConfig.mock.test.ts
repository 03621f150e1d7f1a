// The program (index.ts) with an invalid stack config: the import fails with one error naming
// every bad key, before any resource is registered.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { drainRegistrations, installMocks } from "./support/mocks/mocks";
import { exampleAppValues, programError } from "./support/mocks/program";

const app = exampleAppValues();
const mocks = installMocks({
  stack: "local",
  config: {
    "pydeploy:target": "local",
    "pydeploy:app": { ...app, roles: { ...app.roles, web: { ...app.roles.web, port: 70000 } } },
    "pydeploy:colour": "blue",
  },
});

test("a bad port and an unknown key: one error naming both, and nothing registered", async () => {
  const error = await programError();
  const message = String(error.message);
  assert.ok(pulumi.RunError.isInstance(error), "a RunError: Pulumi prints the message without a stack trace");
  assert.match(message, /^invalid stack configuration:/);
  assert.match(message, /pydeploy:app\.roles\.web\.port: expected a port from 1 to 65535, got 70000/);
  assert.match(message, /pydeploy: unknown key "colour"/);
  await drainRegistrations();
  assert.deepEqual(mocks.resources, []);
});
