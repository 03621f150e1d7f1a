// Stored specs and upgrades: a delete runs TODAY's runner against the spec an older pydeploy
// stored (provider-semantics.md: the delete runs with the old state). So every spec carries
// specVersion, and `remove` accepts the host specs earlier versions stored: the fixtures were
// recorded from the code of each version (test/deploy/fixtures/hostSpec.v*.json).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { hostSpecSchema, parseRemoveSpec, parseResult, parseSpec, releaseSpecSchema, shipSpecSchema, SPEC_VERSION, hostResultSchema } from "../../components/deploy/spec";
import { WORKER_SETTINGS } from "../support/deploy/workerSettings";

const fixture = (version: number) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", `hostSpec.v${version}.json`), "utf8"));
const v0 = fixture(0);
const v1 = fixture(1);

describe("remove accepts the host spec of every earlier version", () => {
  test("v0 (before specVersion): the SSH and local specs, and the owner token its host step printed", () => {
    assert.deepEqual(parseRemoveSpec(JSON.stringify(v0.ssh.spec)), {
      target: { kind: "ssh", host: "203.0.113.20", port: 2222, user: "deploy", hostKey: v0.ssh.spec.target.hostKey },
      app: "demo",
      appDir: ".pydeploy/demo",
      connectTimeoutSeconds: 600,
      removeVolumes: false,
    }, "SSH");
    assert.deepEqual(parseRemoveSpec(JSON.stringify(v0.local.spec)), { target: { kind: "local" }, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 600, removeVolumes: false }, "local");
    assert.deepEqual(parseResult("host", hostResultSchema, v0.local.stdout), { owner: "32f004e43f3707f47e440ba3c623cfe9" }, "the stored stdout's token");
  });

  test("v0 is what today's host step refuses: remove must not parse it with the current schema", () => {
    assert.throws(() => parseSpec("host", hostSpecSchema, JSON.stringify(v0.ssh.spec)), /specVersion: expected specVersion 1/, "the current schema wants the version");
  });

  test(`v${SPEC_VERSION} (today): what AppDeployment stores`, () => {
    assert.equal(SPEC_VERSION, 1, "bump it with a new fixture when a step's schema changes");
    assert.equal(parseRemoveSpec(JSON.stringify(v1.ssh.spec)).appDir, ".pydeploy/demo", "SSH");
    assert.deepEqual(parseRemoveSpec(JSON.stringify(v1.local.spec)).target, { kind: "local" }, "local");
    assert.doesNotThrow(() => parseSpec("host", hostSpecSchema, JSON.stringify(v1.ssh.spec)), "today's host step takes it");
  });

  test("a spec from a newer pydeploy, or a broken one, is refused with what to do", () => {
    assert.throws(() => parseRemoveSpec(JSON.stringify({ ...v1.ssh.spec, specVersion: "1" })), /specVersion "1"; this one knows up to 1/, "a version that is not a number");
    assert.throws(() => parseRemoveSpec(JSON.stringify({ ...v1.ssh.spec, specVersion: 2 })), /^Error: pydeploy remove: PYDEPLOY_SPEC was stored by a newer pydeploy \(specVersion 2; this one knows up to 1\): run the destroy with that version$/, "newer");
    assert.throws(() => parseRemoveSpec(undefined), /pydeploy remove: PYDEPLOY_SPEC is not set/, "missing");
    assert.throws(() => parseRemoveSpec("{"), /pydeploy remove: PYDEPLOY_SPEC is not JSON/, "not JSON");
    assert.throws(() => parseRemoveSpec(JSON.stringify({ ...v0.ssh.spec, appDir: "" })), /pydeploy remove: invalid PYDEPLOY_SPEC: appDir: /, "a bad v0 field");
  });
});

test("every step's spec carries the version", () => {
  const base = { target: { kind: "local" }, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 600 };
  const image = { name: "pydeploy/demo:v1", identity: `sha256:${"ab".repeat(32)}`, serverTag: "pydeploy/demo:abababababab" };
  const specs = [
    ["host", hostSpecSchema, { ...base, removeVolumes: false }],
    ["ship", shipSpecSchema, { ...base, image }],
    ["release", releaseSpecSchema, { ...base, settings: WORKER_SETTINGS, healthTimeoutSeconds: 60, runningGateSeconds: 3, keepImages: 3, volumes: { names: [], ownerUid: 10001 } }],
  ] as const;
  for (const [step, schema, spec] of specs) {
    assert.throws(() => parseSpec(step, schema, JSON.stringify(spec)), /specVersion: expected specVersion 1/, `${step} without it`);
    assert.doesNotThrow(() => parseSpec(step, schema, JSON.stringify({ ...spec, specVersion: 1 })), `${step} with it`);
  }
});
