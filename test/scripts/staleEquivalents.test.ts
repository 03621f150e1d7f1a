// The matching of equivalent-mutant entries to a Stryker report (scripts/mutation/staleEquivalents.ts):
// an entry explains a surviving mutant only by exact file, mutator, original text and replacement,
// and an entry that explains none (the code changed, the file moved, a test kills it now) is stale.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EquivalentMutant } from "../../scripts/mutation/equivalentMutant";
import { equivalentFor, originalText, ReportFiles, ReportMutant, staleEquivalents } from "../../scripts/mutation/staleEquivalents";

const SOURCE = ["export function f(a: number): number {", "  if (a !== 0) return 1;", "  return [", "    2,", "  ][0];", "}"].join("\n");

function mutant(id: string, mutatorName: string, replacement: string, start: [number, number], end: [number, number], status = "Survived"): ReportMutant {
  return { id, mutatorName, replacement, status, location: { start: { line: start[0], column: start[1] }, end: { line: end[0], column: end[1] } } };
}

// `a !== 0` is line 2, columns 7 to 14 (1-based, end exclusive).
const INVERTED = mutant("1", "EqualityOperator", "a === 0", [2, 7], [2, 14]);
const ALWAYS = mutant("2", "ConditionalExpression", "true", [2, 7], [2, 14], "Killed");
const ARRAY = mutant("3", "ArrayDeclaration", "[]", [3, 10], [5, 4], "NoCoverage");
const REPORT: ReportFiles = { "components/f.ts": { source: SOURCE, mutants: [INVERTED, ALWAYS, ARRAY] } };

const entry = (over: Partial<EquivalentMutant> = {}): EquivalentMutant => ({
  file: "components/f.ts",
  mutator: "EqualityOperator",
  original: "a !== 0",
  replacement: "a === 0",
  why: "a test reason",
  ...over,
});

describe("originalText: the source a mutant replaced", () => {
  test("within one line, 1-based columns, end exclusive", () => {
    assert.equal(originalText(SOURCE, INVERTED), "a !== 0", "the condition");
  });
  test("across lines: the first line from its column, whole middle lines, the last line to its column", () => {
    assert.equal(originalText(SOURCE, ARRAY), "[\n    2,\n  ]", "the array literal over three lines");
  });
  test("across exactly two lines", () => {
    assert.equal(originalText(SOURCE, mutant("4", "BlockStatement", "{}", [1, 38], [2, 5])), "{\n  if", "the end of the first line and the start of the second");
  });
});

describe("equivalentFor: an entry explains a mutant only by all four fields", () => {
  test("the same file, mutator, original and replacement match", () => {
    assert.equal(equivalentFor([entry()], "components/f.ts", INVERTED, "a !== 0")?.why, "a test reason", "found");
  });
  const misses: [string, Partial<EquivalentMutant>][] = [
    ["another file", { file: "components/g.ts" }],
    ["another mutator", { mutator: "ConditionalExpression" }],
    ["another original", { original: "a !== 1" }],
    ["another replacement", { replacement: "a == 0" }],
  ];
  for (const [what, over] of misses) {
    test(`${what} does not match`, () => {
      assert.equal(equivalentFor([entry(over)], "components/f.ts", INVERTED, "a !== 0"), undefined, what);
    });
  }
  test("a mutant without a replacement matches an empty replacement", () => {
    const bare: ReportMutant = { ...INVERTED, replacement: undefined };
    assert.ok(equivalentFor([entry({ replacement: "" })], "components/f.ts", bare, "a !== 0"), "an empty replacement");
    assert.equal(equivalentFor([entry()], "components/f.ts", bare, "a !== 0"), undefined, "not a non-empty one");
  });
});

describe("staleEquivalents: entries that explain no surviving mutant of the last reports", () => {
  test("an entry matching a surviving or uncovered mutant is not stale", () => {
    const uncovered = entry({ mutator: "ArrayDeclaration", original: "[\n    2,\n  ]", replacement: "[]" });
    assert.deepEqual(staleEquivalents([entry(), uncovered], [REPORT], true), [], "both still explain a mutant");
  });

  test("an entry whose original text changed matches nothing: stale", () => {
    const changed = entry({ original: "a != 0" });
    assert.deepEqual(staleEquivalents([entry(), changed], [REPORT], true), [{ entry: changed, reason: "no mutant" }], "only the changed one");
  });

  test("an entry whose only mutant is killed now: stale, it was not equivalent", () => {
    const killed = entry({ mutator: "ConditionalExpression", replacement: "true" });
    assert.deepEqual(staleEquivalents([killed], [REPORT], true), [{ entry: killed, reason: "killed" }], "killed");
  });

  test("an entry matching a killed and a surviving mutant is kept", () => {
    const twice: ReportFiles = { "components/f.ts": { source: SOURCE, mutants: [{ ...INVERTED, status: "Killed" }, { ...INVERTED, id: "9" }] } };
    assert.deepEqual(staleEquivalents([entry()], [twice], true), [], "one survivor is enough");
  });

  test("an entry for a file no report mutates: stale once every report was read, unjudged otherwise", () => {
    const moved = entry({ file: "components/moved.ts" });
    assert.deepEqual(staleEquivalents([moved], [REPORT], true), [{ entry: moved, reason: "no mutant" }], "every group's report read: the file moved or left the groups");
    assert.deepEqual(staleEquivalents([moved], [REPORT], false), [], "a group without a report may hold it: not judged");
  });

  test("the files of several reports are all searched", () => {
    const other: ReportFiles = { "components/g.ts": { source: "x", mutants: [mutant("5", "StringLiteral", '""', [1, 1], [1, 2])] } };
    const inG = entry({ file: "components/g.ts", mutator: "StringLiteral", original: "x", replacement: '""' });
    assert.deepEqual(staleEquivalents([entry(), inG], [REPORT, other], true), [], "an entry of each report matches");
  });
});
