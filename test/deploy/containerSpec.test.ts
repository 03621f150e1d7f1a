// What a release runs, as data: container names, the exact `docker run` argv, the settings'
// validation, server tags and the env file format.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerName, digestOf, dockerRunArgs, ReleaseContainerSettings, renderEnvFile, RoleSettings, serverTag } from "../../components/deploy/containerSpec";
import { DEMO_IMAGE_ID, DEMO_WEB_ROLE } from "../support/deploy/releaseContainerSettings";

const ID = DEMO_IMAGE_ID;
const web = DEMO_WEB_ROLE;
const worker: RoleSettings = { role: "worker", command: ["python", "-m", "demo.worker"], ports: [], gate: { kind: "running" }, mounts: [], upstreams: [] };
const spec = (o: Partial<ReleaseContainerSettings> = {}): ReleaseContainerSettings => ({
  app: "demo",
  image: "pydeploy/demo:4f1c2b3a9d8e",
  imageIdentity: ID,
  version: "0a1b2c3d4e5f",
  roles: [web, worker],
  envFile: ".pydeploy/demo/app.env",
  logMaxSize: "10m",
  logMaxFiles: 3,
  stopGraceSeconds: 30,
  ...o,
});

describe("containerSpec", () => {
  test("containerName is <app>-<role>-<version> and rejects unsafe parts", () => {
    assert.equal(containerName("demo", "web", "0a1b2c3d4e5f"), "demo-web-0a1b2c3d4e5f", "the name");
    assert.throws(() => containerName("Demo", "web", "v1"), /app name "Demo"/, "uppercase app");
    assert.throws(() => containerName("demo", "web;rm", "v1"), /role name "web;rm"/, "shell syntax in a role");
    assert.throws(() => containerName("demo", "web", "v 1"), /release version "v 1"/, "space in a version");
  });

  test("dockerRunArgs: exact argv of a web role with a healthcheck", () => {
    assert.deepEqual(dockerRunArgs(spec(), web), [
      "docker", "run", "--detach", "--restart", "unless-stopped", "--init",
      "--name", "demo-web-0a1b2c3d4e5f",
      "--env-file", ".pydeploy/demo/app.env",
      "--stop-timeout", "30",
      "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
      "--label", "pydeploy.app=demo", "--label", "pydeploy.role=web",
      "--label", "pydeploy.version=0a1b2c3d4e5f", "--label", `pydeploy.image=${ID}`,
      "-p", "80:8000",
      "--health-cmd", "python -c 'import sys; sys.exit(0)'",
      "--health-interval", "10s", "--health-timeout", "3s", "--health-retries", "3", "--health-start-period", "5s",
      "pydeploy/demo:4f1c2b3a9d8e", "python", "-m", "demo.web",
    ], "the argv");
  });

  test("dockerRunArgs: a role without healthcheck gets --no-healthcheck; an empty command keeps the image's CMD", () => {
    const args = dockerRunArgs(spec({ roles: [{ ...worker, command: [] }] }), { ...worker, command: [] });
    assert.deepEqual(args.slice(-2), ["--no-healthcheck", "pydeploy/demo:4f1c2b3a9d8e"], "ends with the image");
    assert.ok(!args.includes("-p"), "no port published");
  });

  test("dockerRunArgs: several servers: the first server's services by name at its private address, on no app network", () => {
    const settings = spec({ serviceHosts: [{ name: "db", address: "10.0.0.5" }, { name: "cache", address: "10.0.0.5" }] });
    const args = dockerRunArgs(settings, web);
    const hosts = args.flatMap((a, i) => (a === "--add-host" ? [args[i + 1]] : []));
    assert.deepEqual(hosts, ["db:10.0.0.5", "cache:10.0.0.5"], "one --add-host per service");
    assert.ok(!args.includes("--network"), "no services network on this server");
    assert.throws(() => dockerRunArgs(spec({ serviceHosts: [{ name: "db", address: "db.internal" }] }), web), /serviceHosts\.0\.address/, "an address that is no IP is refused");
  });

  test("dockerRunArgs: volumes are mounted without copying the image's files into them", () => {
    const withData = { ...worker, mounts: [{ volume: "demo-data", path: "/data" }] };
    const args = dockerRunArgs(spec({ roles: [withData] }), withData);
    const at = args.indexOf("--mount");
    assert.deepEqual(args.slice(at, at + 2), ["--mount", "type=volume,source=demo-data,target=/data,volume-nocopy"], "one --mount");
    const bad = { ...worker, mounts: [{ volume: "demo-data", path: "data" }] };
    assert.throws(() => dockerRunArgs(spec({ roles: [bad] }), bad), /roles\.0\.mounts\.0\.path: expected an absolute container path/, "relative path refused");
  });

  test("dockerRunArgs: Docker's CMD / CMD-SHELL / NONE healthcheck forms", () => {
    const withTest = (t: string[]) => dockerRunArgs(spec({ roles: [{ ...web, healthcheck: { ...web.healthcheck!, test: t } }] }), { ...web, healthcheck: { ...web.healthcheck!, test: t } });
    const cmd = (args: string[]) => args[args.indexOf("--health-cmd") + 1];
    assert.equal(cmd(withTest(["CMD", "curl", "-f", "http://x/a b"])), "curl -f 'http://x/a b'", "CMD quoted for sh");
    assert.equal(cmd(withTest(["CMD-SHELL", "curl -f http://x || exit 1"])), "curl -f http://x || exit 1", "CMD-SHELL verbatim");
    assert.ok(withTest(["NONE"]).includes("--no-healthcheck"), "NONE switches it off");
  });

  test("dockerRunArgs validates the settings", () => {
    assert.throws(() => dockerRunArgs(spec({ imageIdentity: "sha256:abc" }), web), /imageIdentity: expected sha256:<hex> or repository@sha256:<hex>/, "short identity");
    assert.throws(() => dockerRunArgs(spec({ image: "Bad Image" }), web), /image: expected an image reference/, "bad image");
    const stray = { ...web, gate: { kind: "http" as const, port: 81, path: "/health" } };
    assert.throws(() => dockerRunArgs(spec({ roles: [stray] }), stray), /role web: its http gate port 81 is not one of its container ports \(8000\)/, "gate port");
    assert.throws(() => dockerRunArgs(spec({ roles: [web, { ...worker, ports: [{ host: 80, container: 1 }] }] }), web), /host port 80 is published by both role web and role worker/, "port twice");
    assert.throws(() => dockerRunArgs(spec({ logMaxSize: "10 MB" }), web), /logMaxSize: expected a size such as 10m/, "log size");
    assert.throws(() => dockerRunArgs(spec({ roles: [web, web] }), web), /role web appears twice/, "role twice");
    assert.throws(() => dockerRunArgs(spec({ stopGraceSeconds: -1 }), web), /stopGraceSeconds: expected seconds from 0 to 600/, "grace");
  });

  test("serverTag: the repository and 12 hex digits of the identity, for a local ID or a registry digest", () => {
    assert.equal(serverTag("pydeploy/demo:local", ID), "pydeploy/demo:4f1c2b3a9d8e", "local ID");
    assert.equal(serverTag("registry.example.com:5000/ns/demo:dev", `registry.example.com:5000/ns/demo@sha256:${"c".repeat(64)}`), "registry.example.com:5000/ns/demo:cccccccccccc", "registry digest, port kept");
    assert.equal(digestOf(`x/y@${ID}`), ID, "digest of a reference");
    assert.throws(() => serverTag("pydeploy/demo:local", "latest"), /image identity "latest" is neither sha256:<hex> nor repository@sha256:<hex>/, "a tag is no identity");
  });

  test("renderEnvFile: sorted KEY=value lines, values verbatim", () => {
    assert.equal(
      renderEnvFile({ B: "two words ", A: `it's "$HOME" \\ #not-a-comment`, C: "x=y", D: "" }),
      `A=it's "$HOME" \\ #not-a-comment\nB=two words \nC=x=y\nD=\n`,
      "sorted, verbatim",
    );
    assert.equal(renderEnvFile({}), "", "empty env, empty file");
  });

  test("renderEnvFile: clear errors naming the key", () => {
    assert.throws(() => renderEnvFile({ PEM: "line1\nline2" }), /env var PEM: value contains a line break/, "LF");
    assert.throws(() => renderEnvFile({ CR: "a\rb" }), /env var CR: value contains a line break/, "CR");
    assert.throws(() => renderEnvFile({ NUL: "a\0b" }), /env var NUL: value contains a NUL/, "NUL");
    assert.throws(() => renderEnvFile({ BAD: "\uD800" }), /env var BAD: value is not valid Unicode/, "lone surrogate");
    assert.throws(() => renderEnvFile({ "MY-KEY": "x" }), /env var name "MY-KEY" is invalid/, "dash");
    assert.throws(() => renderEnvFile({ "1X": "x" }), /env var name "1X" is invalid/, "digit first");
  });
});
