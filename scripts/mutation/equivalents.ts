// Surviving mutants that no test can kill, one file per mutation group (equivalents/).
// scripts/mutation.ts marks them in its report and scores without them.
import type { EquivalentMutant } from "./equivalentMutant";
import { configEquivalents } from "./equivalents/config";
import { deployEquivalents } from "./equivalents/deploy";
import { imageEquivalents } from "./equivalents/image";
import { proxyEquivalents } from "./equivalents/proxy";

export type { EquivalentMutant };
export const EQUIVALENT_MUTANTS: EquivalentMutant[] = [...configEquivalents, ...imageEquivalents, ...deployEquivalents, ...proxyEquivalents];
