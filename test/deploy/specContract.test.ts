// The component <-> deployer contract (components/deploy/spec.ts) beyond spec.test.ts: what each
// step's spec accepts and refuses (the runner refuses a bad spec before it touches a host), the
// files in the app's folder, and names that must stay stable across pydeploy versions.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  appDirOf, envFileOf, hostResultSchema, hostSpecSchema, ownerFileOf, parseResult, parseSpec, releaseCommandFileOf, releaseCommandKey, releaseResultSchema, releaseSpecSchema, releaseVersion,
  RESULT_PREFIX, resultLine, runnerCommand, saltFileOf, secretsSchema, shipSpecSchema, SPEC_ENV, STEPS,
} from "../../components/deploy/spec";
import { WORKER_SETTINGS } from "../support/deploy/workerSettings";

const settings = WORKER_SETTINGS;
const SSH = { kind: "ssh", host: "203.0.113.7", port: 22, user: "deploy" };
const base = { specVersion: 1, target: SSH, app: "demo", appDir: ".pydeploy/demo", connectTimeoutSeconds: 600 };
const host = { ...base, removeVolumes: false };
const image = { name: "pydeploy/demo:v1", identity: `sha256:${"ab".repeat(32)}`, serverTag: "pydeploy/demo:abababababab" };
const ship = { ...base, image };
const release = { ...base, settings, healthTimeoutSeconds: 60, runningGateSeconds: 3, keepImages: 3, volumes: { names: [], ownerUid: 10001 } };

