// The engine harness's lifecycle rules, on local.Commands that append to a log file: what runs,
// in which order, with which (old or new) inputs, and what the state keeps.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { isSecret, reveal, UNKNOWN } from "../support/engine";
import { fixtureRun, FixtureRun, mustSucceed, ops } from "../support/engine/fixtureRun";

const runs: FixtureRun[] = [];
const newRun = () => {
  const r = fixtureRun("commands.ts");
  runs.push(r);
  return r;
};
after(() => runs.forEach((r) => r.cleanup()));

const T = { timeout: 180_000 };
const appendTo = (line: string) => `echo "${line}" >> "$LOG"`;

test("creates follow dependencies; a run with no change performs nothing", T, async () => {
  const run = newRun();
  const commands = [
    { name: "a", create: `${appendTo("create-a")}; echo A` },
    { name: "b", create: appendTo("create-b $FROM_A"), envFrom: { FROM_A: "a" } },
  ];
  const first = mustSucceed(await run.stack({ "fixture:commands": commands }).up(), "first up");
  assert.deepEqual(ops(first), ["a:create", "b:create"], "creates in dependency order");
  assert.deepEqual(run.log(), ["create-a", "create-b A"], "b ran with a's stdout");
  assert.deepEqual(reveal(first.outputs.stdouts), { a: "A", b: "" }, "stdout has its one trailing newline trimmed");

  const second = mustSucceed(await run.stack({ "fixture:commands": commands }).up(), "second up");
  assert.deepEqual(ops(second), ["a:same", "b:same"], "nothing changed");
  assert.equal(second.steps.filter((s) => s.ran).length, 0, "no step ran anything");
  assert.deepEqual(run.log(), ["create-a", "create-b A"], "no command ran again");
});

test("an input change runs `update` with the previous stdout in PULUMI_COMMAND_STDOUT", T, async () => {
  const run = newRun();
  const b = (x: string) => ({ name: "b", create: "echo B1", update: `${appendTo("update-b prev=$PULUMI_COMMAND_STDOUT x=$X")}; echo B2`, environment: { X: x } });
  mustSucceed(await run.stack({ "fixture:commands": [b("1")] }).up(), "first up");
  const second = mustSucceed(await run.stack({ "fixture:commands": [b("2")] }).up(), "second up");
  assert.deepEqual(ops(second), ["b:update"], "an environment change is an update");
  assert.deepEqual(run.log(), ["update-b prev=B1 x=2"], "update ran with the old stdout and the new input");
  assert.equal(reveal(second.outputs.stdouts).b, "B2", "the update's stdout is the new output");
});

test("a replace creates first; replaced and removed resources are deleted at the end, with their old inputs, dependents first", T, async () => {
  const run = newRun();
  const v1 = [
    { name: "a", create: appendTo("create-a1"), delete: appendTo("delete-a1"), triggers: [1] },
    { name: "b", create: appendTo("create-b"), delete: appendTo("delete-b"), dependsOn: ["a"] },
    { name: "c", create: appendTo("create-c"), delete: appendTo("delete-c"), dependsOn: ["b"], component: "group" },
  ];
  const first = mustSucceed(await run.stack({ "fixture:commands": v1 }).up(), "first up");
  const group = first.steps.find((s) => s.name === "group");
  assert.deepEqual(group && { op: group.op, ran: group.ran, custom: group.custom }, { op: "create", ran: false, custom: false }, "a component is recorded, never performed");

  const v2 = [
    { name: "a", create: appendTo("create-a2"), delete: appendTo("delete-a2"), triggers: [2] },
    { name: "d", create: appendTo("create-d"), dependsOn: ["a"] },
  ];
  const second = mustSucceed(await run.stack({ "fixture:commands": v2 }).up(), "second up");
  assert.deepEqual(ops(second), ["a:create-replacement", "d:create", "c:delete", "b:delete", "a:delete-replaced"], "steps in the engine's order");
  assert.deepEqual(
    run.log(),
    ["create-a1", "create-b", "create-c", "create-a2", "create-d", "delete-c", "delete-b", "delete-a1"],
    "the old a is deleted last, with its old delete command",
  );
  assert.deepEqual(run.stack({}).resources().filter((r) => r.custom).map((r) => r.name), ["a", "d"], "the state holds the new resources only");
});

