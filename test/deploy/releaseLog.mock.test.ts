// The release's log after `pulumi up`: a step's output lines show only as transient status
// while it runs, so AppDeployment repeats the release step's log as a diagnostic of its own
// (pulumi.log.info on the component: the run's summary shows it), without the result lines.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadStackFile } from "../../components/config/stackFile";
import { REPO_ROOT } from "../support/docker/localEngine";
import { installMocks, valueOf } from "../support/mocks/mocks";

const LOG = [
  "pydeploy: release step started 2026-01-01T00:00:00.000Z",
  "pydeploy: release 0123456789ab of demo: image pydeploy/demo:abababababab (sha256:abab…)",
  "pydeploy: role web: demo-web-0123456789ab passed GET :8000/health",
];
const STDOUT = [...LOG, 'pydeploy-result-part: {"version":"0123456789ab",', 'pydeploy-result: "containers":["demo-web-0123456789ab"]}'].join("\n");
installMocks({ stack: "local", outputs: (r) => (r.type === "command:local:Command" && r.name.endsWith("-release") ? { stdout: STDOUT } : undefined) });

const infos: { message: string; resource?: pulumi.Resource }[] = [];
const logModule = pulumi.log as { info: (msg: string, resource?: pulumi.Resource) => Promise<void> };
const originalInfo = logModule.info;
logModule.info = (message: string, resource?: pulumi.Resource) => {
  infos.push({ message, resource });
  return originalInfo(message, resource);
};

let deployment: pulumi.ComponentResource;
let containers: string[];
before(async () => {
  const { AppDeployment } = await import("../../components/deploy/deployment");
  const { app, deploy } = loadStackFile(REPO_ROOT, "local");
  const d = new AppDeployment("demo", {
    target: { kind: "local" },
    app,
    deploy,
    imageName: "pydeploy/demo:local",
    repoDigest: `sha256:${"ab".repeat(32)}`,
    secretEnv: {},
    proxyImage: { imageName: "pydeploy/demo-proxy:local", repoDigest: `sha256:${"ef".repeat(32)}` },
  });
  deployment = d;
  containers = await valueOf(d.containers);
  await valueOf(d.releaseLog);
});

test("the release's log is a diagnostic of the AppDeployment, its result read from split lines", () => {
  assert.deepEqual(containers, ["demo-web-0123456789ab"], "the result, joined from its two lines");
  const shown = infos.filter((i) => i.message.startsWith("release log"));
  assert.equal(shown.length, 1, `one diagnostic: ${JSON.stringify(infos.map((i) => i.message))}`);
  assert.equal(shown[0].message, `release log (its last run):\n${LOG.join("\n")}`, "the log lines, not the result");
  assert.equal(shown[0].resource, deployment, "on the component, so the summary names it");
});
