// Mutation testing of the pure modules: runs StrykerJS once per group of stryker.config.mjs
// (each group mutates a few modules and runs only the test files covering them), then prints
// the score per module and every surviving mutant; exits 1 when an equivalent-mutant entry
// matches no surviving mutant of the last reports (stale). A developer's tool, not part of .ci/run.
// Usage: tsx scripts/mutation.ts [--full] [--report-only] [--markdown] [group...]   (default: every group)
//   incremental by default: a mutant is tested again only when its code or its tests changed
//   (reports/mutation/<group>.incremental.json); --full tests every mutant; --report-only
//   prints the table of the last run without running Stryker; --markdown prints the scores and
//   the equivalent mutants as the README's tables.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { EQUIVALENT_MUTANTS } from "./mutation/equivalents";
import { equivalentFor, originalText, ReportFiles, staleEquivalents, UNDETECTED } from "./mutation/staleEquivalents";

const ROOT = path.resolve(__dirname, "..");
const GROUPS = ["config", "image", "deploy", "proxy", "runner"] as const;

interface Report {
  files: ReportFiles;
}

/** Stryker's score: detected (killed, timed out) over valid (detected, survived, not covered). */
const DETECTED = new Set(["Killed", "Timeout"]);

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: tsx scripts/mutation.ts [--full] [--report-only] [--markdown] [${GROUPS.join("|")}...]\n`);
  process.exit(2);
}

const reportFile = (group: string) => path.join(ROOT, "reports", "mutation", `${group}.json`);

function readReport(group: string): Report | undefined {
  const file = reportFile(group);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Report) : undefined;
}

const oneLine = (s: string, max = 70) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function summarize(group: string): { rows: string[][]; survivors: string[] } {
  const report = readReport(group);
  if (!report) return { rows: [[group, "(no report: run it first)", "", "", "", "", "", ""]], survivors: [] };
  const rows: string[][] = [];
  const survivors: string[] = [];
  for (const [name, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    let detected = 0;
    let undetected = 0;
    let equivalent = 0;
    for (const m of f.mutants) {
      if (DETECTED.has(m.status)) detected++;
      if (!UNDETECTED.has(m.status)) continue;
      undetected++;
      const original = originalText(f.source, m);
      const why = equivalentFor(EQUIVALENT_MUTANTS, name, m, original)?.why;
      if (why) equivalent++;
      const where = `${name}:${m.location.start.line}:${m.location.start.column}`;
      survivors.push(`${where} ${m.status} ${m.mutatorName}: ${oneLine(original)} -> ${oneLine(m.replacement ?? "")}${why ? `   [equivalent: ${why}]` : ""}`);
    }
    const valid = detected + undetected;
    const pct = (n: number, d: number) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(1)} %`);
    rows.push([group, name, String(f.mutants.length), String(detected), String(undetected - equivalent), String(equivalent), pct(detected, valid), pct(detected, valid - equivalent)]);
  }
  return { rows, survivors };
}

function table(rows: string[][]): string {
  const header = ["group", "module", "mutants", "killed", "survived", "equivalent", "score", "score w/o equivalent"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ")).join("\n");
}

/** The README's two tables: the scores with a total, and every equivalent mutant with why. */
function markdown(rows: string[][]): string {
  const cell = (c: string) => c.replace(/\|/g, "\\|");
  const total = rows.reduce((t, r) => t.map((n, i) => n + Number(r[i + 2])), [0, 0, 0, 0]);
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`;
  const valid = total[1] + total[2] + total[3];
  const scores = [
    "| group | module | mutants | killed | survived | equivalent | score | without equivalents |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r[0]} | \`${r[1].replace(/^components\//, "")}\` | ${r.slice(2).join(" | ")} |`),
    `| all | | ${total.join(" | ")} | ${pct(total[1], valid)} | ${pct(total[1], valid - total[3])} |`,
  ];
  const equivalents = [
    "| module | mutant | why it is equivalent |",
    "|---|---|---|",
    ...EQUIVALENT_MUTANTS.map((e) => `| \`${e.file.replace(/^components\//, "")}\` | ${e.mutator}: \`${cell(oneLine(e.original, 60))}\` → \`${cell(oneLine(e.replacement, 60))}\` | ${cell(e.why)} |`),
  ];
  return `${scores.join("\n")}\n\n${equivalents.join("\n")}\n`;
}

function main(): void {
  const args = process.argv.slice(2);
  const full = args.includes("--full");
  const reportOnly = args.includes("--report-only");
  const asMarkdown = args.includes("--markdown");
  const named = args.filter((a) => !a.startsWith("--"));
  for (const a of args.filter((x) => x.startsWith("--"))) if (a !== "--full" && a !== "--report-only" && a !== "--markdown") usage(`unknown option ${a}`);
  for (const g of named) if (!(GROUPS as readonly string[]).includes(g)) usage(`unknown group ${g}`);
  const groups = named.length ? named : [...GROUPS];

  const times: string[] = [];
  if (!reportOnly) {
    for (const group of groups) {
      const started = Date.now();
      const r = spawnSync("npx", ["stryker", "run", "stryker.config.mjs", ...(full ? ["--force"] : []), "--incremental"], {
        cwd: ROOT,
        stdio: "inherit",
        env: { ...process.env, PYDEPLOY_MUTATION_GROUP: group },
      });
      const seconds = Math.round((Date.now() - started) / 1000);
      times.push(`${group}: ${Math.floor(seconds / 60)} min ${seconds % 60} s`);
      if (r.status !== 0) {
        process.stderr.write(`stryker failed for group ${group} (exit ${r.status ?? r.signal})\n`);
        process.exit(1);
      }
    }
  }
  const results = groups.map(summarize);
  if (asMarkdown) {
    process.stdout.write(markdown(results.flatMap((r) => r.rows)));
    return;
  }
  process.stdout.write(`\nSurviving mutants (kill each with a test, or list it in scripts/mutation/equivalents.ts with why):\n`);
  for (const s of results.flatMap((r) => r.survivors)) process.stdout.write(`  ${s}\n`);
  process.stdout.write(`\nMutation score per module (killed = killed or timed out; reports/mutation/<group>.html has the details):\n`);
  process.stdout.write(`${table(results.flatMap((r) => r.rows))}\n`);
  if (times.length) process.stdout.write(`\nWall time: ${times.join(", ")}\n`);
  // Every group's last report, whichever groups ran: an entry is stale whatever group it is in.
  const reports = GROUPS.map(readReport);
  const stale = staleEquivalents(EQUIVALENT_MUTANTS, reports.flatMap((r) => (r ? [r.files] : [])), reports.every(Boolean));
  if (stale.length) {
    process.stderr.write(`\nSTALE equivalent-mutant entries (scripts/mutation/equivalents/*.ts): ${stale.length}. Each matches no surviving mutant of the last reports; fix or remove it:\n`);
    for (const { entry, reason } of stale) {
      const what = reason === "killed" ? "its mutant is killed now, so it is not equivalent" : "no mutant has this file, mutator, original and replacement";
      process.stderr.write(`  ${entry.file} ${entry.mutator}: ${oneLine(entry.original)} -> ${oneLine(entry.replacement)}   (${what})\n`);
    }
    process.exit(1);
  }
}

main();