test("deleteBeforeReplace deletes the old resource before creating its replacement", T, async () => {
  const run = newRun();
  const a = (v: number) => ({ name: "a", create: appendTo(`create-a${v}`), delete: appendTo(`delete-a${v}`), triggers: [v], deleteBeforeReplace: true });
  mustSucceed(await run.stack({ "fixture:commands": [a(1)] }).up(), "first up");
  const second = mustSucceed(await run.stack({ "fixture:commands": [a(2)] }).up(), "second up");
  assert.deepEqual(ops(second), ["a:delete-replaced", "a:create-replacement"], "delete first");
  assert.deepEqual(run.log(), ["create-a1", "delete-a1", "create-a2"], "the old delete command ran before the new create");
});

test("deleteBeforeReplace first deletes the dependents its replacement would replace", T, async () => {
  const run = newRun();
  const commands = (v: number) => [
    { name: "a", create: `${appendTo(`create-a${v}`)}; echo A${v}`, delete: appendTo(`delete-a${v}`), triggers: [v], deleteBeforeReplace: true },
    { name: "b", create: appendTo("create-b $FROM_A"), delete: appendTo("delete-b $FROM_A"), triggersFrom: ["a"], envFrom: { FROM_A: "a" } },
    { name: "c", create: appendTo("create-c"), delete: appendTo("delete-c"), dependsOn: ["a"] },
  ];
  mustSucceed(await run.stack({ "fixture:commands": commands(1) }).up(), "first up");
  const second = mustSucceed(await run.stack({ "fixture:commands": commands(2) }).up(), "second up");
  // b's triggers hold a's stdout: replacing a replaces b, so b goes first; c only dependsOn a and stays.
  assert.deepEqual(ops(second).filter((o) => !o.startsWith("c:")), ["b:delete-replaced", "a:delete-replaced", "a:create-replacement", "b:create-replacement"], "dependent deleted before the old a");
  assert.deepEqual(ops(second).filter((o) => o.startsWith("c:")), ["c:same"], "a plain dependsOn does not replace c");
  assert.deepEqual(
    run.log().filter((l) => !l.startsWith("create-c")),
    ["create-a1", "create-b A1", "delete-b A1", "delete-a1", "create-a2", "create-b A2"],
    "old b deleted with its old environment, then old a, then the new ones",
  );
});

test("a protected resource is neither replaced nor deleted", T, async () => {
  const run = newRun();
  const a = (v: number) => ({ name: "a", create: appendTo(`create-a${v}`), delete: appendTo(`delete-a${v}`), triggers: [v], protect: true });
  mustSucceed(await run.stack({ "fixture:commands": [a(1)] }).up(), "first up");
  const replace = await run.stack({ "fixture:commands": [a(2)] }).up();
  assert.equal(replace.ok, false, "the replace is refused");
  assert.match(replace.error ?? "", /unable to replace resource ".*::a"\nas it is currently marked for protection/, "the engine's message");
  const remove = await run.stack({ "fixture:commands": [] }).up();
  assert.equal(remove.ok, false, "the delete is refused");
  assert.match(remove.error ?? "", /cannot be deleted\nbecause it is protected/, "the engine's message");
  assert.deepEqual(run.log(), ["create-a1"], "nothing ran after the create");
});

