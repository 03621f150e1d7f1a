// Equivalent mutants of the "deploy" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

const ROLE_PORT_GUARD =
  "roles.ts upstreamsOf, proxySites and containerHealthcheck: the config module only gives a role `proxy: true` when it has a port " +
  "(config/resolve.ts resolveRoles: proxy = port !== undefined && proxy) and refuses a healthcheck without a port, so `!r.proxy` / `!r.healthcheck` " +
  "already decide every role without a port; the port test only narrows the type for TypeScript.";

export const deployEquivalents: EquivalentMutant[] = [
  {
    file: "components/deploy/gateProbe.ts",
    mutator: "ConditionalExpression",
    original: 'gate.kind === "http"',
    replacement: "true",
    why: 'gateProbe: a TCP HealthGate has no path (its type has none, and roles.ts gateFor builds it as { kind: "tcp", port }), so gate.path is undefined for it too: the kind test only narrows the type.',
  },
  { file: "components/deploy/roles.ts", mutator: "ConditionalExpression", original: "r.port === undefined", replacement: "false", why: ROLE_PORT_GUARD },
  {
    file: "components/deploy/rollingOrder.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    why: "releaseWaitsFor: every member, member 0 included, is in one batch, so the loop assigns waits[0] and each other index: the array's first element never survives.",
  },
];
