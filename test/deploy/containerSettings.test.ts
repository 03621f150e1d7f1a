// containerSpec.ts beyond containerSpec.test.ts: every check validateSettings makes (the
// deployer refuses settings Docker would reject or misread, before anything runs: the schema's
// formats, shared with the stack schema, then the rules across roles), the names and
// references it builds, and the healthcheck and env-file forms.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  containerName, digestOf, dockerRunArgs, mountArgs, ReleaseContainerSettings, renderEnvFile, repositoryOf, RoleSettings, serverTag, validateSettings, volumeName,
} from "../../components/deploy/containerSpec";
import { DEMO_IMAGE_ID, DEMO_WEB_ROLE } from "../support/deploy/releaseContainerSettings";

const ID = DEMO_IMAGE_ID;
const web = DEMO_WEB_ROLE;
const api: RoleSettings = { role: "api", command: ["api"], ports: [], gate: { kind: "tcp", port: 9000 }, mounts: [], upstreams: [{ port: 9000, reach: { kind: "tcp" } }] };
const worker: RoleSettings = { role: "worker", command: ["work"], ports: [], gate: { kind: "running" }, mounts: [], upstreams: [] };
const spec = (o: Partial<ReleaseContainerSettings> = {}): ReleaseContainerSettings => ({
  app: "demo", image: "pydeploy/demo:4f1c2b3a9d8e", imageIdentity: ID, version: "0a1b2c3d4e5f", roles: [web, api, worker],
  envFile: ".pydeploy/demo/app.env", logMaxSize: "10m", logMaxFiles: 3, stopGraceSeconds: 30, ...o,
});
const withRole = (role: Partial<RoleSettings>) => spec({ roles: [{ ...web, ...role }] });
const refused = (s: ReleaseContainerSettings, message: string, why: string) => assert.throws(() => validateSettings(s), (err: Error) => err.message === message, why);
/** What the settings schema says, as validateSettings throws it. */
const invalid = (problems: string) => `invalid container settings: ${problems}`;

describe("validateSettings: the release as a whole", () => {
  test("valid settings pass: an HTTP role, a proxied TCP role gated on its upstream port, a worker", () => {
    assert.doesNotThrow(() => validateSettings(spec()), "the three kinds of role");
    assert.doesNotThrow(() => validateSettings(spec({ logMaxSize: "1k", logMaxFiles: 1, stopGraceSeconds: 0 })), "the smallest size, one log file, no grace");
    assert.doesNotThrow(() => validateSettings(spec({ logMaxFiles: 100, stopGraceSeconds: 600 })), "the largest log count and grace the stack schema allows");
    assert.doesNotThrow(() => validateSettings(spec({ image: `registry.example.com:5000/ns/demo:v1@sha256:${"a".repeat(64)}`, imageIdentity: `registry.example.com:5000/ns/demo@sha256:${"a".repeat(64)}` })), "a registry digest");
    assert.doesNotThrow(() => validateSettings(spec({ image: `registry.example.com:5000/ns/demo@sha256:${"a".repeat(64)}` })), "an image pinned by digest alone, no tag");
    assert.doesNotThrow(() => validateSettings(spec({ image: "pydeploy/demo" })), "an image without a tag (Docker reads :latest)");
    assert.doesNotThrow(() => validateSettings(spec({ app: "a", roles: [{ ...worker, role: "w" }] })), "a one-letter app and role");
    for (const size of ["5m", "100m", "2048k", "1g"]) assert.doesNotThrow(() => validateSettings(spec({ logMaxSize: size })), `log size ${size}`);
  });

  test("app, image, identity, roles, env file, logs and grace period", () => {
    refused(spec({ app: "Demo" }), invalid("app: expected an app name: lowercase letters, digits and inner dashes"), "an upper-case app");
    refused(spec({ image: "pydeploy/demo:v1 x" }), invalid("image: expected an image reference"), "a space in the image");
    refused(spec({ imageIdentity: "pydeploy/demo:v1" }), invalid("imageIdentity: expected sha256:<hex> or repository@sha256:<hex>"), "a tag as identity");
    refused(spec({ roles: [] }), invalid("roles: expected at least one role"), "no role");
    refused(spec({ envFile: "" }), invalid("envFile: expected a path on the host"), "no env file");
    for (const bad of ["a\nb", "a\rb", "a\0b"]) refused(spec({ envFile: bad }), invalid("envFile: expected a path on the host"), `env file ${JSON.stringify(bad)}`);
    // One rule with the stack schema (deploy.logMaxSize): a unit is required, so "10" is refused too.
    for (const bad of ["0m", "10 m", "m", "10mb", "10M", "-1m", "10"]) refused(spec({ logMaxSize: bad }), invalid("logMaxSize: expected a size such as 10m"), `log size ${bad}`);
    for (const bad of [0, 1.5, 101]) refused(spec({ logMaxFiles: bad }), invalid("logMaxFiles: expected a count from 1 to 100"), `log files ${bad}`);
    for (const bad of [0.5, -1, 601]) refused(spec({ stopGraceSeconds: bad }), invalid("stopGraceSeconds: expected seconds from 0 to 600"), `grace ${bad}`);
    refused(spec({ app: "Demo", logMaxFiles: 0 }), invalid("app: expected an app name: lowercase letters, digits and inner dashes; logMaxFiles: expected a count from 1 to 100"), "every problem at once");
    refused(null as unknown as ReleaseContainerSettings, invalid("(root): expected the container settings"), "no settings at all");
  });
});