test("a failed run keeps replaced olds pending-delete; the next run deletes them at its end, not first", T, async () => {
  const run = newRun();
  const a = (v: number) => ({ name: "a", create: appendTo(`create-a${v}`), delete: appendTo(`delete-a${v}`), triggers: [v] });
  const b = (v: number, create: string) => ({ name: "b", create, delete: appendTo(`delete-b${v}`), triggers: [v], dependsOn: ["a"] });
  mustSucceed(await run.stack({ "fixture:commands": [a(1), b(1, appendTo("create-b1"))] }).up(), "first up");

  const failed = await run.stack({ "fixture:commands": [a(2), b(2, "echo broken >&2; exit 3")] }).up();
  assert.equal(failed.ok, false, "the run fails");
  assert.match(failed.error ?? "", /exit status 3: running "echo broken >&2; exit 3":\nbroken/, "the provider's error, with the command's output");
  assert.deepEqual(ops(failed), ["a:create-replacement", "b:create-replacement"], "no delete ran after the failure");
  const stored = run.stack({}).resources().filter((r) => r.custom).map((r) => `${r.name}${r.delete ? " (pending delete)" : ""}`);
  assert.deepEqual(stored, ["a", "a (pending delete)", "b"], "new a, old a pending delete, old b kept; the failed b stored nothing");

  const third = mustSucceed(await run.stack({ "fixture:commands": [a(2), b(2, appendTo("create-b2"))] }).up(), "third up");
  assert.deepEqual(ops(third), ["a:same", "b:create-replacement", "b:delete-replaced", "a:delete-replaced"], "pending deletes run at the end");
  assert.deepEqual(run.log(), ["create-a1", "create-b1", "create-a2", "create-b2", "delete-b1", "delete-a1"], "old b before old a, each with its old command");
});

test("preview runs nothing: changed outputs are unknown and applies on them do not run; same resources keep their outputs", T, async () => {
  const run = newRun();
  const markerB = path.join(run.dir, "marker-b");
  const markerC = path.join(run.dir, "marker-c");
  const commands = (x: string) => [
    { name: "a", create: `${appendTo("create-a")}; echo A$X`, environment: { X: x } },
    { name: "b", create: `${appendTo("create-b")}; echo B`, envFrom: { FROM_A: "a" } },
    { name: "c", create: `${appendTo("create-c")}; echo C` },
  ];
  const markers = [{ on: "b", file: markerB }, { on: "c", file: markerC }];
  mustSucceed(await run.stack({ "fixture:commands": commands("1") }).up(), "first up");

  const preview = mustSucceed(await run.stack({ "fixture:commands": commands("2"), "fixture:applyMarkers": markers }).preview(), "preview");
  // c does not depend on a: the SDK may register it first, as under the real engine.
  assert.deepEqual(ops(preview).sort(), ["a:update", "b:update", "c:same"], "a changes, b's input (a's stdout) is unknown, c is untouched");
  assert.equal(preview.steps.filter((s) => s.ran).length, 0, "preview ran nothing");
  assert.deepEqual(run.log().sort(), ["create-a", "create-b", "create-c"], "no command ran after the first up");
  assert.deepEqual(preview.outputs.stdouts, { a: UNKNOWN, b: UNKNOWN, c: "C" }, "changed outputs unknown, same ones stored");
  assert.equal(fs.existsSync(markerB), false, "the apply on b's unknown stdout did not run");
  assert.equal(fs.readFileSync(markerC, "utf8"), "C", "the apply on c's stored stdout ran");
  const storedA = run.stack({}).resources().find((r) => r.name === "a");
  assert.equal(reveal(storedA?.inputs.environment).X, "1", "preview stored nothing");
});

test("ignoreChanges keeps the old value of an ignored input: no update", T, async () => {
  const run = newRun();
  const a = (x: string) => ({ name: "a", create: appendTo("create-a x=$X"), update: appendTo("update-a x=$X"), environment: { X: x }, ignoreChanges: ["environment.X"] });
  mustSucceed(await run.stack({ "fixture:commands": [a("1")] }).up(), "first up");
  const second = mustSucceed(await run.stack({ "fixture:commands": [a("2")] }).up(), "second up");
  assert.deepEqual(ops(second), ["a:same"], "the ignored change is no change");
  assert.deepEqual(run.log(), ["create-a x=1"], "nothing ran");
  const stored = run.stack({}).resources().find((r) => r.name === "a");
  assert.equal(reveal(stored!.inputs.environment).X, "1", "the state keeps the old value");
});

