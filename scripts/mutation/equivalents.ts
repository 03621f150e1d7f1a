// Surviving mutants that no test can kill, one file per mutation group (equivalents/).
// scripts/mutation.ts marks them in its report, scores without them, and fails on a stale one
// (staleEquivalents.ts).
import type { EquivalentMutant } from "./equivalentMutant";
import { configEquivalents } from "./equivalents/config";
import { deployEquivalents } from "./equivalents/deploy";
import { imageEquivalents } from "./equivalents/image";
import { proxyEquivalents } from "./equivalents/proxy";
import { runnerEquivalents } from "./equivalents/runner";

export type { EquivalentMutant };
export const EQUIVALENT_MUTANTS: EquivalentMutant[] = [...configEquivalents, ...imageEquivalents, ...deployEquivalents, ...proxyEquivalents, ...runnerEquivalents];
