// proxyContainer.ts beyond switch.test.ts: every check on the proxy container's spec, the
// network aliases and log settings it runs with, when it is recreated, and the steps' flags.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  certificateFiles, LABEL_PROXY_SPEC, ProxyContainerSettings, proxyConfigSteps, proxyNames, proxyRemoveSteps, proxyRunArgs, proxySetupSteps, upstreamAlias, validateProxyContainerSettings,
} from "../../../components/deploy/proxy/proxyContainer";
import { check, isPort } from "../../../components/deploy/check";
import { LABEL_PROXY } from "../../../components/image/labels";

const names = proxyNames("demo");
const spec: ProxyContainerSettings = { names, image: "pydeploy/demo-proxy:1", ports: [{ host: 8080, container: 80 }, { host: 443, container: 443 }], logMaxSize: "10m", logMaxFiles: 3 };
const hashOf = (s: ProxyContainerSettings) => proxyRunArgs(s).find((a) => a.startsWith(`${LABEL_PROXY_SPEC}=`))?.split("=")[1];

describe("proxy names and aliases", () => {
  it("the labels; names per app; a role name must be a slug", () => {
    assert.deepEqual([LABEL_PROXY, LABEL_PROXY_SPEC], ["pydeploy.proxy", "pydeploy.proxy-spec"], "labels destroy and the recreate check look for");
    assert.deepEqual(proxyNames("a"), { app: "a", container: "a-proxy", network: "a-proxy", volume: "a-proxy-data" }, "a one-letter app");
    for (const bad of ["-demo", "demo-", "de mo", ""]) assert.throws(() => proxyNames(bad), /must be lowercase letters, digits and inner dashes/, `app ${JSON.stringify(bad)}`);
    assert.equal(upstreamAlias("demo", "api-2"), "demo-api-2", "a role with a dash and digit");
    for (const bad of ["Web", "web-", "we b"]) assert.throws(() => upstreamAlias("demo", bad), new RegExp(`^Error: role name ${JSON.stringify(bad)} must be lowercase letters, digits and inner dashes$`), `role ${JSON.stringify(bad)}`);
    assert.throws(() => upstreamAlias("Demo", "web"), /app name "Demo"/, "the app name is checked too");
  });
});

describe("validateProxyContainerSettings", () => {
  it("accepts extra network aliases (DNS names) and one log file", () => {
    assert.doesNotThrow(() => validateProxyContainerSettings({ ...spec, networkAliases: ["app.example.com", "a", `${"a".repeat(60)}.example.com`], logMaxFiles: 1, logMaxSize: "5k" }), "valid");
  });

  it("refuses what docker run would reject or misread", () => {
    const cases: [Partial<ProxyContainerSettings>, string][] = [
      [{ ports: [{ host: 65536, container: 80 }] }, "invalid proxy container settings: ports.0.host: expected a port from 1 to 65535"],
      [{ ports: [{ host: 80, container: 1.5 }] }, "invalid proxy container settings: ports.0.container: expected a port from 1 to 65535"],
      [{ ports: [{ host: 80, container: 80 }, { host: 80, container: 81 }] }, "proxy host ports 80, 80 repeat a port"],
      [{ networkAliases: ["-app.example.com"] }, "invalid proxy container settings: networkAliases.0: expected a lowercase DNS name"],
      [{ networkAliases: ["app.example.com-"] }, "invalid proxy container settings: networkAliases.0: expected a lowercase DNS name"],
      [{ networkAliases: ["app_example"] }, "invalid proxy container settings: networkAliases.0: expected a lowercase DNS name"],
      [{ logMaxSize: "0m" }, "invalid proxy container settings: logMaxSize: expected a size such as 10m"],
      [{ logMaxSize: "10 m" }, "invalid proxy container settings: logMaxSize: expected a size such as 10m"],
      [{ logMaxSize: "-10m" }, "invalid proxy container settings: logMaxSize: expected a size such as 10m"],
      [{ logMaxFiles: 0 }, "invalid proxy container settings: logMaxFiles: expected a count from 1 to 100"],
      [{ logMaxFiles: 2.5 }, "invalid proxy container settings: logMaxFiles: expected a count from 1 to 100"],
      [{ image: "Demo-proxy" }, "invalid proxy container settings: image: expected an image reference"],
      [{ names: { ...names, app: "Demo" } }, 'app name "Demo" must be lowercase letters, digits and inner dashes'],
      [{ ports: [] }, "invalid proxy container settings: ports: expected at least one port: the proxy needs a site"],
      [{ logmaxsize: "10m" } as never, 'invalid proxy container settings: (root): Unrecognized key: "logmaxsize"'],
    ];
    for (const [change, message] of cases) assert.throws(() => validateProxyContainerSettings({ ...spec, ...change }), (err: Error) => err.message === message, message);
  });
});

