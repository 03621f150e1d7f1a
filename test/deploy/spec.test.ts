// The component ↔ deployer contract: release names, spec parsing errors, the result line.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appDirOf, hostResultSchema, hostTrigger, hostSpecSchema, parseResult, parseSpec, releaseResultSchema, releaseSpecSchema, releaseVersion, roleVersions, runnerCommand } from "../../components/deploy/spec";
import { WORKER_SETTINGS } from "../support/deploy/workerSettings";

const settings = WORKER_SETTINGS;

describe("releaseVersion", () => {
  const salt = "a".repeat(64);
  test("12 hex digits, the same for the same settings, env and salt", () => {
    const v = releaseVersion(settings, "A=1\n", salt);
    assert.match(v, /^[0-9a-f]{12}$/, "12 hex digits");
    assert.equal(releaseVersion({ ...settings }, "A=1\n", salt), v, "deterministic");
  });
  test("a new secret value, a new setting or another host's salt gives a new name", () => {
    const v = releaseVersion(settings, "A=1\n", salt);
    assert.notEqual(releaseVersion(settings, "A=2\n", salt), v, "env change");
    assert.notEqual(releaseVersion({ ...settings, logMaxFiles: 4 }, "A=1\n", salt), v, "setting change");
    assert.notEqual(releaseVersion(settings, "A=1\n", "b".repeat(64)), v, "salt change");
  });
});

describe("roleVersions", () => {
  const salt = "a".repeat(64);
  const web = { role: "web", command: ["python", "-m", "demo.web"], ports: [{ host: 80, container: 8000 }], gate: { kind: "http" as const, port: 8000, path: "/health" }, mounts: [], upstreams: [] };
  const two = { ...settings, roles: [web, settings.roles[0]] };
  test("a change to one role's settings changes only that role's version", () => {
    const v = roleVersions(two, "A=1\n", salt);
    assert.deepEqual(Object.keys(v), ["web", "worker"], "one per role");
    assert.notEqual(v.web, v.worker, "each role has its own");
    const changed = roleVersions({ ...two, roles: [{ ...web, gate: { ...web.gate, path: "/ready" } }, settings.roles[0]] }, "A=1\n", salt);
    assert.notEqual(changed.web, v.web, "the web's gate changed");
    assert.equal(changed.worker, v.worker, "the worker's did not");
    assert.equal(roleVersions({ ...two, roles: [settings.roles[0], web] }, "A=1\n", salt).worker, v.worker, "nor does the roles' order");
  });
  test("the image, the env, a shared setting or the salt changes every role's version", () => {
    const v = roleVersions(two, "A=1\n", salt);
    for (const [what, other] of [
      ["image", roleVersions({ ...two, imageIdentity: `sha256:${"5".repeat(64)}` }, "A=1\n", salt)],
      ["env", roleVersions(two, "A=2\n", salt)],
      ["shared setting", roleVersions({ ...two, stopGraceSeconds: 5 }, "A=1\n", salt)],
      ["salt", roleVersions(two, "A=1\n", "b".repeat(64))],
    ] as const) {
      assert.notEqual(other.web, v.web, `${what}: web`);
      assert.notEqual(other.worker, v.worker, `${what}: worker`);
    }
  });
});

describe("parseSpec", () => {
  test("a missing, non-JSON or invalid spec names the step and the field", () => {
    assert.throws(() => parseSpec("host", hostSpecSchema, undefined), /pydeploy host: PYDEPLOY_SPEC is not set/, "missing");
    assert.throws(() => parseSpec("host", hostSpecSchema, "{"), /pydeploy host: PYDEPLOY_SPEC is not JSON/, "not JSON");
    assert.throws(
      () => parseSpec("host", hostSpecSchema, JSON.stringify({ specVersion: 1, target: { kind: "ssh", host: "h", port: 70000, user: "u" }, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 10 })),
      /pydeploy host: invalid PYDEPLOY_SPEC: target\.port: /,
      "port out of range",
    );
  });
  test("a release spec's settings are validated too", () => {
    const bad = { specVersion: 1, target: { kind: "local" }, app: "demo", appDir: "d", connectTimeoutSeconds: 10, settings: { ...settings, logMaxSize: "ten" }, healthTimeoutSeconds: 5, runningGateSeconds: 3, keepImages: 2, volumes: { names: [], ownerUid: 10001 } };
    assert.throws(() => parseSpec("release", releaseSpecSchema, JSON.stringify(bad)), /^Error: pydeploy release: invalid PYDEPLOY_SPEC: settings\.logMaxSize: expected a size such as 10m$/, "bad settings");
    const site = { publishedPort: 8080, upstream: { alias: "demo-web", port: 8000 } };
    const twice = { ...bad, settings, proxy: { image: "pydeploy/demo-proxy:0a1b2c3d4e5f", sites: [site, site] } };
    assert.throws(() => parseSpec("release", releaseSpecSchema, JSON.stringify(twice)), /published port 8080 is used by two sites/, "the proxy sites are checked too");
  });
});

test("appDirOf: relative to the home directory; ~ is refused (it would not expand)", () => {
  assert.equal(appDirOf(".pydeploy", "demo"), ".pydeploy/demo", "relative");
  assert.equal(appDirOf("/opt/pydeploy", "demo"), "/opt/pydeploy/demo", "absolute");
  assert.throws(() => appDirOf("~/apps", "demo"), /write it relative to the home directory/, "tilde");
});

test("the result line is the last pydeploy-result line of a step's output", () => {
  const printed = (owner: string) => `pydeploy-result: {"owner":"${owner}"}`;
  assert.deepEqual(parseResult("host", hostResultSchema, `pydeploy: x\n${printed("a")}\npydeploy: after\n${printed("b")}`), { owner: "b" }, "last one wins");
  assert.throws(() => parseResult("host", hostResultSchema, "pydeploy: nothing"), /^Error: pydeploy host: the step printed no result line$/, "none");
  assert.deepEqual(parseResult("host", hostResultSchema, 'pydeploy-result: {"owner":"a","since":"v9"}'), { owner: "a" }, "a key of another version is dropped");
  assert.throws(() => parseResult("host", hostResultSchema, 'pydeploy-result: {"owner":""}'), /^Error: pydeploy host: the step's result is not what this version reads: owner: /, "an empty owner");
  assert.throws(() => parseResult("release", releaseResultSchema, "pydeploy-result: {nope"), /^Error: pydeploy release: the step's result is not JSON: /, "not JSON");
  assert.throws(() => parseResult("release", releaseResultSchema, 'pydeploy-result: {"version":"v1"}'), /^Error: pydeploy release: the step's result is not what this version reads: containers: /, "a key missing");
  assert.equal(runnerCommand("ship"), "node components/deploy/runner/launch.cjs ship", "the command line");
});

test("the host step's trigger is the machine, not the user: another user on it is an update", () => {
  const ssh = (user: string) => ({ kind: "ssh" as const, host: "203.0.113.5", port: 2222, user, hostKey: undefined });
  assert.equal(hostTrigger(ssh("root")), "203.0.113.5:2222", "host and port");
  assert.equal(hostTrigger(ssh("deploy")), hostTrigger(ssh("root")), "the user is not part of it");
  assert.equal(hostTrigger({ kind: "local" }), "local", "the local engine");
});