describe("validateSettings: each role", () => {
  test("its name, once per release", () => {
    refused(withRole({ role: "Web" }), invalid("roles.0.role: expected a role name: lowercase letters, digits and inner dashes"), "an upper-case role");
    refused(spec({ roles: [web, { ...worker, role: "web" }] }), "role web appears twice", "two roles named web");
  });

  test("its ports: integers 1-65535 on both sides, each host port once in the release", () => {
    for (const p of [{ host: 0, container: 8000 }, { host: 80, container: 65536 }, { host: 80.5, container: 8000 }, { host: 80, container: 0 }]) {
      const side = Number.isInteger(p.host) && p.host >= 1 ? "container" : "host";
      refused(withRole({ ports: [p] }), invalid(`roles.0.ports.0.${side}: expected a port from 1 to 65535`), `port ${p.host}:${p.container}`);
    }
    assert.doesNotThrow(() => validateSettings(withRole({ ports: [{ host: 65535, container: 8000 }, { host: 1, container: 8000 }] })), "1 and 65535 are ports; one container port on two host ports is fine");
    refused(spec({ roles: [web, { ...api, ports: [{ host: 80, container: 9000 }] }] }), "host port 80 is published by both role web and role api", "host port 80 twice");
  });

  test("its mounts: a volume name and an absolute path", () => {
    refused(withRole({ mounts: [{ volume: "Data", path: "/data" }] }), invalid("roles.0.mounts.0.volume: expected a Docker volume name: lowercase letters, digits and inner dashes"), "an upper-case volume");
    // One rule with the stack schema (app.volumes.<name>.path).
    for (const path of ["/da ta", "srv/data", "/", "/data/"]) refused(withRole({ mounts: [{ volume: "data", path }] }), invalid("roles.0.mounts.0.path: expected an absolute container path such as /data"), `path ${JSON.stringify(path)}`);
    assert.doesNotThrow(() => validateSettings(withRole({ mounts: [{ volume: "data", path: "/srv/app_data-1.0" }] })), "a plain absolute path");
    assert.doesNotThrow(() => validateSettings(withRole({ mounts: [{ volume: "d", path: "/d" }] })), "a one-letter volume");
  });

  test("its gate: on a port it listens on (published or behind the proxy), an HTTP path without whitespace", () => {
    refused(withRole({ gate: { kind: "tcp", port: 81 } }), "role web: its tcp gate port 81 is not one of its container ports (8000)", "a TCP gate on another port");
    refused(withRole({ ports: [], gate: { kind: "tcp", port: 81 } }), "role web: its tcp gate port 81 is not one of its container ports (none)", "a role without ports");
    refused({ ...spec(), roles: [{ ...api, gate: { kind: "http", port: 9001, path: "/" } }] }, "role api: its http gate port 9001 is not one of its container ports (9000)", "not the upstream port");
    refused(
      { ...spec(), roles: [{ ...api, ports: [{ host: 9100, container: 9001 }], gate: { kind: "tcp", port: 9002 } }] },
      "role api: its tcp gate port 9002 is not one of its container ports (9001, 9000)",
      "every port it listens on, published ones first, then its upstreams",
    );
    // One rule with the stack schema (app.roles.<role>.healthcheck.path).
    for (const path of ["health", "health/live", "/he alth", "/a\tb", "/a#b"]) refused(withRole({ gate: { kind: "http", port: 8000, path } }), invalid("roles.0.gate.path: expected an HTTP path starting with /"), `path ${JSON.stringify(path)}`);
    assert.doesNotThrow(() => validateSettings(withRole({ gate: { kind: "http", port: 8000, path: "/" } })), "the root path");
  });

  test("its Docker healthcheck: a test, whole seconds and counts", () => {
    const hc = web.healthcheck!;
    refused(withRole({ healthcheck: { ...hc, test: [] } }), invalid("roles.0.healthcheck.test: expected a healthcheck test"), "an empty test");
    // The stack schema's bounds (app.roles.<role>.healthcheck.*).
    const bounds = { intervalSeconds: "seconds from 1 to 3600", timeoutSeconds: "seconds from 1 to 300", retries: "a count from 1 to 100" } as const;
    for (const k of ["intervalSeconds", "timeoutSeconds", "retries"] as const) {
      refused(withRole({ healthcheck: { ...hc, [k]: 0 } }), invalid(`roles.0.healthcheck.${k}: expected ${bounds[k]}`), `${k} 0`);
      refused(withRole({ healthcheck: { ...hc, [k]: 1.5 } }), invalid(`roles.0.healthcheck.${k}: expected ${bounds[k]}`), `${k} 1.5`);
    }
    refused(withRole({ healthcheck: { ...hc, startPeriodSeconds: -1 } }), invalid("roles.0.healthcheck.startPeriodSeconds: expected seconds from 0 to 3600"), "a negative start period");
    assert.doesNotThrow(() => validateSettings(withRole({ healthcheck: { ...hc, intervalSeconds: 1, timeoutSeconds: 1, retries: 1, startPeriodSeconds: 0 } })), "the smallest values");
  });
});

