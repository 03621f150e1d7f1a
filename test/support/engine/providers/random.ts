// random:index/randomPassword:RandomPassword, as pulumi-random 4.21.2 serves it: the Plugin
// Framework resource random_password of terraform-provider-random v3.9.0 (f8d869dc, the shim's pin
// in pulumi-random provider/shim/go.mod) behind pulumi-terraform-bridge v3.137 pkg/pf. Sources:
// R = terraform-provider-random@f8d869dc internal/, B = pulumi-terraform-bridge@59de6c661 pkg/
// (2026-08-05, after v3.136.0; pulumi-random f64d8726 pins v3.137.0).
// - Inputs (pulumi-random f64d8726 provider/cmd/pulumi-resource-random/schema.json:320-460,
//   requiredInputs [length] :454; R provider/resource_password.go:557-751): length, special,
//   upper, lower, numeric (and the deprecated number), minUpper/minLower/minNumeric/minSpecial,
//   overrideSpecial, keepers (map of strings). Defaults: special/upper/lower true, min* 0
//   (booldefault/int64default, :598-706); number and numeric mirror each other, true when both
//   are unset, and differing values are a plan error (R planmodifiers/bool/boolplanmodifiers.go:
//   31-71); overrideSpecial and keepers have no default.
// - Check (B pf/tfbridge/provider_check.go:35-105) returns the inputs unchanged: the defaults are
//   applied by the plan (Diff, Create), so they show in the state, not in the checked inputs.
//   The validators' errors are CheckFailures with no property (B tfbridge/check_failures.go:
//   173-200, 360-385; pf/tfbridge/detect_check_failures.go:33-72): length >= 1 and >= the sum
//   of the min* (int64validator AtLeast, AtLeastSumOf; R :587-595), and numeric/number false
//   with special, upper and lower all false (R validators/boolvalidator.go:42-96).
// - Create (R :52-90, random/string.go:26-113): min* characters of each class, crypto-random,
//   EVEN WHEN the class is turned off (minMapping ignores upper/lower/numeric/special), then the
//   rest from the enabled classes, shuffled by a random byte per character; overrideSpecial,
//   when non-empty, replaces the special set "!@#$%&*()-_=+[]{}<>:?"; lengths count runes.
//   bcryptHash = bcrypt(result truncated to 72 bytes, cost 10) (R :541-555; ./bcrypt.ts).
//   The ID and the "id" output are "none" (R :86; B pf/tfbridge/ids.go:27-56 takes state.id).
//   The state also holds __meta {"schema_version":"3"} (B pf/tfbridge/resource_state.go:48-57,
//   150-180; schema Version 3, R :559) and, not modelled, __pulumi_raw_state_delta.
// - Secrets: result and bcryptHash are Sensitive (R :722-740; schema.json:322-327,372-376
//   "secret": true), so the bridge returns them as secrets (B convert/encoding.go:138-149,
//   convert/secret.go:34-45) and the SDK asks for the same (additionalSecretOutputs:
//   ["bcryptHash", "result"], @pulumi/random randomPassword.js:129). The provider takes no secrets (ConfigureResponse AcceptSecrets false,
//   B pf/internal/plugin/provider_server.go:330-343): it sees plain values, so secret-ness is no
//   change.
// - Preview: the planned state, result, bcryptHash and id unknown, the ID "" (B pf/tfbridge/
//   provider_create.go:62-79).
// - Diff (B pf/tfbridge/provider_diff.go:43-163) compares the prior STATE with the planned one
//   (defaults applied): an input going from unset to its default is no change. Every input
//   replaces (RequiresReplace) except two cases: keepers replaces only when a non-null value
//   changes, is added or a key goes away (R planmodifiers/map/mapplanmodifiers.go:18-99), so
//   null <-> {} is an in-place update; overrideSpecial "" -> unset is an in-place update
//   (R planmodifiers/string/stringplanmodifier.go:21-44), and an unknown overrideSpecial does not
//   replace. Update copies the plan into the state (R :96-107); Read keeps the state
//   (R :92-94); Delete does nothing (R :109-112).
import { randomBytes, randomInt } from "node:crypto";
import { deepEqual, detailedDiff, DiffKind, PropertyMap, revealMap, secret, UNKNOWN, Wire } from "../properties";
import { bcryptHash } from "./bcrypt";
import type { CheckFailure, ProviderModel } from "./types";

