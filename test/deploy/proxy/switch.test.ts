// The proxy's docker steps written out: its names, its container's setup, config and removal
// steps (proxyContainer.ts), and the traffic switch's plan (switch.ts).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import {
  proxyConfigSteps, proxyNames, proxyRemoveSteps, proxyRunArgs, proxySetupSteps, upstreamAlias,
} from "../../../components/deploy/proxy/proxyContainer";
import { DRAIN_SCRIPT, switchPlan } from "../../../components/deploy/proxy/switch";
import { probeSource } from "../../../components/image/probe";

const names = proxyNames("demo");
const spec = { names, image: "pydeploy/demo-proxy:2.6.2-1", ports: [443, 80, 8000].map((p) => ({ host: p, container: p })), logMaxSize: "10m", logMaxFiles: 3 };

describe("proxy names", () => {
  it("per app; the role's alias is <app>-<role>; the role name proxy is refused", () => {
    assert.deepEqual(names, { app: "demo", container: "demo-proxy", network: "demo-proxy", volume: "demo-proxy-data" }, "names");
    assert.equal(upstreamAlias("demo", "web"), "demo-web", "alias of the web role");
    assert.throws(() => upstreamAlias("demo", "proxy"), /role name "proxy" is reserved: demo-proxy is the reverse proxy container/, "proxy is reserved");
    assert.throws(() => proxyNames("Demo"), /app name "Demo" must be lowercase/, "bad app name");
  });
});

describe("proxySetupSteps", () => {
  it("network and volume when missing; the container recreated only when its spec changed; started", () => {
    const steps = proxySetupSteps(spec);
    const run = proxyRunArgs(spec);
    const hash = run.find((a) => a.startsWith("pydeploy.proxy-spec="))!.split("=")[1];
    assert.match(hash, /^[0-9a-f]{16}$/, "the spec label carries a hash");
    assert.deepEqual(
      run,
      [
        "docker", "run", "--detach", "--restart", "unless-stopped", "--name", "demo-proxy",
        "--network", "demo-proxy",
        "--volume", "demo-proxy-data:/data",
        "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
        "--label", "pydeploy.proxy=demo", "--label", `pydeploy.proxy-spec=${hash}`,
        "--publish", "80:80", "--publish", "443:443", "--publish", "8000:8000",
        "pydeploy/demo-proxy:2.6.2-1",
      ],
      "docker run of the proxy: no admin port, ports sorted",
    );
    assert.deepEqual(
      steps,
      [
        {
          purpose: "create network demo-proxy",
          argv: ["docker", "network", "create", "--label", "pydeploy.proxy=demo", "demo-proxy"],
          skipIf: { argv: ["docker", "network", "inspect", "demo-proxy"] },
        },
        {
          purpose: "create volume demo-proxy-data",
          argv: ["docker", "volume", "create", "--label", "pydeploy.proxy=demo", "demo-proxy-data"],
          skipIf: { argv: ["docker", "volume", "inspect", "demo-proxy-data"] },
        },
        {
          purpose: "remove demo-proxy if it runs another image, ports or aliases",
          argv: ["docker", "rm", "--force", "demo-proxy"],
          skipIf: { argv: ["docker", "container", "inspect", "--format", '{{index .Config.Labels "pydeploy.proxy-spec"}}', "demo-proxy"], stdout: hash },
          allowFailure: true,
        },
        { purpose: "start demo-proxy", argv: run, skipIf: { argv: ["docker", "container", "inspect", "demo-proxy"] } },
        { purpose: "make sure demo-proxy runs", argv: ["docker", "start", "demo-proxy"] },
      ],
      "setup steps",
    );
  });

  it("the spec hash changes with the image, ports and aliases, and not with their order", () => {
    const label = (s: typeof spec & { networkAliases?: string[] }) => proxyRunArgs(s).find((a) => a.startsWith("pydeploy.proxy-spec="));
    assert.equal(label({ ...spec, ports: [...spec.ports].reverse() }), label(spec), "port order does not matter");
    assert.notEqual(label({ ...spec, image: "pydeploy/demo-proxy:2.6.2-2" }), label(spec), "another image");
    assert.notEqual(label({ ...spec, ports: spec.ports.slice(1) }), label(spec), "other ports");
    assert.notEqual(label({ ...spec, ports: spec.ports.map((p) => ({ ...p, host: p.host + 1 })) }), label(spec), "other host ports");
    assert.notEqual(label({ ...spec, networkAliases: ["app.example.com"] }), label(spec), "an alias");
  });

  it("refuses a spec docker would reject", () => {
    assert.throws(() => proxyRunArgs({ ...spec, ports: [] }), /^Error: invalid proxy container settings: ports: expected at least one port: the proxy needs a site$/, "no port");
    assert.throws(() => proxyRunArgs({ ...spec, ports: [{ host: 80, container: 80 }, { host: 8080, container: 80 }] }), /proxy container ports 80, 80 repeat a port/, "a container port twice");
    assert.throws(() => proxyRunArgs({ ...spec, ports: [{ host: 80, container: 0 }] }), /ports\.0\.container: expected a port from 1 to 65535/, "a bad port");
    assert.throws(() => proxyRunArgs({ ...spec, image: "a b" }), /image: expected an image reference/, "bad image");
    assert.throws(() => proxyRunArgs({ ...spec, networkAliases: ["App.test"] }), /networkAliases\.0: expected a lowercase DNS name/, "bad alias");
    assert.throws(() => proxyRunArgs({ ...spec, logMaxSize: "ten" }), /logMaxSize: expected a size such as 10m/, "bad log size");
  });
});

