// Equivalent mutants of the "image" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const imageEquivalents: EquivalentMutant[] = [];