export const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

/** The inputs, in the schema's order; every one is in the state too. */
export const PASSWORD_INPUTS = ["keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper", "number", "numeric", "overrideSpecial", "special", "upper"] as const;

export const NUM_CHARS = "0123456789";
export const LOWER_CHARS = "abcdefghijklmnopqrstuvwxyz";
export const UPPER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

/** The TF description of `length`, which the bridge appends to its missing-key failure (check_failures.go:374-377). */
const LENGTH_DESCRIPTION =
  "The length of the string desired. The minimum value for length is 1 and, length must also be >= (`min_upper` + `min_lower` + `min_numeric` + `min_special`).";

/** The plan error of NumberNumericAttributePlanModifier, as processDiagnostics words it (provider_diagnostics.go:143-163). */
export const NUMBER_NUMERIC_CONFLICT = "Number and numeric are both configured with different values: Number is deprecated, use numeric instead";

export interface StringParams {
  length: number;
  upper: boolean;
  minUpper: number;
  lower: boolean;
  minLower: number;
  numeric: boolean;
  minNumeric: number;
  special: boolean;
  minSpecial: number;
  overrideSpecial: string;
}

/** `n` characters of `set`, each uniformly chosen (string.go:91-113, rand.Int). */
function pick(set: string, n: number): string[] {
  const runes = Array.from(set);
  if (runes.length === 0 && n > 0) throw new Error("charSet is empty");
  return Array.from({ length: n }, () => runes[randomInt(runes.length)]);
}