describe("proxyConfigSteps and proxyRemoveSteps", () => {
  it("the config goes in on stdin through docker exec (the admin API is never published); the CA root first", () => {
    assert.deepEqual(
      proxyConfigSteps(names, { customCaRoot: true }),
      [
        {
          purpose: "write the ACME server's CA certificate to /data/acme-ca-root.pem",
          argv: ["docker", "exec", "-i", "demo-proxy", "dd", "of=/data/acme-ca-root.pem", "status=none"],
          stdin: "acmeCaRoot",
        },
        {
          purpose: "load the proxy config into demo-proxy",
          argv: ["docker", "exec", "-i", "demo-proxy", "caddy", "reload", "--config", "-", "--adapter", "caddyfile", "--force"],
          stdin: "proxyConfig",
          retrySeconds: 10,
        },
      ],
      "config steps with a custom CA root",
    );
    assert.equal(proxyConfigSteps(names, { customCaRoot: false }).length, 1, "without a CA root: only the reload");
  });

  it("destroy keeps the certificates unless asked", () => {
    assert.deepEqual(
      proxyRemoveSteps(names, { removeData: false }).map((s) => s.argv),
      [["docker", "rm", "--force", "demo-proxy"], ["docker", "network", "rm", "demo-proxy"]],
      "container and network only",
    );
    assert.deepEqual(proxyRemoveSteps(names, { removeData: true }).at(-1)?.argv, ["docker", "volume", "rm", "demo-proxy-data"], "and the volume when asked");
  });
});

