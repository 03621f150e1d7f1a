// Equivalent mutants of the "deploy" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

const ROLE_PORT_GUARD =
  "roles.ts upstreamsOf, proxySites and containerHealthcheck: the config module only gives a role `proxy: true` when it has a port " +
  "(config/resolve.ts resolveRoles: proxy = port !== undefined && proxy) and refuses a healthcheck without a port, so `!r.proxy` / `!r.healthcheck` " +
  "already decide every role without a port; the port test only narrows the type for TypeScript.";

export const deployEquivalents: EquivalentMutant[] = [
  {
    file: "components/deploy/dockerCommands.ts",
    mutator: "ConditionalExpression",
    original: 'case "running":\n      return undefined;',
    replacement: 'case "running":',
    why: "gateProbe: the running case is the last one; without its return it falls off the end of the function, which returns undefined too.",
  },
  {
    file: "components/deploy/dockerCommands.ts",
    mutator: "StringLiteral",
    original: '"running"',
    replacement: '""',
    why: "gateProbe: a running gate then matches no case and the function ends, returning undefined as the running case does.",
  },
  { file: "components/deploy/roles.ts", mutator: "ConditionalExpression", original: "r.port === undefined", replacement: "false", why: ROLE_PORT_GUARD },
  {
    file: "components/deploy/spec.ts",
    mutator: "ConditionalExpression",
    original: "acme.caRoot !== undefined",
    replacement: "true",
    why: "parseSpec passes customCaRoot to validateProxyConfig, which checks only the sites, the ACME email and directory and retrySeconds: customCaRoot changes no check.",
  },
  {
    file: "components/deploy/spec.ts",
    mutator: "ConditionalExpression",
    original: "acme.caRoot !== undefined",
    replacement: "false",
    why: "as for true: validateProxyConfig never reads customCaRoot.",
  },
  {
    file: "components/deploy/spec.ts",
    mutator: "EqualityOperator",
    original: "acme.caRoot !== undefined",
    replacement: "acme.caRoot === undefined",
    why: "as for true: validateProxyConfig never reads customCaRoot.",
  },
];
