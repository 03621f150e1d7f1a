// The shared formats (components/config/fields.ts): one rule each, for the stack schema and the
// step contract alike. The scenarios through parseStackConfig are in schemaRules.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cidrContains, healthTimeoutSeconds, IMAGE_REF, keepImages, LOG_SIZE, logSize, networkCidr, port, SLUG, slug } from "../../components/config/fields";

const message = (r: { success: boolean; error?: { issues: { message: string }[] } }) => (r.success ? "accepted" : r.error!.issues.map((i) => i.message).join("; "));

describe("fields", () => {
  test("log size: a count and its unit; a bare byte count is refused (the stack schema's rule, now the step contract's too)", () => {
    for (const ok of ["1k", "10m", "2g", "100m"]) assert.ok(LOG_SIZE.test(ok), `${ok} accepted`);
    for (const bad of ["10", "5", "0m", "10M", "10 m", "m", "-1m"]) assert.ok(!LOG_SIZE.test(bad), `${bad} refused`);
    assert.equal(message(logSize.safeParse("10")), "expected a size such as 10m", "the message");
    assert.equal(message(logSize.safeParse(10)), "expected a size such as 10m", "not a string");
  });

  test("healthTimeoutSeconds: 5 to 1800, whole seconds, digit strings count", () => {
    for (const ok of [5, 1800, "60"]) assert.equal(message(healthTimeoutSeconds.safeParse(ok)), "accepted", `${ok}`);
    for (const bad of [4, 1801, 60.5, "x"]) assert.equal(message(healthTimeoutSeconds.safeParse(bad)), "expected seconds from 5 to 1800", `${bad}`);
    assert.equal(message(keepImages.safeParse(1)), "expected a count from 2 to 20 (the running image plus at least one to roll back to)", "keepImages below 2");
  });

  test("port, slug and image reference", () => {
    assert.equal(message(port.safeParse(65536)), "expected a port from 1 to 65535", "port");
    assert.ok(SLUG.test("a-1") && !SLUG.test("a-") && !SLUG.test("A"), "slug");
    assert.equal(message(slug("an app name", 3).safeParse("abcd")), "expected an app name of at most 3 characters", "slug length");
    assert.ok(IMAGE_REF.test(`r.example:5000/ns/demo:v1@sha256:${"a".repeat(64)}`) && !IMAGE_REF.test("Demo"), "image reference");
  });

  test("CIDRs: a network address, and containment", () => {
    assert.equal(message(networkCidr.safeParse("10.1.2.3/8")), "expected a network address: 10.1.2.3/8 has host bits set, write 10.0.0.0/8", "host bits");
    assert.equal(message(networkCidr.safeParse("0.0.0.0/0")), "accepted", "everything");
    assert.ok(cidrContains("172.16.0.0/16", "172.16.1.0/24") && !cidrContains("172.16.1.0/24", "172.16.0.0/16") && !cidrContains("10.0.0.0/8", "11.0.0.0/16"), "containment");
  });
});
