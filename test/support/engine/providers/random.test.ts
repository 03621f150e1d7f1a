// The random.RandomPassword model (random.ts) and its bcrypt (bcrypt.ts), without an engine: the
// generated strings, Check's failures, the planned state, Diff's replaces, the secret outputs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSecret, PropertyMap, reveal, SECRET_SIG, SIG_KEY, UNKNOWN } from "../properties";
import type { ResourceState } from "../state";
import { bcryptHash, bcryptMatches, piFractionWords } from "./bcrypt";
import { providerModelFor } from "./index";
import {
  createString,
  DEFAULT_SPECIAL,
  keepersReplace,
  LOWER_CHARS,
  NUM_CHARS,
  NUMBER_NUMERIC_CONFLICT,
  PASSWORD_INPUTS,
  randomPassword,
  StringParams,
  UPPER_CHARS,
} from "./random";
import type { OperationContext } from "./types";

const TYPE = "random:index/randomPassword:RandomPassword";
const ctx = (preview = false): OperationContext => ({
  urn: `urn:pulumi:test::proj::${TYPE}::db-password`,
  type: TYPE,
  name: "db-password",
  preview,
  projectDir: "/nonexistent",
  env: {},
  providerConfig: {},
  warn: () => undefined,
});
const stateOf = (inputs: PropertyMap, outputs: PropertyMap): ResourceState => ({
  urn: ctx().urn,
  type: TYPE,
  name: "db-password",
  custom: true,
  id: "none",
  inputs,
  outputs,
  dependencies: [],
  propertyDependencies: {},
  options: { ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [], customTimeouts: {}, protect: false, retainOnDelete: false },
});
const params = (p: Partial<StringParams>): StringParams => ({
  length: 16,
  upper: true,
  minUpper: 0,
  lower: true,
  minLower: 0,
  numeric: true,
  minNumeric: 0,
  special: true,
  minSpecial: 0,
  overrideSpecial: "",
  ...p,
});
const count = (s: string, set: string) => Array.from(s).filter((c) => set.includes(c)).length;
/** bcrypt's base64 of raw bytes, to feed Go's test vectors' salts. */
const saltOf = (encoded: string) =>
  Buffer.from(
    Array.from(encoded, (c) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"["./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".indexOf(c)]).join(""),
    "base64",
  );

async function created(inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap; checked: PropertyMap }> {
  const checked = await randomPassword.check(ctx(), inputs, undefined);
  assert.deepEqual(checked.failures, [], `inputs ${JSON.stringify(inputs)} pass Check`);
  const r = await randomPassword.create(ctx(), checked.inputs);
  return { id: r.id, outputs: r.outputs, checked: checked.inputs };
}

describe("bcrypt as golang.org/x/crypto/bcrypt", () => {
  test("Blowfish's tables are pi's hexadecimal digits", () => {
    const words = piFractionWords();
    assert.equal(words.length, 18 + 1024, "P-array and four S-boxes");
    assert.deepEqual([words[0], words[17], words[18], words[1041]], [0x243f6a88, 0x8979fb1b, 0xd1310ba6, 0x3ac372e6], "P[0], P[17], S0[0], S3[255] of blowfish/const.go");
  });

  test("x/crypto's own test vectors: TestBcryptingIsCorrect and TestTooLongPasswordsWork", () => {
    const salt = saltOf("XajjQvNhvvRt5GSeFk1xFe");
    assert.equal(bcryptHash("allmine", 10, salt), "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "bcrypt_test.go:32-34");
    assert.equal(
      bcryptHash("012345678901234567890123456789012345678901234567890123456", 10, salt),
      "$2a$10$XajjQvNhvvRt5GSeFk1xFe5l47dONXg781AmZtd869sO8zfsHuw7C",
      "bcrypt_test.go:66-69: past Blowfish's 56-byte key",
    );
  });

  test("a random salt each time; CompareHashAndPassword accepts the password only; over 72 bytes is refused", () => {
    const a = bcryptHash("s3cret-é", 4);
    const b = bcryptHash("s3cret-é", 4);
    assert.match(a, /^\$2a\$04\$[./A-Za-z0-9]{53}$/, "$2a$, the cost, 22 + 31 characters");
    assert.notEqual(a, b, "two salts");
    assert.equal(bcryptMatches(a, "s3cret-é"), true, "the password matches");
    assert.equal(bcryptMatches(b, "s3cret-é"), true, "under either salt");
    assert.equal(bcryptMatches(a, "s3cret-e"), false, "another password does not");
    assert.throws(() => bcryptHash("x".repeat(73)), /password length exceeds 72 bytes/, "ErrPasswordTooLong");
  });
});

describe("random.CreateString", () => {
  test("the length in characters, from the enabled classes only", () => {
    for (const length of [1, 16, 64, 200]) assert.equal(createString(params({ length })).length, length, `length ${length}`);
    const alnum = createString(params({ length: 500, special: false }));
    assert.equal(count(alnum, UPPER_CHARS + LOWER_CHARS + NUM_CHARS), 500, "special: false leaves letters and digits");
    const digits = createString(params({ length: 300, upper: false, lower: false, special: false }));
    assert.match(digits, /^[0-9]{300}$/, "numeric only");
    const lowerSpecial = createString(params({ length: 300, upper: false, numeric: false }));
    assert.equal(count(lowerSpecial, LOWER_CHARS + DEFAULT_SPECIAL), 300, "lower and the default specials");
    assert.ok(count(lowerSpecial, DEFAULT_SPECIAL) > 0, "the specials are used");
  });

  test("every character of a class can come out (crypto randomness over the whole set)", () => {
    const seen = new Set(Array.from({ length: 400 }, () => createString(params({ length: 1, upper: false, lower: false, special: false }))));
    assert.deepEqual([...seen].sort().join(""), NUM_CHARS, "all ten digits in 400 one-digit passwords");
    const runs = new Set(Array.from({ length: 20 }, () => createString(params({ length: 16 }))));
    assert.equal(runs.size, 20, "twenty different passwords");
  });

  test("the minimums are met, and shuffled in", () => {
    for (let i = 0; i < 50; i++) {
      const s = createString(params({ length: 12, minUpper: 3, minLower: 3, minNumeric: 3, minSpecial: 3 }));
      assert.equal(s.length, 12, "length");
      for (const [set, what] of [[UPPER_CHARS, "upper"], [LOWER_CHARS, "lower"], [NUM_CHARS, "numeric"], [DEFAULT_SPECIAL, "special"]] as const) {
        assert.equal(count(s, set), 3, `exactly 3 ${what} in ${s}`);
      }
    }
    const positions = new Set(Array.from({ length: 100 }, () => createString(params({ length: 10, upper: false, special: false, numeric: false, minNumeric: 1 })).search(/[0-9]/)));
    assert.ok(positions.size > 5, `the forced digit lands anywhere (positions ${[...positions].join(",")})`);
  });

  test("a minimum of a turned-off class still adds that class (string.go:55-70 ignores the switches)", () => {
    const s = createString(params({ length: 20, upper: false, minUpper: 4 }));
    assert.equal(count(s, UPPER_CHARS), 4, `4 uppercase although upper is false: ${s}`);
  });

  test("overrideSpecial replaces the specials; lengths count characters, not bytes", () => {
    const s = createString(params({ length: 200, upper: false, lower: false, numeric: false, overrideSpecial: "-_" }));
    assert.match(s, /^[-_]{200}$/, "only the override's characters");
    const runes = createString(params({ length: 50, upper: false, lower: false, numeric: false, overrideSpecial: "éß€", minSpecial: 5 }));
    assert.equal(Array.from(runes).length, 50, "50 characters");
    assert.match(runes, /^[éß€]+$/u, "multi-byte specials");
    const ignored = createString(params({ length: 100, special: false, overrideSpecial: "~" }));
    assert.equal(ignored.includes("~"), false, "the override needs special: true");
    assert.throws(() => createString(params({ upper: false, lower: false, numeric: false, special: false })), /the character set specified is empty/, "no class at all");
  });
});

describe("random.RandomPassword model", () => {
  test("is the registered model of the type", () => {
    assert.equal(providerModelFor(TYPE), randomPassword, "providers/index.ts maps the token to it");
  });

  test("Check returns the inputs as given (no defaults) and the validators' failures, without a property", async () => {
    const inputs = { length: 24, special: false };
    assert.deepEqual(await randomPassword.check(ctx(), inputs, undefined), { inputs, failures: [] }, "valid: unchanged");
    const reasons = async (news: PropertyMap) => (await randomPassword.check(ctx(), news, undefined)).failures.map((f) => [f.property, f.reason]);
    assert.deepEqual(
      await reasons({ length: 0 }),
      [["", "Invalid Attribute Value. Attribute length value must be at least 1, got: 0. Examine values at 'db-password.length'."]],
      "AtLeast(1)",
    );
    assert.deepEqual(
      await reasons({ length: 5, minUpper: 2, minSpecial: 4 }),
      [["", "Invalid Attribute Value. Attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: 5. Examine values at 'db-password.length'."]],
      "AtLeastSumOf",
    );
    assert.deepEqual(await reasons({ length: 5, minUpper: UNKNOWN, minSpecial: 9 }), [], "an unknown minimum skips the sum");
    assert.deepEqual(
      await reasons({ length: 8, numeric: false, special: false, upper: false, lower: false }),
      [["", "Invalid Attribute Combination. At least one attribute out of [special,upper,lower,numeric] must be specified as true. Examine values at 'db-password.numeric'."]],
      "AtLeastOneOfTrue on numeric",
    );
    assert.deepEqual(await reasons({ length: 8, numeric: false, special: false, upper: false }), [], "lower unset (default true) is enough");
    assert.equal((await reasons({ length: 8, number: false, special: false, upper: false, lower: false }))[0][1].includes("[special,upper,lower,number]"), true, "and on number");
    assert.match((await reasons({}))[0][1], /^Missing required property 'length': The length of the string desired\./, "length is required");
  });

  test("Create: a password of the asked shape, id \"none\", result and bcryptHash secret, defaults in the state", async () => {
    const { id, outputs } = await created({ length: 32, minNumeric: 2, minSpecial: 2, overrideSpecial: "!#%" });
    assert.equal(id, "none", "the ID");
    assert.equal(outputs.id, "none", "the id output");
    assert.ok(isSecret(outputs.result), "result is secret");
    assert.ok(isSecret(outputs.bcryptHash), "bcryptHash is secret");
    const result: string = reveal(outputs.result) as string;
    assert.equal(result.length, 32, "32 characters");
    assert.match(result, /^[A-Za-z0-9!#%]+$/, "letters, digits and the override's specials");
    assert.ok(count(result, NUM_CHARS) >= 2 && count(result, "!#%") >= 2, `the minimums: ${result}`);
    assert.equal(bcryptMatches(reveal(outputs.bcryptHash) as string, result), true, "bcryptHash is the result's hash");
    const { result: _r, bcryptHash: _h, ...rest } = outputs;
    assert.deepEqual(
      rest,
      {
        __meta: '{"schema_version":"3"}',
        id: "none",
        length: 32,
        lower: true,
        minLower: 0,
        minNumeric: 2,
        minSpecial: 2,
        minUpper: 0,
        number: true,
        numeric: true,
        overrideSpecial: "!#%",
        special: true,
        upper: true,
      },
      "the planned state: defaults, number = numeric, no keepers",
    );
  });

  test("bcryptHash of a password over 72 bytes hashes its first 72 (generateHash)", async () => {
    const { outputs } = await created({ length: 100 });
    const result = reveal(outputs.result) as string;
    const hash = reveal(outputs.bcryptHash) as string;
    assert.equal(bcryptMatches(hash, result.slice(0, 72)), true, "the first 72 bytes (ASCII) match");
  });

  test("preview: the planned state with result, bcryptHash and id unknown; nothing generated", async () => {
    const r = await randomPassword.create(ctx(true), { length: 16, numeric: false, keepers: { v: "1" } });
    assert.equal(r.id, "", "no ID in preview");
    assert.equal(r.ran, false, "nothing ran");
    assert.deepEqual(
      r.outputs,
      {
        bcryptHash: UNKNOWN,
        id: UNKNOWN,
        keepers: { v: "1" },
        length: 16,
        lower: true,
        minLower: 0,
        minNumeric: 0,
        minSpecial: 0,
        minUpper: 0,
        number: false,
        numeric: false,
        result: UNKNOWN,
        special: true,
        upper: true,
      },
      "number follows numeric",
    );
  });

  test("number and numeric set differently fail the plan (Create, preview, Diff)", async () => {
    await assert.rejects(randomPassword.create(ctx(true), { length: 8, number: true, numeric: false }), { message: NUMBER_NUMERIC_CONFLICT }, "in preview");
    const { outputs, checked } = await created({ length: 8 });
    await assert.rejects(randomPassword.diff(ctx(), stateOf(checked, outputs), { length: 8, number: false, numeric: true }, []), { message: NUMBER_NUMERIC_CONFLICT }, "in Diff");
  });

  test("Diff: the same inputs, or the defaults spelled out, are no change", async () => {
    const { outputs, checked } = await created({ length: 20, special: false, keepers: { db: "main" } });
    const old = stateOf(checked, outputs);
    const diff = (news: PropertyMap) => randomPassword.diff(ctx(), old, news, []);
    assert.equal((await diff(checked)).detailed.size, 0, "unchanged inputs");
    const spelled = { length: 20, special: false, upper: true, lower: true, number: true, minUpper: 0, minLower: 0, minNumeric: 0, minSpecial: 0, keepers: { db: "main" } };
    assert.equal((await diff(spelled)).detailed.size, 0, "explicit defaults equal the stored ones");
    assert.equal((await diff({ ...checked, numeric: true })).detailed.size, 0, "numeric: true where number was defaulted");
    const secretKeeper = { ...checked, keepers: { db: { [SIG_KEY]: SECRET_SIG, value: "main" } } };
    assert.equal((await diff(secretKeeper)).detailed.size, 0, "a value turned secret is no change (the provider sees no secrets)");
  });

  test("Diff: any input change replaces", async () => {
    const base = { length: 20, keepers: { db: "main" }, overrideSpecial: "!" };
    const { outputs, checked } = await created(base);
    const old = stateOf(checked, outputs);
    const changes: Record<string, PropertyMap> = {
      length: { length: 21 },
      special: { special: false },
      upper: { upper: false },
      lower: { lower: false },
      numeric: { numeric: false },
      number: { number: false },
      minUpper: { minUpper: 1 },
      minLower: { minLower: 1 },
      minNumeric: { minNumeric: 1 },
      minSpecial: { minSpecial: 1 },
      overrideSpecial: { overrideSpecial: "?" },
      keepers: { keepers: { db: "replica" } },
    };
    assert.deepEqual(Object.keys(changes).sort(), [...PASSWORD_INPUTS].sort(), "every input is tried");
    for (const [what, change] of Object.entries(changes)) {
      const d = await randomPassword.diff(ctx(), old, { ...checked, ...change }, []);
      assert.ok(d.detailed.size > 0, `${what}: a change`);
      assert.deepEqual(d.replacePaths.sort(), [...d.detailed.keys()].sort(), `${what}: every changed path replaces`);
    }
    const numeric = await randomPassword.diff(ctx(), old, { ...checked, numeric: false }, []);
    assert.deepEqual([...numeric.detailed.keys()].sort(), ["number", "numeric"], "numeric drags number along");
    const keeper = await randomPassword.diff(ctx(), old, { ...checked, keepers: { db: "main", pg: "16" } }, []);
    assert.deepEqual([[...keeper.detailed], keeper.replacePaths], [[["keepers.pg", "add"]], ["keepers.pg"]], "an added keeper replaces");
    const { keepers: _dropped, ...withoutKeepers } = checked;
    const dropped = await randomPassword.diff(ctx(), old, withoutKeepers, []);
    assert.deepEqual(dropped.replacePaths, ["keepers"], "removing the keepers replaces");
    const unknown = await randomPassword.diff(ctx(), old, { ...checked, length: UNKNOWN }, []);
    assert.deepEqual(unknown.replacePaths, ["length"], "an unknown length replaces (known after apply)");
  });

  test("Diff: the two in-place updates, keepers null <-> {} and overrideSpecial \"\" -> unset; Update keeps the password", async () => {
    const { outputs, checked } = await created({ length: 12, overrideSpecial: "" });
    const old = stateOf(checked, outputs);
    const emptyKeepers = await randomPassword.diff(ctx(), old, { ...checked, keepers: {} }, []);
    assert.deepEqual([[...emptyKeepers.detailed], emptyKeepers.replacePaths], [[["keepers", "add"]], []], "{} where there were none: an update");
    const unset = await randomPassword.diff(ctx(), old, { length: 12 }, []);
    assert.deepEqual([[...unset.detailed], unset.replacePaths], [[["overrideSpecial", "delete"]], []], "overrideSpecial \"\" -> unset: an update");
    const updated = await randomPassword.update(ctx(), old, { length: 12 });
    assert.equal(updated.outputs.overrideSpecial, undefined, "the plan is copied into the state");
    assert.deepEqual([updated.outputs.result, updated.outputs.bcryptHash, updated.outputs.id], [outputs.result, outputs.bcryptHash, "none"], "the password, its hash and id stay");
    const set = await randomPassword.diff(ctx(), stateOf({ length: 12 }, updated.outputs), { length: 12, overrideSpecial: "" }, []);
    assert.deepEqual(set.replacePaths, ["overrideSpecial"], "but unset -> \"\" replaces");
  });

  test("keepers' replace rule (RequiresReplaceIfValuesNotNull)", () => {
    assert.equal(keepersReplace(null, null), false, "none to none");
    assert.equal(keepersReplace(null, {}), false, "none to empty");
    assert.equal(keepersReplace({}, null), false, "empty to none");
    assert.equal(keepersReplace(null, { a: null }), false, "only null values added");
    assert.equal(keepersReplace(null, { a: "1" }), true, "a value added");
    assert.equal(keepersReplace({ a: "1" }, { a: "1", b: null }), false, "a null key added");
    assert.equal(keepersReplace({ a: "1" }, { a: "2" }), true, "a value changed");
    assert.equal(keepersReplace({ a: "1" }, {}), true, "a key removed");
    assert.equal(keepersReplace({ a: "1" }, { a: UNKNOWN }), true, "a value unknown");
  });

  test("Delete does nothing remote", async () => {
    const { outputs, checked } = await created({ length: 8 });
    assert.deepEqual(await randomPassword.delete(ctx(), stateOf(checked, outputs)), { ran: false }, "nothing ran");
  });
});
