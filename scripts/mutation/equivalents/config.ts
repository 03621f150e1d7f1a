// Equivalent mutants of the "config" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

const SCHEMA = "components/config/schema.ts";
// zod 4 (node_modules/zod/v4/core/util.js, finalizeIssue): a check without its own error map
// falls back to the error map of the schema that owns it.
const SAME_AS_SCHEMA = "the schema this check belongs to has the very same error, and zod 4 gives a check without its own error the schema's (finalizeIssue)";

export const configEquivalents: EquivalentMutant[] = [
  {
    file: SCHEMA,
    mutator: "StringLiteral",
    original: '"custom"',
    replacement: '""',
    why: "every addIssue gives its own message, which zod uses whatever the code; parseStackConfig reads only the codes unrecognized_keys and invalid_key",
  },
  { file: SCHEMA, mutator: "ObjectLiteral", original: "{ error: `expected ${what}` }", replacement: "{}", why: `.int/.min/.max of integer() and .min(1) of nonEmpty(): ${SAME_AS_SCHEMA}` },
  { file: SCHEMA, mutator: "ObjectLiteral", original: '{ error: "expected GiB of memory, e.g. 4" }', replacement: "{}", why: `.positive() of memoryGb: ${SAME_AS_SCHEMA}` },
  {
    file: SCHEMA,
    mutator: "ConditionalExpression",
    original: "!(err instanceof HostKeyError)",
    replacement: "false",
    why: "parseHostKeyLine (components/config/hostKey.ts) throws only HostKeyError for a string, and zod passes it a string: the re-throw of anything else is a guard against future changes",
  },
  {
    file: SCHEMA,
    mutator: "Regex",
    original: String.raw`/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/`,
    replacement: String.raw`/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s$/`,
    why: "the regex tests pem.trim() + \"\\n\": after the END line there is always exactly one whitespace character, the added newline",
  },
  {
    file: SCHEMA,
    mutator: "StringLiteral",
    original: '"\\n"',
    replacement: '""',
    why: "line 169, the newline added to the trimmed caRoot: the regex ends in \\s*$, which matches with or without it (the other \"\\n\" of the file, ConfigError's line separator, is killed)",
  },
  {
    file: SCHEMA,
    mutator: "ConditionalExpression",
    original: "v.app.domain !== undefined",
    replacement: "true",
    why: "line 386, inside the role's domain fallback: when app.domain is undefined the expression yields v.app.domain, which is undefined too",
  },
  {
    file: SCHEMA,
    mutator: "ConditionalExpression",
    original: "r.domain === undefined",
    replacement: "true",
    why: "roleSchema already refuses a role with both domain and publish, so with r.domain set r.publish is undefined and the condition is false either way",
  },
  {
    file: SCHEMA,
    mutator: "ConditionalExpression",
    original: "r.port === undefined",
    replacement: "false",
    why: "roleSchema refuses publish without port, so without a port `r.publish ?? r.port` is undefined as well",
  },
  {
    file: SCHEMA,
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    why: "line 477, `sshAllowedCidrs ?? []`: it is undefined only on a production stack without CIDRs, which has already been refused as a problem (ConfigError) before the value is used (every other [] of the file is killed)",
  },
  {
    file: SCHEMA,
    mutator: "ConditionalExpression",
    original: 'v.target === "existing"',
    replacement: "true",
    why: "line 505: a host key with another target is refused (onlyFor), so v.host is undefined whenever the target is not existing",
  },
];