describe("switchPlan", () => {
  const input = {
    proxy: names, proxyImage: "pydeploy/demo-proxy:2.6.2-1", role: "web", next: "demo-web-v2", previous: ["demo-web-v1"], port: 8000,
    reach: { kind: "http" as const, path: "/health" }, drainSeconds: 30,
  };

  it("attach by alias and check the proxy reaches it; abort detaches; retire drains, detaches and stops each previous", () => {
    const plan = switchPlan(input);
    assert.deepEqual(plan.attach[0], { purpose: "route demo-web to demo-web-v2", argv: ["docker", "network", "connect", "--alias", "demo-web", "demo-proxy", "demo-web-v2"] }, "connect with the alias");
    const reach = plan.attach[1];
    assert.deepEqual(reach.argv.slice(0, 5), ["docker", "exec", "demo-proxy", "python3", "-c"], "the reach check runs in the proxy container");
    assert.equal(reach.argv[5], probeSource(), "the one probe (image/probe.py)");
    assert.deepEqual(reach.argv.slice(6), ["demo-web-v2", "8000", "/health", "3"], "by container name, port and path, for at most 3 s");
    assert.equal(reach.retrySeconds, 10, "retried for 10 s");
    assert.deepEqual(plan.abort, [{ purpose: "take demo-web-v2 off demo-proxy: demo-web stays on the previous containers", argv: ["docker", "network", "disconnect", "--force", "demo-proxy", "demo-web-v2"], allowFailure: true }], "abort");
    assert.equal(plan.retire.length, 1, "one retirement per previous container");
    const r = plan.retire[0];
    assert.equal(r.container, "demo-web-v1", "the previous container");
    assert.deepEqual(
      r.drain.argv.slice(0, 13),
      ["docker", "run", "--rm", "--network", "container:demo-web-v1", "--cap-add", "NET_ADMIN", "--user", "root", "pydeploy/demo-proxy:2.6.2-1", "python3", "-c", r.drain.argv[12]],
      "the drain helper runs the proxy image in the old container's network namespace, as root with NET_ADMIN",
    );
    assert.deepEqual(r.drain.argv.slice(13), ["8000", "30"], "port and drain seconds as arguments");
    assert.equal(r.drain.argv[12], fs.readFileSync(DRAIN_SCRIPT, "utf8"), "drain.py, read whole");
    assert.match(r.drain.argv[12], /"--syn", "--dport", str\(port\), "-j", "REJECT", "--reject-with", "tcp-reset"/, "it rejects new connections (SYN) to the port");
    assert.equal(r.drain.allowFailure, undefined, "a failed drain is seen: the fallback runs");
    const detach = ["docker", "network", "disconnect", "demo-proxy", "demo-web-v1"];
    const stop = ["docker", "stop", "--time", "30", "demo-web-v1"];
    assert.deepEqual(r.then.map((s) => s.argv), [detach, stop], "drained: off the network while it runs, then stopped");
    assert.deepEqual(r.ifDrainFails.map((s) => s.argv), [stop, detach], "fallback: stopped, then off the network");
  });

  it("every step says what it does, naming the containers, port and seconds (the deployer logs it and names it on failure)", () => {
    const plan = switchPlan(input);
    assert.deepEqual(plan.attach.map((s) => s.purpose), ["route demo-web to demo-web-v2", "the proxy reaches demo-web-v2 on port 8000"], "attach");
    const r = plan.retire[0];
    assert.equal(r.drain.purpose, "refuse new connections to demo-web-v1 on port 8000 and wait up to 30s for the open ones", "drain");
    assert.deepEqual(
      r.then.map((s) => s.purpose),
      ["take demo-web-v1 off demo-proxy: demo-web no longer names it, and starting it again routes nothing to it before its gate", "stop demo-web-v1 (kept for rollback)"],
      "after the drain",
    );
    assert.deepEqual(r.ifDrainFails.map((s) => s.purpose), [r.then[1].purpose, r.then[0].purpose], "the fallback: the same two steps, stop first");
  });

  it("drainSeconds 0 stops a previous container at once; reachSeconds 1 is the shortest check", () => {
    const plan = switchPlan({ ...input, drainSeconds: 0, reachSeconds: 1 });
    assert.deepEqual(plan.retire[0].drain.argv.slice(13), ["8000", "0"], "no wait for open connections");
    assert.deepEqual(plan.retire[0].then[1].argv, ["docker", "stop", "--time", "0", "demo-web-v1"], "stopped without a grace period");
    assert.equal(plan.attach[1].retrySeconds, 1, "checked for 1 s");
  });

  it("first deploy: nothing to retire; a TCP reach check has an empty path", () => {
    const plan = switchPlan({ ...input, previous: [], reach: { kind: "tcp" }, reachSeconds: 3 });
    assert.deepEqual(plan.retire, [], "no previous container");
    assert.deepEqual(plan.attach[1].argv.slice(6), ["demo-web-v2", "8000", "", "3"], "TCP: empty path");
    assert.equal(plan.attach[1].retrySeconds, 3, "reachSeconds");
  });

  it("refuses bad input", () => {
    assert.throws(() => switchPlan({ ...input, previous: ["demo-web-v2"] }), /demo-web-v2 is both the next and a previous container/, "next among previous");
    assert.throws(() => switchPlan({ ...input, next: "a b" }), /container name "a b" is not a Docker container name/, "bad name");
    assert.throws(() => switchPlan({ ...input, port: 0 }), /port must be an integer 1-65535, got 0/, "bad port");
    assert.throws(() => switchPlan({ ...input, drainSeconds: -1 }), /drainSeconds must be an integer >= 0, got -1/, "bad drain");
    assert.throws(() => switchPlan({ ...input, reach: { kind: "http", path: "health" } }), /reach path "health" must start with \//, "bad path");
    for (const path of ["health/live", "/he alth", "/health\n"]) {
      assert.throws(() => switchPlan({ ...input, reach: { kind: "http", path } }), (err: Error) => err.message === `role web: reach path ${JSON.stringify(path)} must start with / and have no whitespace`, `path ${JSON.stringify(path)}`);
    }
    for (const reachSeconds of [0, 1.5, -1]) {
      assert.throws(() => switchPlan({ ...input, reachSeconds }), (err: Error) => err.message === `reachSeconds must be an integer >= 1, got ${reachSeconds}`, `reachSeconds ${reachSeconds}`);
    }
    assert.throws(() => switchPlan({ ...input, role: "proxy" }), /role name "proxy" is reserved/, "reserved role");
    assert.throws(() => switchPlan({ ...input, proxyImage: "a b" }), /proxy image "a b" is not an image reference/, "bad proxy image");
  });
});
