// Surviving mutants that no test can kill, because the mutated program behaves the same. Each
// entry names the module, Stryker's mutator, the original text and the replacement exactly as
// the report shows them, and why. scripts/mutation.ts marks them and scores without them.

export interface EquivalentMutant {
  /** Path from the repository root. */
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  why: string;
}

export const EQUIVALENT_MUTANTS: EquivalentMutant[] = [];
