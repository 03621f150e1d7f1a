// The program (index.ts) refuses a secret key stored in plain text (set without --secret),
// before anything is registered, and without echoing the value.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../components/config/stackFile";
import { REPO_ROOT } from "./support/docker";
import { drainRegistrations, installMocks } from "./support/mocks";

const KEY_MATERIAL = "PLAINTEXT-KEY-MATERIAL-33d1";
const raw = readStackFile(REPO_ROOT, "local");
const mocks = installMocks({
  stack: "mybox",
  config: {
    "pydeploy:app": raw.values.app,
    "pydeploy:target": "existing",
    "pydeploy:host": { address: "198.51.100.7" },
    "pydeploy:sshPrivateKey": `-----BEGIN OPENSSH PRIVATE KEY-----\n${KEY_MATERIAL}\n-----END OPENSSH PRIVATE KEY-----\n`,
  },
  // Deliberately no secretKeys: the key was set without --secret.
});

test("an sshPrivateKey set without --secret is refused with the command to fix it", async () => {
  process.chdir(REPO_ROOT);
  let error: unknown;
  await assert.rejects(import("../index"), (err: unknown) => {
    error = err;
    return true;
  });
  const message = String((error as Error).message);
  assert.ok(pulumi.RunError.isInstance(error), message);
  assert.match(message, /pydeploy:sshPrivateKey: is stored in plain text/);
  assert.match(message, /pulumi config set --secret sshPrivateKey/);
  assert.ok(!message.includes(KEY_MATERIAL), "the value is not echoed");
  await drainRegistrations();
  assert.deepEqual(mocks.resources, []);
});
