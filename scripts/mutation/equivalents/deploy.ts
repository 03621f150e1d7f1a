// Equivalent mutants of the "deploy" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const deployEquivalents: EquivalentMutant[] = [];
