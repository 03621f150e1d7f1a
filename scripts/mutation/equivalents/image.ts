// Equivalent mutants of the "image" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

const REQUIREMENTS = "components/config/requirementsFiles.ts";
const INCLUDE = String.raw`/^(-r|-c|--requirement|--constraint)(?:=|\s+|(?<=^-[rc]))(.+)$/`;
const COMMENT = String.raw`/(^|\s+)#.*$/`;
// logicalLines splits as Python's str.splitlines() does, so no logical line holds \n, \r, U+2028
// or U+2029: the only characters `.` does not match. `.+`/`.*` then always reach the end of the line.
const NO_LINE_BREAKS = "a logical line holds no line terminator (logicalLines splits on all of them), so the greedy .+/.* always reaches the end and $ adds nothing";

export const imageEquivalents: EquivalentMutant[] = [
  {
    file: "components/image/buildFiles.ts",
    mutator: "ConditionalExpression",
    original: "web.port !== undefined",
    replacement: "true",
    why: "`web` is found by `r.healthcheck && r.port !== undefined`, so its port is always defined: the guard only narrows the type",
  },
  {
    file: "components/image/buildFiles.ts",
    mutator: "ObjectLiteral",
    original: "{ mode: t.mode }",
    replacement: "{}",
    why: "fs.chmodSync(t.absolute, t.mode) follows at once and sets the same mode, whatever writeFileSync created the file with",
  },
  {
    file: "components/config/pyproject.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    why: "line 41, the fallback of [project].dynamic: it is only asked whether it includes \"dependencies\" or \"optional-dependencies\", which the mutated list does not hold either (the other [] of the file, list()'s empty result, is killed)",
  },
  {
    file: "components/config/pyproject.ts",
    mutator: "ConditionalExpression",
    original: "v !== null",
    replacement: "true",
    why: "table() only sees values parsed from TOML (or undefined), and TOML has no null",
  },
  { file: REQUIREMENTS, mutator: "Regex", original: INCLUDE, replacement: String.raw`/^(-r|-c|--requirement|--constraint)(?:=|\s+|(?<=^-[rc]))(.+)/`, why: NO_LINE_BREAKS },
  {
    file: REQUIREMENTS,
    mutator: "Regex",
    original: INCLUDE,
    replacement: String.raw`/^(-r|-c|--requirement|--constraint)(?:=|\s|(?<=^-[rc]))(.+)$/`,
    why: "the rest of the whitespace after -r lands at the start of the target, which is trimmed (and logicalLines already trimmed the end)",
  },
  {
    file: REQUIREMENTS,
    mutator: "Regex",
    original: INCLUDE,
    replacement: String.raw`/^(-r|-c|--requirement|--constraint)(?:=|\s+|(?<=-[rc]))(.+)$/`,
    why: "the look-behind follows the option matched at ^: it is -r or -c at the very start, or --requirement/--constraint, which end in t and fail it either way",
  },
  { file: REQUIREMENTS, mutator: "Regex", original: COMMENT, replacement: String.raw`/(^|\s+)#.*/`, why: NO_LINE_BREAKS },
  {
    file: REQUIREMENTS,
    mutator: "Regex",
    original: COMMENT,
    replacement: String.raw`/(^|\s)#.*$/`,
    why: "the same # starts the comment; only whitespace before it stays, and the line is trimmed right after",
  },
  {
    file: REQUIREMENTS,
    mutator: "Regex",
    original: String.raw`/^(-f|--find-links)[=\s]+/`,
    replacement: String.raw`/(-f|--find-links)[=\s]+/`,
    why: "it runs only on a line that /^(-f|--find-links)(\\s|=)/ matched, so the leftmost match is at the start anyway",
  },
];
