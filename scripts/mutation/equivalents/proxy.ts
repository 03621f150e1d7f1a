// Equivalent mutants of the "proxy" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const proxyEquivalents: EquivalentMutant[] = [];