/** parseSpec's error for this value, or undefined when it is accepted. */
function refusal(step: "host" | "ship" | "release", schema: Parameters<typeof parseSpec>[1], value: unknown): string | undefined {
  try {
    parseSpec(step, schema, JSON.stringify(value));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("the runner's command line and environment", () => {
  test("six steps, each `node --import tsx <runner> <step>`, the spec in PYDEPLOY_SPEC", () => {
    assert.deepEqual([...STEPS], ["host", "ship", "services", "release", "remove", "remove-services"], "the steps");
    for (const step of STEPS) assert.equal(runnerCommand(step), `node components/deploy/runner/launch.cjs ${step}`, `${step}'s command`);
    assert.equal(SPEC_ENV, "PYDEPLOY_SPEC", "the variable the component sets");
  });
});

describe("step specs: accepted and refused", () => {
  test("valid host, ship and release specs pass, with and without their optional parts", () => {
    assert.equal(refusal("host", hostSpecSchema, host), undefined, "host");
    assert.equal(refusal("host", hostSpecSchema, { ...host, target: { kind: "local" }, dockerInstall: { mirror: "https://m", registryMirrors: [] } }), undefined, "local host with an install mirror");
    assert.equal(refusal("host", hostSpecSchema, { ...host, target: { ...SSH, hostKey: "ssh-ed25519 AAAA" } }), undefined, "a pinned host key");
    assert.equal(refusal("ship", shipSpecSchema, { ...ship, proxyImage: image, registry: { server: "r.example", username: "me" } }), undefined, "ship with proxy image and registry");
    const full = { ...release, releaseCommand: { command: ["migrate"], timeoutSeconds: 60 }, proxy: { image: "pydeploy/demo-proxy:0a1b2c3d4e5f", sites: [{ domain: "app.example.com", upstream: { alias: "demo-web", port: 8000 } }], acme: { email: "ops@example.com", directory: "https://acme.example/dir", caRoot: "PEM" } } };
    assert.equal(refusal("release", releaseSpecSchema, full), undefined, "release with everything");
    assert.equal(refusal("release", releaseSpecSchema, { ...release, volumes: { names: ["demo-data"], ownerUid: 0 } }), undefined, "uid 0 is a uid");
  });

  test("the target: local takes nothing else; ssh needs a host, a port 1-65535 and a user", () => {
    const cases: [unknown, RegExp][] = [
      [{ kind: "local", host: "x" }, /target: Unrecognized key: "host"/],
      [{ kind: "cloud" }, /target\.kind: /],
      [{ ...SSH, host: "" }, /target\.host: /],
      [{ ...SSH, user: "" }, /target\.user: /],
      [{ ...SSH, port: 0 }, /target\.port: /],
      [{ ...SSH, port: 65536 }, /target\.port: /],
      [{ ...SSH, port: 22.5 }, /target\.port: /],
    ];
    for (const [target, message] of cases) assert.match(refusal("host", hostSpecSchema, { ...host, target }) ?? "accepted", message, `target ${JSON.stringify(target)}`);
    assert.equal(refusal("host", hostSpecSchema, { ...host, target: { ...SSH, port: 65535 } }), undefined, "port 65535");
    assert.equal(refusal("host", hostSpecSchema, { ...host, target: { ...SSH, port: 1, host: "h", user: "u" } }), undefined, "port 1, one-letter host and user");
  });

  test("the common fields: a slug app name, an app folder, a whole number of connect seconds", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ app: "Demo" }, /^pydeploy host: invalid PYDEPLOY_SPEC: app: /],
      [{ app: "demo-" }, /app: /],
      [{ appDir: "" }, /appDir: /],
      [{ connectTimeoutSeconds: 0 }, /connectTimeoutSeconds: /],
      [{ connectTimeoutSeconds: 1.5 }, /connectTimeoutSeconds: /],
      [{ removeVolumes: "no" }, /removeVolumes: /],
      [{ extra: 1 }, /\(root\): Unrecognized key: "extra"/],
      [{ dockerInstall: { mirror: "m" } }, /dockerInstall\.registryMirrors: /],
    ];
    for (const [change, message] of cases) assert.match(refusal("host", hostSpecSchema, { ...host, ...change }) ?? "accepted", message, `host spec with ${JSON.stringify(change)}`);
    assert.equal(refusal("host", hostSpecSchema, { ...host, connectTimeoutSeconds: 1 }), undefined, "1 s is allowed");
  });

  test("ship: every image field is needed; a registry needs its server and user", () => {
    for (const field of ["name", "identity", "serverTag"] as const) {
      assert.match(refusal("ship", shipSpecSchema, { ...ship, image: { ...image, [field]: "" } }) ?? "accepted", new RegExp(`image\\.${field}: `), `an empty ${field}`);
      assert.match(refusal("ship", shipSpecSchema, { ...ship, proxyImage: { ...image, [field]: "" } }) ?? "accepted", new RegExp(`proxyImage\\.${field}: `), `an empty proxy ${field}`);
    }
    assert.match(refusal("ship", shipSpecSchema, { ...ship, registry: { server: "", username: "me" } }) ?? "accepted", /registry\.server: /, "no server");
    assert.match(refusal("ship", shipSpecSchema, { ...ship, registry: { server: "r", username: "" } }) ?? "accepted", /registry\.username: /, "no user");
  });

  test("release: settings, timeouts, volumes, the release command and the proxy are checked, several problems at once", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ settings: null }, /settings: expected the container settings/],
      [{ settings: "x" }, /settings: expected the container settings/],
      [{ healthTimeoutSeconds: 0 }, /healthTimeoutSeconds: /],
      [{ keepImages: 0 }, /keepImages: /],
      [{ volumes: { names: ["Bad"], ownerUid: 1 } }, /volumes\.names\.0: /],
      [{ volumes: { names: [], ownerUid: -1 } }, /volumes\.ownerUid: /],
      [{ releaseCommand: { command: [], timeoutSeconds: 5 } }, /releaseCommand\.command: /],
      [{ releaseCommand: { command: ["x"], timeoutSeconds: 0 } }, /releaseCommand\.timeoutSeconds: /],
      [{ proxy: { image: "", sites: [{}] } }, /proxy\.image: /],
      [{ settings: { ...settings, extra: 1 } }, /^pydeploy release: invalid PYDEPLOY_SPEC: settings: Unrecognized key: "extra"$/],
      [{ settings: { ...settings, roles: [{ ...settings.roles[0], role: 5 }] } }, /^pydeploy release: invalid PYDEPLOY_SPEC: settings\.roles\.0\.role: expected a role name$/],
      [{ proxy: { image: "p", sites: [] } }, /proxy\.sites: /],
      [{ proxy: { image: "p", sites: [null] } }, /proxy\.sites\.0: expected a proxy site/],
      [{ proxy: { image: "p", sites: ["demo-web:8000"] } }, /^pydeploy release: invalid PYDEPLOY_SPEC: proxy\.sites\.0: expected a proxy site$/],
      [{ settings: { ...settings, extra: 1 } }, /^pydeploy release: invalid PYDEPLOY_SPEC: settings: Unrecognized key: "extra"$/],
      [{ settings: { ...settings, roles: [{ ...settings.roles[0], role: 5 }] } }, /^pydeploy release: invalid PYDEPLOY_SPEC: settings\.roles\.0\.role: expected a role name$/],
      [{ proxy: { image: "p", sites: [] } }, /^pydeploy release: invalid PYDEPLOY_SPEC: proxy\.sites: expected at least one proxy site$/],
    ];
    for (const [change, message] of cases) assert.match(refusal("release", releaseSpecSchema, { ...release, ...change }) ?? "accepted", message, `release spec with ${JSON.stringify(change)}`);
    assert.match(refusal("release", releaseSpecSchema, { ...release, keepImages: 0, healthTimeoutSeconds: 0 }) ?? "accepted", /^pydeploy release: invalid PYDEPLOY_SPEC: healthTimeoutSeconds: .*; keepImages: /, "every problem, joined by ;");
  });

  test("release: the proxy's ACME settings are checked like the config's", () => {
    const proxy = (acme: object) => ({ ...release, proxy: { image: "pydeploy/demo-proxy:0a1b2c3d4e5f", sites: [{ domain: "app.example.com", upstream: { alias: "demo-web", port: 8000 } }], acme } });
    assert.match(refusal("release", releaseSpecSchema, proxy({ directory: "http://acme.example/dir" })) ?? "accepted", /proxy\.acme\.directory: expected an https:\/\/ URL/, "an http directory");
    assert.match(refusal("release", releaseSpecSchema, proxy({ email: "ops" })) ?? "accepted", /proxy\.acme\.email: expected an email address/, "a bad email");
    assert.match(refusal("release", releaseSpecSchema, proxy({ customCaRoot: true })) ?? "accepted", /proxy\.acme: Unrecognized key: "customCaRoot"/, "the step carries the CA root's PEM, not the renderer's flag");
    assert.equal(refusal("release", releaseSpecSchema, { ...release, proxy: { image: "p", sites: [{ publishedPort: 80, upstream: { alias: "demo-web", port: 8000 } }] } }), undefined, "no acme without a domain");
  });

  test("only the release step runs the checks a schema cannot say (other steps carry no settings)", () => {
    const strayGate = { ...settings, roles: [{ ...settings.roles[0], gate: { kind: "tcp", port: 81 } }] };
    assert.match(refusal("release", releaseSpecSchema, { ...release, settings: { ...settings, image: "Bad Image" } }) ?? "accepted", /settings\.image: expected an image reference/, "the schema's format");
    assert.match(refusal("release", releaseSpecSchema, { ...release, settings: strayGate }) ?? "accepted", /^role worker: its tcp gate port 81 is not one of its container ports \(none\)$/, "release");
    assert.equal(refusal("ship", shipSpecSchema.extend({ settings: releaseSpecSchema.shape.settings }), { ...ship, settings: strayGate }), undefined, "another step does not run them");
  });

  test("the settings come back as the component wrote them: the release version hashes their JSON", () => {
    const role = settings.roles[0];
    // Keys in another order than the schema's, as roles.ts writes a role (upstreams before gate).
    const { stopGraceSeconds, ...rest } = settings;
    const reordered = { stopGraceSeconds, ...rest, roles: [{ upstreams: role.upstreams, gate: role.gate, mounts: role.mounts, ports: role.ports, command: role.command, role: role.role }] };
    const parsed = parseSpec("release", releaseSpecSchema, JSON.stringify({ ...release, settings: reordered }));
    assert.equal(JSON.stringify(parsed.settings), JSON.stringify(reordered), "byte for byte");
    assert.equal(releaseVersion(parsed.settings, "A=1\n", "s"), releaseVersion(reordered, "A=1\n", "s"), "the same release version");
  });

  test("secrets on stdin: only the key, the env and the registry password", () => {
    assert.deepEqual(secretsSchema.parse({ privateKey: "k", env: { A: "1" }, registryPassword: "p" }), { privateKey: "k", env: { A: "1" }, registryPassword: "p" }, "all three");
    assert.deepEqual(secretsSchema.parse({}), {}, "none");
    assert.throws(() => secretsSchema.parse({ password: "x" }), /Unrecognized key/, "nothing else");
    assert.throws(() => secretsSchema.parse({ env: { A: 1 } }), /expected string/, "env values are strings");
  });
});