/** random.CreateString (string.go:26-89). */
export function createString(p: StringParams): string {
  const specialChars = p.overrideSpecial !== "" ? p.overrideSpecial : DEFAULT_SPECIAL;
  let chars = "";
  if (p.upper) chars += UPPER_CHARS;
  if (p.lower) chars += LOWER_CHARS;
  if (p.numeric) chars += NUM_CHARS;
  if (p.special) chars += specialChars;
  if (chars === "") throw new Error("the character set specified is empty");
  // A Go map keyed by the character set: an overrideSpecial equal to another set takes its place.
  const minMapping = new Map<string, number>([
    [NUM_CHARS, p.minNumeric],
    [LOWER_CHARS, p.minLower],
    [UPPER_CHARS, p.minUpper],
    [specialChars, p.minSpecial],
  ]);
  const result: string[] = [];
  for (const [set, n] of minMapping) result.push(...pick(set, n));
  const rest = p.length - result.length;
  if (rest < 0) throw new Error("panic: runtime error: makeslice: len out of range (the minimums exceed length)");
  result.push(...pick(chars, rest));
  const order = randomBytes(result.length);
  return result
    .map((c, i) => ({ c, key: order[i] }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.c)
    .join("");
}

/** generateHash (resource_password.go:541-555): bcrypt of the first 72 bytes, DefaultCost. */
export function passwordHash(result: string): string {
  return bcryptHash(Buffer.from(result, "utf8").subarray(0, 72));
}

const isNull = (v: unknown) => v === undefined || v === null;
const isUnknown = (v: unknown) => v === UNKNOWN;

/** The failures ValidateResourceConfig reports, as the bridge words them (reason only, no property). */
export function validatePassword(name: string, plain: Record<string, any>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const at = (prop: string) => `Examine values at '${name}.${prop}'.`;
  const length = plain.length;
  if (isNull(length)) {
    failures.push({ property: "", reason: `Missing required property 'length': ${LENGTH_DESCRIPTION}` });
  } else if (!isUnknown(length)) {
    if (length < 1) failures.push({ property: "", reason: `Invalid Attribute Value. Attribute length value must be at least 1, got: ${length}. ${at("length")}` });
    const mins = [plain.minUpper, plain.minLower, plain.minNumeric, plain.minSpecial];
    if (!mins.some(isUnknown)) {
      const sum = mins.filter((v) => !isNull(v)).reduce((a: number, b: number) => a + b, 0);
      if (length < sum) {
        failures.push({
          property: "",
          reason: `Invalid Attribute Value. Attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: ${length}. ${at("length")}`,
        });
      }
    }
  }
  for (const attr of ["numeric", "number"]) {
    if (plain[attr] !== false) continue;
    const others = [plain.special, plain.upper, plain.lower];
    if (others.some((v) => isUnknown(v) || isNull(v) || v === true)) continue;
    failures.push({
      property: "",
      reason: `Invalid Attribute Combination. At least one attribute out of [special,upper,lower,${attr}] must be specified as true. ${at(attr)}`,
    });
  }
  return failures;
}

/** PlanResourceChange's planned inputs: the defaults and the number/numeric pairing applied, nulls left out. */
export function plannedInputs(inputs: PropertyMap): PropertyMap {
  const plain = revealMap(inputs);
  const { number, numeric } = plain;
  if (typeof number === "boolean" && typeof numeric === "boolean" && number !== numeric) throw new Error(NUMBER_NUMERIC_CONFLICT);
  const pairing: Wire = isUnknown(number) || isUnknown(numeric) ? UNKNOWN : !isNull(numeric) ? inputs.numeric : !isNull(number) ? inputs.number : true;
  const defaults: PropertyMap = { special: true, upper: true, lower: true, minNumeric: 0, minUpper: 0, minLower: 0, minSpecial: 0 };
  const planned: PropertyMap = {};
  for (const key of PASSWORD_INPUTS) {
    const value = key === "number" || key === "numeric" ? pairing : isNull(inputs[key]) ? defaults[key] : inputs[key];
    if (!isNull(value)) planned[key] = value as Wire;
  }
  return planned;
}

/** RequiresReplaceIfValuesNotNull (mapplanmodifiers.go:18-99) on plain keepers. */
export function keepersReplace(state: unknown, config: unknown): boolean {
  if (deepEqual(config as Wire, state as Wire)) return false;
  const elements = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const cfg = elements(config);
  if (isNull(state)) return Object.values(cfg).some((v) => !isNull(v));
  const st = elements(state);
  for (const [k, v] of Object.entries(cfg)) {
    if (!(k in st) && isNull(v)) continue;
    if (deepEqual(v as Wire, st[k] as Wire)) continue;
    return true;
  }
  return Object.keys(st).some((k) => !(k in cfg));
}

const SCHEMA_META = JSON.stringify({ schema_version: "3" });

export const randomPassword: ProviderModel = {
  async check(ctx, news) {
    return { inputs: news, failures: validatePassword(ctx.name, revealMap(news)) };
  },

  async diff(_ctx, old, news) {
    const prior = revealMap(old.outputs);
    const planned = revealMap(plannedInputs(news));
    const detailed = new Map<string, DiffKind>();
    const replacePaths: string[] = [];
    for (const key of PASSWORD_INPUTS) {
      const changes = detailedDiff({ [key]: prior[key] ?? null }, { [key]: planned[key] ?? null });
      if (changes.size === 0) continue;
      for (const [path, kind] of changes) detailed.set(path, kind);
      const replaces =
        key === "keepers"
          ? keepersReplace(prior.keepers, planned.keepers)
          : key === "overrideSpecial"
            ? !isUnknown(planned.overrideSpecial) && !(isNull(planned.overrideSpecial) && prior.overrideSpecial === "")
            : true;
      if (replaces) replacePaths.push(...changes.keys());
    }
    return { detailed, replacePaths };
  },

  async create(ctx, inputs) {
    const planned = plannedInputs(inputs);
    if (ctx.preview) return { id: "", outputs: { ...planned, bcryptHash: UNKNOWN, id: UNKNOWN, result: UNKNOWN }, ran: false };
    const p = revealMap(planned);
    const result = createString({
      length: p.length,
      upper: p.upper,
      minUpper: p.minUpper,
      lower: p.lower,
      minLower: p.minLower,
      numeric: p.numeric,
      minNumeric: p.minNumeric,
      special: p.special,
      minSpecial: p.minSpecial,
      overrideSpecial: p.overrideSpecial ?? "",
    });
    return {
      id: "none",
      ran: true,
      outputs: { __meta: SCHEMA_META, ...planned, bcryptHash: secret(passwordHash(result)), id: "none", result: secret(result) },
    };
  },

  async update(_ctx, old, news) {
    const kept = Object.fromEntries(Object.entries(old.outputs).filter(([k]) => !(PASSWORD_INPUTS as readonly string[]).includes(k)));
    return { outputs: { ...kept, ...plannedInputs(news) }, ran: false };
  },

  async delete() {
    return { ran: false };
  },
};
