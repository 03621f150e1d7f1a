// Usage: node --import tsx test/support/mocks/fleetProgram.ts <count> [rollingBatch] [overrides as JSON]
//   overrides: {"server": {...}, "app": {...}, "config": {"pydeploy:key": value}} merged into the dev stack
// Runs index.ts under Pulumi mocks with the committed dev stack (Alibaba Cloud) and
// server.count = <count>, then prints one line, `fleet-result: ` and JSON: every registration (type, name, urn,
// dependencies), every resource's inputs, and the fleet outputs. A child process per count,
// because a process imports the program once.
import { committedStackConfig, importProgram } from "./program";
import { FLEET_RESULT } from "./fleetRun";
import { drainRegistrations, installMocks, recordRegistrations, valueOf } from "./mocks";

const [count, rollingBatch] = process.argv.slice(2, 4).map(Number);
const overrides = JSON.parse(process.argv[4] ?? "{}") as { server?: object; app?: object; config?: Record<string, unknown> };
if (!Number.isInteger(count)) {
  console.error("usage: fleetProgram.ts <count> [rollingBatch] [overrides as JSON]");
  process.exit(2);
}
const dev = committedStackConfig("dev");
const mocks = installMocks({
  stack: "dev",
  secretKeys: Object.keys(overrides.config ?? {}).filter((k) => k === "pydeploy:loadBalancerCertificateKey"),
  config: {
    ...dev,
    "pydeploy:server": { ...(dev["pydeploy:server"] as object), count, ...overrides.server },
    "pydeploy:app": { ...(dev["pydeploy:app"] as object), ...overrides.app },
    ...overrides.config,
    ...(rollingBatch ? { "pydeploy:deploy": { rollingBatch } } : {}),
  },
  outputs: (r) => {
    if (r.type === "docker:index/image:Image") return { repoDigest: `sha256:${"34".repeat(32)}` };
    // Each instance its own addresses: demo → .10, demo-2 → .11, …
    if (r.type === "alicloud:ecs/instance:Instance") {
      const n = Number(/^demo-(\d+)-instance$/.exec(r.name)?.[1] ?? 1);
      return { publicIp: `203.0.113.${9 + n}`, privateIp: `172.16.1.${9 + n}` };
    }
    if (r.type === "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer") return { address: "198.51.100.20" };
    if (r.type === "command:local:Command" && r.name.endsWith("-release")) {
      return { stdout: `pydeploy-result: {"version":"0123456789ab","containers":["demo-web-0123456789ab"]}` };
    }
    return undefined;
  },
});
const registrations = recordRegistrations();

void (async () => {
  const program = await importProgram();
  const outputs = {
    appUrls: await valueOf(program.appUrls),
    containers: await valueOf(program.containers),
    servers: program.servers ? await valueOf(program.servers) : null,
    fleetPs: program.fleetPs ? await valueOf(program.fleetPs) : null,
    loadBalancerAddress: program.loadBalancerAddress ? await valueOf(program.loadBalancerAddress) : null,
  };
  await drainRegistrations();
  const resources = mocks.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
  process.stdout.write(`\n${FLEET_RESULT}${JSON.stringify({ registrations, resources, outputs })}\n`);
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