describe("the app's folder and its files", () => {
  test("<remoteDir>/<app>, normalized; ~ is refused because nothing expands it", () => {
    assert.equal(appDirOf(".pydeploy/", "demo"), ".pydeploy/demo", "a trailing slash");
    assert.equal(appDirOf("./apps//x", "demo"), "apps/x/demo", "normalized");
    assert.throws(() => appDirOf("~", "demo"), /^Error: remote dir "~": write it relative to the home directory \(e\.g\. \.pydeploy\), not with ~$/, "~ alone");
    assert.equal(appDirOf("a~b", "demo"), "a~b/demo", "a ~ inside a name is just a character");
  });

  test("the env file, the salt, the owner token and the release-command marker live in the app's folder", () => {
    assert.deepEqual(
      [envFileOf(".pydeploy/demo"), saltFileOf(".pydeploy/demo"), ownerFileOf(".pydeploy/demo"), releaseCommandFileOf(".pydeploy/demo")],
      [".pydeploy/demo/app.env", ".pydeploy/demo/salt", ".pydeploy/demo/owner", ".pydeploy/demo/release-command"],
      "file names on the host (an upgrade must find the files an older version wrote)",
    );
  });
});

describe("names that must not change between pydeploy versions", () => {
  // Computed independently (Python's hashlib/hmac): a change to the recipe would rename every
  // release, so upgrading pydeploy would restart every app's containers and rerun its migrations.
  const salt = "a".repeat(64);
  test("releaseVersion: sha256 of the settings' JSON and an HMAC of the env file, 12 hex digits", () => {
    assert.equal(releaseVersion(settings, "A=1\n", salt), "964872ca0184", "the known version of these settings");
  });

  test("releaseCommandKey: sha256 of image and command, and an HMAC of the env file; any of them changes it", () => {
    const identity = `sha256:${"ab".repeat(32)}`;
    const key = releaseCommandKey(identity, ["python", "manage.py", "migrate"], "A=1\n", salt);
    assert.equal(key, "e2bd9c391dcb0819944993f18c9bad9452e246a23917aacc28646ec276b181d0", "the known key");
    assert.notEqual(releaseCommandKey(`sha256:${"cd".repeat(32)}`, ["python", "manage.py", "migrate"], "A=1\n", salt), key, "a new image");
    assert.notEqual(releaseCommandKey(identity, ["python", "manage.py", "migrate", "--plan"], "A=1\n", salt), key, "a new command");
    assert.notEqual(releaseCommandKey(identity, ["python", "manage.py", "migrate"], "A=2\n", salt), key, "a new env");
    assert.notEqual(releaseCommandKey(identity, ["python", "manage.py", "migrate"], "A=1\n", "b".repeat(64)), key, "another host's salt");
  });

  test("the result line: prefix and JSON, read back from the last such line", () => {
    assert.equal(RESULT_PREFIX, "pydeploy-result: ", "the prefix the component looks for");
    const line = resultLine({ version: "v1", containers: ["demo-web-v1"] });
    assert.equal(line, 'pydeploy-result: {"version":"v1","containers":["demo-web-v1"]}', "one line of JSON");
    assert.deepEqual(parseResult("release", releaseResultSchema, `log\n${line}\n`), { version: "v1", containers: ["demo-web-v1"] }, "read back");
    assert.throws(() => parseResult("host", hostResultSchema, "  pydeploy-result: {}"), /^Error: pydeploy host: the step printed no result line$/, "only at the start of a line");
  });
});
