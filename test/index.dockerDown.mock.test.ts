// The program (index.ts) when the docker provider's daemon does not answer: the docker provider
// pings it at every preview, up and destroy (provider-semantics.md), so the program says so
// plainly, before any resource is registered, naming the address and the fix.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { drainRegistrations, installMocks } from "./support/mocks/mocks";
import { committedStackConfig, programError } from "./support/mocks/program";

// A socket path where nothing listens: Docker is "stopped".
const dead = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-no-docker-")), "docker.sock");
process.env.DOCKER_HOST = `unix://${dead}`;
const mocks = installMocks({ stack: "local", config: committedStackConfig("local") });

test("DOCKER_HOST at a dead socket: one clear error, and nothing registered", async () => {
  const error = await programError();
  const message = String(error.message);
  assert.ok(pulumi.RunError.isInstance(error), `a RunError: Pulumi prints the message without a stack trace (${error.stack})`);
  assert.ok(message.startsWith(`the Docker daemon does not answer at unix://${dead} (connect ENOENT ${dead}).`), `it names the address and why: ${message}`);
  assert.match(message, /Every pulumi preview, up and destroy needs it: the docker provider pings it before anything else/, "why it is needed even to destroy");
  assert.match(message, /Start Docker, or point DOCKER_HOST \(or the docker:host config\) at a daemon that runs/, "how to fix it");
  await drainRegistrations();
  assert.deepEqual(mocks.resources, [], "nothing was registered");
});
