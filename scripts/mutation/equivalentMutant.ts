// One surviving mutant that no test can kill, because the mutated program behaves the same:
// the module, Stryker's mutator, the original text and the replacement exactly as the report
// shows them, and why.
export interface EquivalentMutant {
  /** Path from the repository root. */
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  why: string;
}
