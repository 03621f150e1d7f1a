// Equivalent mutants of the "runner" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const runnerEquivalents: EquivalentMutant[] = [];
