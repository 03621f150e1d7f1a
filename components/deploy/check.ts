// The deploy plans' hand-written checks: for what a schema cannot say (rules across entries),
// and for single values where a plan is built without a schema. Pure.
import { port } from "../config/fields";

/** Throws `message` as an Error unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** The stack schema's port rule (config/fields.ts), for a number. */
export function isPort(n: number): boolean {
  return typeof n === "number" && port.safeParse(n).success;
}