test("a changed trigger replaces (the SDK's replaceOnChanges triggers[*]); other changes update", T, async () => {
  const run = newRun();
  const a = (trigger: string, x: string) => ({ name: "a", create: appendTo("create-a"), update: appendTo("update-a"), delete: appendTo("delete-a"), triggers: [trigger], environment: { X: x } });
  mustSucceed(await run.stack({ "fixture:commands": [a("t1", "1")] }).up(), "first up");
  const updated = mustSucceed(await run.stack({ "fixture:commands": [a("t1", "2")] }).up(), "update");
  assert.deepEqual(ops(updated), ["a:update"], "an environment change updates");
  const replaced = mustSucceed(await run.stack({ "fixture:commands": [a("t2", "2")] }).up(), "replace");
  assert.deepEqual(ops(replaced), ["a:create-replacement", "a:delete-replaced"], "a trigger change replaces");
  assert.deepEqual(run.log(), ["create-a", "update-a", "create-a", "delete-a"], "create then the old delete");
});

test("destroy deletes everything stored in reverse dependency order without running the program", T, async () => {
  const run = newRun();
  const commands = [
    { name: "a", create: ":", delete: appendTo("delete-a") },
    { name: "b", create: ":", delete: appendTo("delete-b"), dependsOn: ["a"] },
    { name: "c", create: ":", delete: appendTo("delete-c"), dependsOn: ["b"] },
  ];
  mustSucceed(await run.stack({ "fixture:commands": commands }).up(), "up");
  // Config the program would reject: destroy must not run it.
  const destroyed = mustSucceed(await run.stack({ "fixture:commands": "not a list" }).destroy(), "destroy");
  assert.deepEqual(ops(destroyed), ["c:delete", "b:delete", "a:delete"], "dependents first");
  assert.deepEqual(run.log(), ["delete-c", "delete-b", "delete-a"], "each delete command ran");
  assert.deepEqual(run.stack({}).resources(), [], "nothing is left in the state");
});

test("secrets stay secret: in the inputs, the stack outputs, and nowhere in plain state", T, async () => {
  const run = newRun();
  const token = "s3cret-token-value";
  const commands = [{ name: "a", create: appendTo("got $(sha256sum | cut -c1-12)"), secretStdin: true }];
  const r = mustSucceed(await run.stack({ "fixture:commands": commands, "fixture:token": token }, { secretKeys: ["fixture:token"] }).up(), "up");
  const expected = (await import("node:crypto")).createHash("sha256").update(token).digest("hex").slice(0, 12);
  assert.deepEqual(run.log(), [`got ${expected}`], "the command got the secret whole on stdin");
  assert.ok(isSecret(r.outputs.secretToken), "the secret stack output is marked secret");
  const a = run.stack({}).resources().find((x) => x.name === "a")!;
  assert.ok(isSecret(a.inputs.stdin), "the stored stdin input is secret");
  const leaked = run.stack({}).plainValues().filter((v) => v.includes(token));
  assert.deepEqual(leaked, [], "no plain stored value contains the secret");
});

test("customTimeouts kill a local command that runs too long; the failed create stores nothing", T, async () => {
  const run = newRun();
  const started = Date.now();
  // `exec`: the killed process is the one holding stdout. Like Go's cmd.Wait (no WaitDelay in
  // pulumi-command), the harness waits for the output pipes, so a grandchild would hold the run.
  const r = await run.stack({ "fixture:commands": [{ name: "slow", create: "exec sleep 30", createTimeout: "1s" }] }).up();
  assert.equal(r.ok, false, "the run fails");
  assert.match(r.error ?? "", /signal: killed: running "exec sleep 30"/, "exec.CommandContext's kill");
  assert.ok(Date.now() - started < 25_000, `the run ended long before the command would have (${Date.now() - started} ms)`);
  assert.deepEqual(run.stack({}).resources().filter((x) => x.custom), [], "nothing stored for the failed create");
});
