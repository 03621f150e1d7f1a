// Equivalent mutants of the "config" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const configEquivalents: EquivalentMutant[] = [];
