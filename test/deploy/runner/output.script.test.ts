// The deployer as local.Command runs it: every line it prints, on stdout and stderr, stays far
// below pulumi-command's 64 KiB scanner limit (a longer line hangs `pulumi up` forever), error
// messages that quote a long value included.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_LINE_BYTES } from "../../../components/deploy/outputLines";
import { runnerCommand } from "../../../components/deploy/spec";
import { REPO_ROOT, run } from "../../support/docker/localEngine";

test("an error quoting a 100 KB value is printed in lines of at most 4 KiB, with the cut marked", async () => {
  // The spec's own error names the unknown key: a 100 KB one.
  const spec = { specVersion: 1, target: { kind: "local" }, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 10, removeVolumes: false, ["k".repeat(100_000)]: 1 };
  const r = await run("sh", ["-c", runnerCommand("host")], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYDEPLOY_SPEC: JSON.stringify(spec) },
    input: "{}",
    allowFailure: true,
  });
  assert.equal(r.code, 1, "the step fails");
  // assert.ok, not assert.match: a failure must not print the 100 KB line itself.
  const error = /^pydeploy: error: pydeploy host: invalid PYDEPLOY_SPEC: \(root\): Unrecognized key: "k+…\(\d+ bytes cut\)$/m;
  assert.ok(error.test(r.stderr), `the error, cut: ${r.stderr.slice(0, 200)}…`);
  for (const [name, out] of [["stdout", r.stdout], ["stderr", r.stderr]]) {
    const longest = Math.max(...out.split("\n").map((l) => Buffer.byteLength(l)));
    assert.ok(longest <= MAX_LINE_BYTES, `${name}: a line of ${longest} bytes`);
  }
});