describe("names and references", () => {
  test("containerName: versions are lowercase with . _ -", () => {
    assert.equal(containerName("demo", "web", "v1.0_rc-2"), "demo-web-v1.0_rc-2", "a readable version");
    assert.equal(containerName("a", "w", "1"), "a-w-1", "one-letter app, role and version");
    for (const v of ["V1", ".v1", "-v1", ""]) assert.throws(() => containerName("demo", "web", v), new RegExp(`release version ${JSON.stringify(v)} must be lowercase letters, digits, '\\.', '_' or '-'`), `version ${JSON.stringify(v)}`);
  });

  test("volumeName and mountArgs: <app>-<volume>, mounted without copying the image's files", () => {
    assert.equal(volumeName("demo", "data"), "demo-data", "the Docker volume");
    assert.equal(volumeName("a", "d"), "a-d", "one-letter app and volume");
    assert.throws(() => volumeName("demo", "Data"), /^Error: volume "Data" of app "demo": lowercase letters, digits and inner dashes$/, "a bad volume name");
    assert.throws(() => volumeName("Demo", "data"), /volume "data" of app "Demo"/, "a bad app name");
    assert.deepEqual(
      mountArgs([{ volume: "demo-data", path: "/data" }, { volume: "demo-media", path: "/srv/media" }]),
      ["--mount", "type=volume,source=demo-data,target=/data,volume-nocopy", "--mount", "type=volume,source=demo-media,target=/srv/media,volume-nocopy"],
      "one --mount per volume",
    );
    assert.deepEqual(mountArgs([]), [], "none");
  });

  test("digestOf, repositoryOf and serverTag: a registry port is not a tag", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    assert.equal(digestOf(`registry.example.com:5000/ns/demo@${digest}`), digest, "the digest of a reference");
    for (const bad of [`sha256:${"C".repeat(64)}`, `sha256:${"c".repeat(63)}`, `${digest}x`, "sha256:"]) {
      assert.throws(() => digestOf(bad), /is neither sha256:<hex> nor repository@sha256:<hex>/, `not a digest: ${bad}`);
    }
    assert.equal(repositoryOf(`registry.example.com:5000/ns/demo:v1@${digest}`), "registry.example.com:5000/ns/demo", "tag and digest dropped");
    assert.equal(repositoryOf("registry.example.com:5000/ns/demo"), "registry.example.com:5000/ns/demo", "no tag: the port stays");
    assert.equal(repositoryOf("demo:v1"), "demo", "a short name");
    assert.equal(repositoryOf(`registry.example.com:5000/ns/demo@${digest}`), "registry.example.com:5000/ns/demo", "a digest without a tag dropped");
    assert.equal(serverTag(`registry.example.com:5000/ns/demo@${digest}`, digest), "registry.example.com:5000/ns/demo:cccccccccccc", "an image named by its digest gets the tag");
    assert.equal(serverTag("registry.example.com:5000/ns/demo", `sha256:${"0123456789abcdef".repeat(4)}`), "registry.example.com:5000/ns/demo:0123456789ab", "12 hex digits, after the sha256: prefix");
  });
});

