// How the stack configuration reports what is wrong: one ConfigError listing every problem,
// each naming its key; secret values are never echoed. Pure.
import type { z } from "zod";

/** Keys whose values are Pulumi secrets: never echoed in errors, never in plain outputs. */
export const SECRET_KEYS = ["secretEnv", "sshPrivateKey", "registryPassword", "loadBalancerCertificateKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Records a problem with a key (written without the project prefix). */
export type Problem = (key: string, message: string) => void;

/** zod's issues as problems: the key, what was expected, and what was given (unless secret). */
export function schemaProblems(project: string, issues: readonly z.core.$ZodIssue[], knownKeys: string[]): string[] {
  const key = (p: PropertyKey[]) => `${project}:${p.map(String).join(".")}`;
  return issues.map((issue) => {
    const secret = SECRET_KEYS.includes(issue.path[0] as SecretKey);
    if (issue.code === "unrecognized_keys") {
      const where = issue.path.length ? key(issue.path) : project;
      return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${issue.path.length ? "" : ` (known keys: ${knownKeys.join(", ")})`}`;
    }
    const got = !secret && "input" in issue && issue.input !== undefined ? `, got ${describe(issue.input)}` : "";
    // Defaults fill every optional key, so an undefined input is a required key left out (a union's too).
    const missing = "input" in issue && issue.input === undefined ? " (missing)" : "";
    // A bad record key (role, env or volume name): zod says only "Invalid key in record"; the key's own check says what was expected.
    const message = issue.code === "invalid_key" ? issue.issues.map((i) => i.message).join("; ") : issue.message;
    return `${key(issue.path)}: ${message}${missing}${got}`;
  });
}

/** A given value, short, for a message. */
export function describe(v: unknown): string {
  if (v !== null && typeof v === "object" && "shellOperators" in v) return JSON.stringify((v as { shellOperators: string }).shellOperators);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
