// The one step executor (runner/dockerSteps.ts) by behaviour, against a scripted host: skip
// conditions, stdin inputs, retries (allowFailure ones too), and a container's retirement.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Argv } from "../../../components/deploy/dockerCommands";
import type { DockerStep } from "../../../components/deploy/proxy/steps";
import type { Retirement } from "../../../components/deploy/proxy/switch";
import { retireContainer, runDockerSteps } from "../../../components/deploy/runner/dockerSteps";
import type { CommandResult, DockerHost, RunOptions } from "../../../components/deploy/runner/transport";

/** Answers each command by its first word after `docker`: the next scripted result, else exit 0. */
class ScriptedHost implements DockerHost {
  readonly description = "the scripted host";
  readonly bytesSent = 0;
  readonly ran: { argv: Argv; stdin?: string }[] = [];
  constructor(private readonly script: Record<string, CommandResult[]> = {}) {}

  async run(argv: Argv, opts: RunOptions = {}): Promise<CommandResult> {
    this.ran.push({ argv, stdin: typeof opts.stdin === "string" ? opts.stdin : undefined });
    const result = this.script[argv[1]]?.shift() ?? { code: 0, stdout: "", stderr: "" };
    assert.ok(opts.allowFailure, "the executor reads every exit status itself");
    return result;
  }

  async close(): Promise<void> {}
}

const failed = (stderr = "no"): CommandResult => ({ code: 1, stdout: "", stderr });
const step = (word: string, more: Partial<DockerStep> = {}): DockerStep => ({ purpose: `do ${word}`, argv: ["docker", word], ...more });

describe("runDockerSteps", { timeout: 30_000 }, () => {
  test("runs the steps in order and logs each purpose", async () => {
    const host = new ScriptedHost();
    const lines: string[] = [];
    await runDockerSteps(host, [step("one"), step("two")], { log: (l) => lines.push(l) });
    assert.deepEqual(host.ran.map((r) => r.argv[1]), ["one", "two"], "both, in order");
    assert.deepEqual(lines, ["do one", "do two"], "each purpose once it succeeded");
  });

  test("skipIf: skips when the check exits 0 (and prints exactly `stdout`), runs otherwise", async () => {
    const host = new ScriptedHost({ inspect: [{ code: 0, stdout: "abc\n", stderr: "" }, { code: 0, stdout: "abd\n", stderr: "" }, failed()] });
    const guarded = (stdout?: string) => step("create", { skipIf: { argv: ["docker", "inspect"], stdout } });
    await runDockerSteps(host, [guarded("abc"), guarded("abc"), guarded()], { log: () => undefined });
    assert.deepEqual(host.ran.map((r) => r.argv[1]), ["inspect", "inspect", "create", "inspect", "create"], "skipped on a match; run on another stdout and on a failed check");
  });

  test("stdin: the named input is sent; a missing one is an error before anything runs", async () => {
    const host = new ScriptedHost();
    await runDockerSteps(host, [step("load", { stdin: "proxyConfig" })], { stdin: { proxyConfig: "config" }, log: () => undefined });
    assert.equal(host.ran[0].stdin, "config", "the proxy config on stdin");
    await assert.rejects(runDockerSteps(host, [step("write", { stdin: "acmeCaRoot" })], { log: () => undefined }), /do write: no acmeCaRoot was given/, "no input, no run");
    assert.equal(host.ran.length, 1, "the step without its input never ran");
  });

  test("a failure stops the steps and names the step, the command and its output", async () => {
    const host = new ScriptedHost({ one: [failed("boom")] });
    await assert.rejects(runDockerSteps(host, [step("one"), step("two")], { log: () => undefined }), /^Error: this step failed: do one: on the scripted host: `docker one` exited 1:\nboom$/, "named");
    assert.deepEqual(host.ran.map((r) => r.argv[1]), ["one"], "the next step did not run");
  });

  test("retrySeconds: repeats once a second until the command succeeds", async () => {
    const host = new ScriptedHost({ reload: [failed(), failed()] });
    const started = Date.now();
    await runDockerSteps(host, [step("reload", { retrySeconds: 5 })], { log: () => undefined });
    assert.equal(host.ran.length, 3, "two failures, then success");
    assert.ok(Date.now() - started >= 1900, `about a second between tries: ${Date.now() - started} ms`);
  });

  test("allowFailure: a failure is not an error, after retrying until the deadline like any step", async () => {
    const host = new ScriptedHost({ rm: [failed(), failed(), failed(), failed()] });
    await runDockerSteps(host, [step("rm", { allowFailure: true })], { log: () => undefined });
    assert.equal(host.ran.length, 1, "no retrySeconds: one try");
    await runDockerSteps(host, [step("rm", { allowFailure: true, retrySeconds: 1 })], { log: () => undefined });
    assert.ok(host.ran.length >= 3, `with retrySeconds it retried before giving up: ${host.ran.length - 1} tries`);
  });
});

describe("retireContainer", () => {
  const retirement: Retirement = {
    container: "demo-web-v1",
    drain: step("drain"),
    then: [step("detach"), step("stop")],
    ifDrainFails: [step("stop"), step("detach")],
  };

  test("drained: the drain, then `then`", async () => {
    const host = new ScriptedHost();
    assert.equal(await retireContainer(host, retirement, { log: () => undefined }), "drained", "the drain worked");
    assert.deepEqual(host.ran.map((r) => r.argv[1]), ["drain", "detach", "stop"], "off the network, then stopped");
  });

  test("fallback: a failed drain runs `ifDrainFails` instead", async () => {
    const host = new ScriptedHost({ drain: [failed("cannot refuse new connections")] });
    assert.equal(await retireContainer(host, retirement, { log: () => undefined }), "fallback", "the drain failed");
    assert.deepEqual(host.ran.map((r) => r.argv[1]), ["drain", "stop", "detach"], "stopped, then off the network");
  });

  test("fallback: a failure after the drain runs `ifDrainFails` too", async () => {
    const host = new ScriptedHost({ detach: [failed()] });
    assert.equal(await retireContainer(host, retirement, { log: () => undefined }), "fallback", "the detach failed");
    assert.deepEqual(host.ran.map((r) => r.argv[1]), ["drain", "detach", "stop", "detach"], "then the fallback's stop and detach");
  });
});
