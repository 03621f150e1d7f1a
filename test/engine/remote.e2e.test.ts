// remote.Command and CopyToRemote under the engine harness, over real SSH to a Docker-in-Docker
// test server (sshd with Debian's "AcceptEnv LANG LC_*"): SFTP upload into the login home,
// Setenv semantics, update vs replace, the old connection and delete command at the end, the
// pinned host key and the dial limit.
import assert from "node:assert/strict";
import { generateSshKeyPair } from "../support/ssh/sshKeys";
import { after, before, test } from "node:test";
import { reveal } from "../support/engine";
import { serverExec, startTestServer, stopTestServer, TestServer } from "../support/ssh/sshServer";
import { fixtureRun, mustSucceed, ops } from "../support/engine/fixtureRun";

const run = fixtureRun("copy.ts");
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  if (server) await stopTestServer(server);
  run.cleanup();
});

function stackWith(extra: Record<string, unknown>) {
  return run.stack(
    {
      "fixture:host": server.host,
      "fixture:user": "deploy",
      "fixture:privateKey": server.privateKey,
      "fixture:hostKey": server.hostKey,
      "fixture:dir": run.dir,
      "fixture:deleteCommand": 'echo "deleted $(cat uploads/app.txt)" >> deleted.log',
      ...extra,
    },
    { secretKeys: ["fixture:privateKey"] },
  );
}

const inHome = async (command: string) => (await serverExec(server, ["sh", "-c", `cd /home/deploy && ${command}`], { allowFailure: true })).stdout;

test("remote steps over SSH: upload, Setenv rules, update vs replace, old state at the end, host key, destroy", { timeout: 600_000 }, async () => {
  const first = mustSucceed(await stackWith({ "fixture:version": "1" }).up(), "first up");
  assert.deepEqual(ops(first), ["make:create", "upload:create", "show:create"], "in dependency order");
  assert.equal(await inHome("cat uploads/app.txt"), "version 1\n", "SFTP put the file under the login's home, parents created");
  assert.equal(reveal(first.outputs.shown), "version 1\nenv=", "the command read it; its stdout lost one trailing newline");

  const again = mustSucceed(await stackWith({ "fixture:version": "1" }).up(), "no-change up");
  assert.deepEqual(ops(again), ["make:same", "upload:same", "show:same"], "nothing to do");

  const rejected = await stackWith({ "fixture:version": "1", "fixture:environment": { FIXTURE_ENV: "x" } }).up();
  assert.equal(rejected.ok, false, "an environment variable sshd refuses fails the step");
  assert.match(rejected.error ?? "", /could not set environment variable "FIXTURE_ENV"/, "the provider's Setenv error");
  assert.equal(await inHome("test -e ran-update && echo ran"), "", "the update command never ran");

  const accepted = mustSucceed(await stackWith({ "fixture:version": "1", "fixture:environment": { LANG: "C.UTF-8" } }).up(), "LANG env");
  assert.deepEqual(ops(accepted), ["make:same", "upload:same", "show:update"], "an environment change is an update");
  assert.equal(reveal(accepted.outputs.shown), "version 1\nprev=", "PULUMI_COMMAND_STDOUT was refused (no AcceptEnv): empty, the run goes on");
  assert.ok(accepted.diagnostics.some((d) => d.includes("Unable to set 'PULUMI_COMMAND_STDOUT'")), "with a warning");

  const second = mustSucceed(await stackWith({ "fixture:version": "2", "fixture:environment": { LANG: "C.UTF-8" } }).up(), "version 2");
  assert.deepEqual(ops(second), ["make:update", "upload:update", "show:create-replacement", "show:delete-replaced"], "the trigger replaces show; the old one is deleted last");
  assert.equal(second.steps.find((s) => s.name === "upload")?.ran, true, "the new content was copied");
  assert.equal(await inHome("cat uploads/app.txt"), "version 2\n", "the file has the new content");
  assert.equal(await inHome("cat deleted.log"), "deleted version 2\n", "the old show's delete ran at the end, after the upload");

  const wrongKey = `ssh-ed25519 ${generateSshKeyPair().public.split(" ")[1]}`;
  const mismatch = await stackWith({ "fixture:version": "3", "fixture:environment": { LANG: "C.UTF-8" }, "fixture:hostKey": wrongKey, "fixture:dialErrorLimit": 1 }).up();
  assert.equal(mismatch.ok, false, "a pinned host key that does not match fails");
  assert.match(mismatch.error ?? "", /after 1 failed attempts: ssh: handshake failed: ssh: host key mismatch/, "dialErrorLimit 1: two dials, then Go's error text");
  assert.equal(await inHome("cat uploads/app.txt"), "version 2\n", "nothing was uploaded");

  const destroyed = mustSucceed(await stackWith({}).destroy(), "destroy");
  assert.deepEqual(ops(destroyed), ["show:delete", "upload:delete", "make:delete"], "dependents first");
  assert.equal(await inHome("cat deleted.log"), "deleted version 2\ndeleted version 2\n", "show's stored delete ran with its stored connection");
  assert.equal(await inHome("cat uploads/app.txt"), "version 2\n", "CopyToRemote has no delete: the file stays");
});
