// How the step contract (spec.ts, containerSpec.ts) words a refused value: one line for the
// deployer's error, each problem naming its path in the spec.
import type { z } from "zod";

/** zod issues as one line: "path: message; path: message" ("(root)" for the spec itself). */
export function issueList(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}
