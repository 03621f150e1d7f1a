// The test helper's process runner: the guard that stops a command which printed its failure and hangs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "./localEngine";

const HANGS_AFTER_REFUSAL = ["-c", 'echo "Error response from daemon: refused" >&2; exec sleep 30'];

test("a command that printed the watched failure and hangs is stopped after the grace, its output kept", async () => {
  const started = Date.now();
  const result = await run("sh", HANGS_AFTER_REFUSAL, { allowFailure: true, killAfterStderr: { pattern: /Error response from daemon: /, graceMs: 200 } });
  assert.ok(Date.now() - started < 10_000, `stopped after the grace, not after the 30 s sleep (${Date.now() - started} ms)`);
  assert.notEqual(result.code, 0, "a stopped command is a failure");
  assert.equal(result.stderr, "Error response from daemon: refused\n", "what it printed is kept");
});

test("the guard leaves alone a command whose stderr does not match, and one that exits within the grace", async () => {
  const quiet = await run("sh", ["-c", "echo working >&2; sleep 0.5; echo done"], { killAfterStderr: { pattern: /Error response from daemon: /, graceMs: 100 } });
  assert.deepEqual([quiet.code, quiet.stdout], [0, "done\n"], "no match: it runs to the end");
  const quick = await run("sh", ["-c", 'echo "Error response from daemon: x" >&2; exit 3'], { allowFailure: true, killAfterStderr: { pattern: /Error response from daemon: /, graceMs: 5_000 } });
  assert.equal(quick.code, 3, "exited within the grace: its own exit status");
});
