// Which surviving mutant an equivalent-mutant entry (equivalents/*.ts) stands for, and which
// entries stand for none any more. Entries match exact source text, so an edit to the code
// silently orphans them: scripts/mutation.ts reports those, loudly, and fails.
import type { EquivalentMutant } from "./equivalentMutant";

/** A mutant as Stryker's JSON report has it. */
export interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

/** A report's modules: path from the repository root -> its source and mutants. */
export type ReportFiles = Record<string, { source: string; mutants: ReportMutant[] }>;

/** Statuses of a mutant no test caught: the only ones an equivalent entry may explain. */
export const UNDETECTED = new Set(["Survived", "NoCoverage"]);

/** The source text a mutant replaced (Stryker's columns are 1-based, its end exclusive). */
export function originalText(source: string, mutant: ReportMutant): string {
  const lines = source.split("\n");
  const { start, end } = mutant.location;
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  return [lines[start.line - 1].slice(start.column - 1), ...lines.slice(start.line, end.line - 1), lines[end.line - 1].slice(0, end.column - 1)].join("\n");
}

export function matchesEntry(entry: EquivalentMutant, file: string, mutant: ReportMutant, original: string): boolean {
  return entry.file === file && entry.mutator === mutant.mutatorName && entry.original === original && entry.replacement === (mutant.replacement ?? "");
}

/** The entry that explains an undetected mutant, if any. */
export function equivalentFor(entries: EquivalentMutant[], file: string, mutant: ReportMutant, original: string): EquivalentMutant | undefined {
  return entries.find((e) => matchesEntry(e, file, mutant, original));
}

export interface StaleEntry {
  entry: EquivalentMutant;
  /** "no mutant": the code changed (or the file moved); "killed": a test catches it now, so it was never equivalent. */
  reason: "no mutant" | "killed";
}

/**
 * The entries that explain no undetected mutant of the given reports. Only entries whose file
 * some report mutates are judged, unless `complete` (every group's report was read): then an
 * entry for a file no report mutates is stale too (the module moved or left the groups).
 */
export function staleEquivalents(entries: EquivalentMutant[], reports: ReportFiles[], complete: boolean): StaleEntry[] {
  const files = new Map<string, { source: string; mutants: ReportMutant[] }>();
  for (const report of reports) for (const [file, f] of Object.entries(report)) files.set(file, f);
  const stale: StaleEntry[] = [];
  for (const entry of entries) {
    const f = files.get(entry.file);
    if (!f) {
      if (complete) stale.push({ entry, reason: "no mutant" });
      continue;
    }
    const matching = f.mutants.filter((m) => matchesEntry(entry, entry.file, m, originalText(f.source, m)));
    if (matching.length === 0) stale.push({ entry, reason: "no mutant" });
    else if (!matching.some((m) => UNDETECTED.has(m.status))) stale.push({ entry, reason: "killed" });
  }
  return stale;
}
