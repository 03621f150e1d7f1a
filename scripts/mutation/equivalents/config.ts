// Equivalent mutants of the "config" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

const FIELDS = "components/config/fields.ts";
const APP = "components/config/app.ts";
const DEPLOY = "components/config/deploy.ts";
const SERVER = "components/config/server.ts";
const HOST = "components/config/host.ts";
const RESOLVE = "components/config/resolve.ts";
const SCHEMA = "components/config/schema.ts";
// zod 4 (node_modules/zod/v4/core/util.js, finalizeIssue): a check without its own error map
// falls back to the error map of the schema that owns it.
const SAME_AS_SCHEMA = "the schema this check belongs to has the very same error, and zod 4 gives a check without its own error the schema's (finalizeIssue)";

export const configEquivalents: EquivalentMutant[] = [
  {
    file: APP,
    mutator: "StringLiteral",
    original: '"custom"',
    replacement: '""',
    why: "every addIssue gives its own message, which zod uses whatever the code; parseStackConfig reads only the codes unrecognized_keys and invalid_key",
  },
  {
    file: FIELDS,
    mutator: "StringLiteral",
    original: '"custom"',
    replacement: '""',
    why: "every addIssue gives its own message, which zod uses whatever the code; parseStackConfig reads only the codes unrecognized_keys and invalid_key",
  },
  {
    file: HOST,
    mutator: "StringLiteral",
    original: '"custom"',
    replacement: '""',
    why: "every addIssue gives its own message, which zod uses whatever the code; parseStackConfig reads only the codes unrecognized_keys and invalid_key",
  },
  { file: FIELDS, mutator: "ObjectLiteral", original: "{ error: `expected ${what}` }", replacement: "{}", why: `.int/.min/.max of integer() and .min(1) of nonEmpty(): ${SAME_AS_SCHEMA}` },
  { file: SERVER, mutator: "ObjectLiteral", original: '{ error: "expected GiB of memory, e.g. 4" }', replacement: "{}", why: `.positive() of memoryGb: ${SAME_AS_SCHEMA}` },
  {
    file: HOST,
    mutator: "ConditionalExpression",
    original: "!(err instanceof HostKeyError)",
    replacement: "false",
    why: "parseHostKeyLine (components/config/hostKey.ts) throws only HostKeyError for a string, and zod passes it a string: the re-throw of anything else is a guard against future changes",
  },
  {
    file: DEPLOY,
    mutator: "Regex",
    original: String.raw`/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/`,
    replacement: String.raw`/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s$/`,
    why: "the regex tests pem.trim() + \"\\n\": after the END line there is always exactly one whitespace character, the added newline",
  },
  {
    file: DEPLOY,
    mutator: "StringLiteral",
    original: '"\\n"',
    replacement: '""',
    why: "the newline added to the trimmed caRoot: the regex ends in \\s*$, which matches with or without it",
  },
  {
    file: RESOLVE,
    mutator: "ConditionalExpression",
    original: "app.domain !== undefined",
    replacement: "true",
    why: "resolveRoles, inside the role's domain fallback: when app.domain is undefined the expression yields v.app.domain, which is undefined too",
  },
  {
    file: APP,
    mutator: "ConditionalExpression",
    original: "declared.domain === undefined",
    replacement: "true",
    why: "roleSchema already refuses a role with both domain and publish, so with r.domain set r.publish is undefined and the condition is false either way",
  },
  {
    file: RESOLVE,
    mutator: "ConditionalExpression",
    original: "r.port === undefined",
    replacement: "false",
    why: "roleSchema refuses publish without port, so without a port `r.publish ?? r.port` is undefined as well",
  },
  {
    file: RESOLVE,
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    why: "resolveServer, `sshAllowedCidrs ?? []`: it is undefined only on a production stack without CIDRs, which checkAlicloudServer refuses as a problem (ConfigError) before the value is used",
  },
  {
    file: FIELDS,
    mutator: "ObjectLiteral",
    original: '{ error: "expected a size such as 10m" }',
    replacement: "{}",
    why: `.regex() of logSize: ${SAME_AS_SCHEMA}`,
  },
  {
    file: RESOLVE,
    mutator: "ObjectLiteral",
    original: "{ path: appPath }",
    replacement: "{}",
    why: "resolveProject, when app.path is no directory: the problem it records makes parseStackConfig throw a ConfigError before the returned path is used",
  },
  {
    file: RESOLVE,
    mutator: "ConditionalExpression",
    original: 'environment !== "production"',
    replacement: "true",
    why: "resolveServer: the only production stack that reaches the branch has no sshAllowedCidrs, which checkAlicloudServer refuses (ConfigError) before the value or the warnings are used",
  },
  {
    file: RESOLVE,
    mutator: "StringLiteral",
    original: '"production"',
    replacement: '""',
    why: "resolveServer, `environment !== \"production\"`: as for true, the branch changes only stacks that the production rule refuses",
  },
  {
    file: SCHEMA,
    mutator: "ConditionalExpression",
    original: 'v.target === "existing"',
    replacement: "true",
    why: "schema.ts, `host: v.target === \"existing\" ? …`: a host key with another target is refused (onlyFor), so v.host is undefined whenever the target is not existing",
  },
];
