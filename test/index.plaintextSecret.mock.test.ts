// The program (index.ts) refuses a secret key stored in plain text (set without --secret),
// before anything is registered, and without echoing the value.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { drainRegistrations, installMocks } from "./support/mocks/mocks";
import { exampleAppValues, programError } from "./support/mocks/program";

const KEY_MATERIAL = "PLAINTEXT-KEY-MATERIAL-33d1";
const mocks = installMocks({
  stack: "mybox",
  config: {
    "pydeploy:app": exampleAppValues(),
    "pydeploy:target": "existing",
    "pydeploy:host": { address: "198.51.100.7" },
    "pydeploy:sshPrivateKey": `-----BEGIN OPENSSH PRIVATE KEY-----\n${KEY_MATERIAL}\n-----END OPENSSH PRIVATE KEY-----\n`,
  },
  // Deliberately no secretKeys: the key was set without --secret.
});

test("an sshPrivateKey set without --secret is refused with the command to fix it", async () => {
  const error = await programError();
  const message = String(error.message);
  assert.ok(pulumi.RunError.isInstance(error), message);
  assert.match(message, /pydeploy:sshPrivateKey: is stored in plain text/);
  assert.match(message, /pulumi config set --secret sshPrivateKey/);
  assert.ok(!message.includes(KEY_MATERIAL), "the value is not echoed");
  await drainRegistrations();
  assert.deepEqual(mocks.resources, []);
});