describe("proxyRunArgs and the recreate check", () => {
  it("network aliases become --network-alias after the network; ports sorted by container port", () => {
    const args = proxyRunArgs({ ...spec, ports: [{ host: 9443, container: 443 }, { host: 8000, container: 8000 }, { host: 8080, container: 80 }], networkAliases: ["app.example.com", "www.example.com"] });
    const at = args.indexOf("--network");
    assert.deepEqual(args.slice(at, at + 6), ["--network", "demo-proxy", "--network-alias", "app.example.com", "--network-alias", "www.example.com"], "aliases next to the network");
    assert.deepEqual(args.filter((_, i) => args[i - 1] === "--publish"), ["8080:80", "9443:443", "8000:8000"], "by container port (80 < 443 < 8000), not by host port");
    assert.equal(args.at(-1), "pydeploy/demo-proxy:1", "the image last: no command, the image's CMD");
  });

  it("the spec hash: 16 hex digits that change with the log settings too; the setup step compares it", () => {
    assert.match(hashOf(spec) ?? "", /^[0-9a-f]{16}$/, "16 hex digits");
    assert.notEqual(hashOf({ ...spec, logMaxSize: "20m" }), hashOf(spec), "a new log size recreates the container");
    assert.notEqual(hashOf({ ...spec, logMaxFiles: 4 }), hashOf(spec), "so does a new log file count");
    assert.notEqual(hashOf({ ...spec, ports: [{ host: 8080, container: 8080 }, { host: 443, container: 443 }] }), hashOf(spec), "another container port");
    assert.equal(hashOf({ ...spec, networkAliases: [] }), hashOf(spec), "no aliases is the same as none given");
    const remove = proxySetupSteps(spec)[2];
    assert.equal(remove.skipIf?.stdout, hashOf(spec), "the running container is kept when its label has this hash");
  });

  it("setup steps: the network and volume labelled for destroy; a failed remove is fine (nothing to remove)", () => {
    const steps = proxySetupSteps(spec);
    assert.deepEqual(steps.map((s) => s.allowFailure ?? false), [false, false, true, false, false], "only the remove may fail");
    assert.deepEqual(steps.map((s) => s.stdin), [undefined, undefined, undefined, undefined, undefined], "no step reads stdin");
  });

  it("config and remove steps: flags that matter", () => {
    const [reload] = proxyConfigSteps(names, { customCaRoot: false });
    assert.deepEqual(reload.argv, ["docker", "exec", "-i", "demo-proxy", "caddy", "reload", "--config", "-", "--adapter", "caddyfile", "--force"], "the config on stdin (-i)");
    assert.deepEqual([reload.stdin, reload.retrySeconds, reload.allowFailure], ["proxyConfig", 10, undefined], "a failed reload fails the release");
    const removed = proxyRemoveSteps(names, { removeData: true });
    assert.deepEqual(removed.map((s) => s.purpose), ["remove demo-proxy", "remove network demo-proxy", "remove volume demo-proxy-data (certificates, ACME account)"], "what destroy says it does");
    assert.deepEqual(removed.map((s) => s.allowFailure), [true, true, true], "destroy goes on when something is gone already");
  });
});

describe("steps.ts helpers", () => {
  it("check throws its message; isPort is 1-65535, integers only", () => {
    assert.throws(() => check(false, "the reason"), /^Error: the reason$/, "check(false) throws");
    assert.doesNotThrow(() => check(true, "never"), "check(true) passes");
    assert.deepEqual([0, 1, 80, 65535, 65536, 1.5, -1, Number.NaN].map(isPort), [false, true, true, true, false, false, false, false], "ports");
    assert.equal(isPort("80" as never), false, "a string is no port, though the stack schema reads \"80\" as 80");
  });
});

describe("the certificates on the proxy's volume", () => {
  it("lists a domain's certificate files, or any, inside the proxy container (find exits 0 on none)", () => {
    assert.deepEqual(
      certificateFiles(names, "app.example.com"),
      ["docker", "exec", "demo-proxy", "find", "/data", "-path", "*/certificates/*", "-type", "f", "-name", "app.example.com.crt"],
      "the domain's, under Caddy's certificates folder on the volume",
    );
    assert.deepEqual(certificateFiles(names).slice(-2), ["-name", "*.crt"], "any domain's");
  });
});
