// Equivalent mutants of the "proxy" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

export const proxyEquivalents: EquivalentMutant[] = [
  {
    file: "components/deploy/proxy/acmeLog.ts",
    mutator: "BlockStatement",
    original: "{\n    return undefined;\n  }",
    replacement: "{}",
    why: "parseLine's catch: a function whose catch block is empty returns undefined as well.",
  },
  {
    file: "components/deploy/proxy/proxyContainer.ts",
    mutator: "ArithmeticOperator",
    original: "a.host - b.host",
    replacement: "a.host + b.host",
    why:
      "sortedPorts' tie-break on the host port is never evaluated: its only callers (proxyRunArgs, and proxySpecHash through it) " +
      "run after validateProxyContainerSettings, which refuses a repeated container port, so a.container - b.container is never 0.",
  },
  {
    file: "components/deploy/proxy/switch.ts",
    mutator: "ConditionalExpression",
    original: 'reach.kind === "http"',
    replacement: "true",
    why:
      "reachProbe: a TCP ReachCheck has no path (its type has none, and roles.ts upstreamsOf builds it as { kind: \"tcp\" }), " +
      "so reach.path is undefined for it too: the kind test only narrows the type.",
  },
  {
    file: "components/deploy/proxy/proxyConfig.ts",
    mutator: "ObjectLiteral",
    original: "{ error: ALIAS_EXPECTED }",
    replacement: "{}",
    why:
      "the alias's .regex() check: its string schema has the very same error, and zod 4 gives a check without its own error " +
      "the schema's (node_modules/zod/v4/core/util.js, finalizeIssue). The other { error: ALIAS_EXPECTED }, the schema's own, is killed.",
  },
];
