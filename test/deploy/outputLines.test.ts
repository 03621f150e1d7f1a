// Every line the deployer prints stays far below pulumi-command's 64 KiB scanner limit (a longer
// line hangs `pulumi up`), and a long result still reads back: components/deploy/outputLines.ts
// and the result lines of spec.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundLine, boundLines, MAX_LINE_BYTES, splitBytes } from "../../components/deploy/outputLines";
import { parseResult, releaseResultSchema, RESULT_PART_PREFIX, RESULT_PREFIX, resultLine, resultLines, stepLogOf, type ReleaseResult } from "../../components/deploy/spec";

const bytes = (s: string) => Buffer.byteLength(s);

describe("boundLine", () => {
  test("a line within the bound is printed as it is", () => {
    assert.equal(MAX_LINE_BYTES, 4096, "4 KiB, a sixteenth of the scanner's limit");
    const line = "x".repeat(MAX_LINE_BYTES);
    assert.equal(boundLine(line), line, "exactly the bound");
  });
  test("a longer one keeps its start and says how much was cut, in at most the bound", () => {
    const cut = boundLine("a".repeat(100_000));
    assert.ok(bytes(cut) <= MAX_LINE_BYTES && bytes(cut) > MAX_LINE_BYTES - 8, `at the bound: ${bytes(cut)}`);
    const [, kept, count] = /^(a+)…\((\d+) bytes cut\)$/.exec(cut) ?? [];
    assert.equal(kept.length + Number(count), 100_000, "the marker says how many bytes went: kept + cut = the whole line");
  });
  test("never in the middle of a character", () => {
    const cut = boundLine("é".repeat(50), 21);
    assert.ok(!cut.includes("\uFFFD"), `no broken character: ${cut}`);
    assert.ok(bytes(cut) <= 21, `within the bound: ${bytes(cut)}`);
    assert.match(cut, /^é+…\(\d+ bytes cut\)$/, "whole characters, then the marker");
    assert.equal(bytes(cut.slice(0, cut.indexOf("…"))) + Number(/\((\d+) bytes/.exec(cut)![1]), 100, "kept + cut = the whole line");
  });
  test("boundLines bounds each line of a text, as the scanner splits it (at \\n)", () => {
    const text = `short\n${"b".repeat(10_000)}\r\n\nlast`;
    const lines = boundLines(text).split("\n");
    assert.equal(lines.length, 4, "the same lines");
    assert.deepEqual([lines[0], lines[2], lines[3]], ["short", "", "last"], "short lines untouched");
    assert.ok(bytes(lines[1]) <= MAX_LINE_BYTES && lines[1].endsWith("bytes cut)"), "the long one cut");
  });
});

describe("result lines", () => {
  test("a short result is one line, as before", () => {
    const result = { version: "v1", containers: ["demo-web-v1"] };
    assert.deepEqual(resultLines(result), [resultLine(result)], "one line");
  });
  test("a long one is split into lines within the bound, and parseResult joins them", () => {
    const result: ReleaseResult = { version: "0123456789ab", containers: Array.from({ length: 400 }, (_, i) => `demo-role${i}-0123456789ab-ünïcode`) };
    const lines = resultLines(result);
    assert.ok(lines.length > 2, `split: ${lines.length} lines`);
    for (const line of lines) assert.ok(bytes(line) <= MAX_LINE_BYTES, `a line of ${bytes(line)} bytes`);
    assert.ok(lines.slice(0, -1).every((l) => l.startsWith(RESULT_PART_PREFIX)) && lines.at(-1)!.startsWith(RESULT_PREFIX), "parts, then the result line");
    const stdout = ["pydeploy: release live", ...lines].join("\n");
    assert.deepEqual(parseResult("release", releaseResultSchema, stdout), result, "read back whole");
    assert.deepEqual(parseResult("release", releaseResultSchema, `pydeploy-result: {"old":1}\npydeploy: x\n${lines.join("\n")}`), result, "the last result wins");
    assert.equal(stepLogOf(stdout), "pydeploy: release live", "the log without the result");
    assert.equal(stepLogOf(`pydeploy: one\n${lines.join("\n")}\npydeploy: two\n`), "pydeploy: one\npydeploy: two", "log lines keep their line breaks; empty lines go");
  });
  test("splitBytes: pieces within the size, whole characters, nothing lost", () => {
    const text = "aé€😀".repeat(30);
    const pieces = splitBytes(text, 7);
    assert.equal(pieces.join(""), text, "nothing lost");
    assert.ok(pieces.every((p) => bytes(p) <= 7 && !p.includes("\uFFFD")), "each within 7 bytes, whole characters");
    assert.deepEqual(splitBytes("", 7), [""], "empty");
  });
});
