// Equivalent mutants of the "proxy" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const proxyEquivalents: EquivalentMutant[] = [
  {
    file: "components/deploy/proxy/proxyContainer.ts",
    mutator: "ArithmeticOperator",
    original: "a.host - b.host",
    replacement: "a.host + b.host",
    why:
      "sortedPorts' tie-break on the host port is never evaluated: its only callers (proxyRunArgs, and proxySpecHash through it) " +
      "run after validateProxyContainerSpec, which refuses a repeated container port, so a.container - b.container is never 0.",
  },
];