describe("docker run: healthcheck forms and the env file", () => {
  const healthOf = (test: string[]) => {
    const args = dockerRunArgs(withRole({ healthcheck: { ...web.healthcheck!, test } }), { ...web, healthcheck: { ...web.healthcheck!, test } });
    const at = args.indexOf("--health-cmd");
    return at < 0 ? args.filter((a) => a.startsWith("--no-health")) : args.slice(at, at + 10);
  };

  test("an exec argv is quoted for the container's sh; CMD-SHELL words are joined as written; NONE switches it off", () => {
    assert.deepEqual(healthOf(["python", "-c", "import sys; sys.exit(0)"]).slice(0, 2), ["--health-cmd", "python -c 'import sys; sys.exit(0)'"], "exec argv, quoted");
    assert.deepEqual(healthOf(["CMD-SHELL", "curl -f http://x", "|| exit 1"]).slice(0, 2), ["--health-cmd", "curl -f http://x || exit 1"], "CMD-SHELL joined with spaces");
    assert.deepEqual(healthOf(["CMD", "a b"]).slice(0, 2), ["--health-cmd", "'a b'"], "CMD dropped, the rest quoted");
    assert.deepEqual(healthOf(["NONE"]), ["--no-healthcheck"], "NONE");
    assert.deepEqual(healthOf(["python", "x"]).slice(2), ["--health-interval", "10s", "--health-timeout", "3s", "--health-retries", "3", "--health-start-period", "5s"], "the timings in Docker's units");
  });

  test("renderEnvFile refuses a value that is not a string", () => {
    assert.throws(() => renderEnvFile({ PORT: 8000 as unknown as string }), /^Error: env var PORT: value must be a string$/, "a number");
    assert.equal(renderEnvFile({ _A1: "x" }), "_A1=x\n", "an underscore and digits in a name");
    assert.equal(renderEnvFile({ A: "\uD83D\uDE00" }), "A=\uD83D\uDE00\n", "a surrogate pair (an emoji) is fine");
    assert.throws(() => renderEnvFile({ A: "\uDE00x" }), /value is not valid Unicode \(lone surrogate\)/, "a lone low surrogate");
  });
});
