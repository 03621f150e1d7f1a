// Issue 8: the local target builds for this machine's own platform; servers get linux/amd64
// unless deploy.platform says otherwise. What index.ts hands docker.Image, under mocks.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { exampleAppValues, importProgram } from "./support/mocks/program";
import { drainRegistrations, installMocks, valueOf } from "./support/mocks/mocks";

const mocks = installMocks({
  stack: "local",
  config: { "pydeploy:app": exampleAppValues(), "pydeploy:target": "local" },
  outputs: (r) => (r.type === "command:local:Command" && r.name.endsWith("-release") ? { stdout: 'pydeploy-result: {"version":"0123456789ab","containers":["demo-web-0123456789ab"]}' } : undefined),
});

before(async () => {
  const program = await importProgram();
  await valueOf(program.containers);
  await drainRegistrations();
});

test("the local target passes no platform: docker builds for this machine (arm64 laptops included)", () => {
  const builds = mocks.byType("docker:index/image:Image").map((i) => [i.name, i.inputs.build.platform]);
  assert.deepEqual(builds.sort(), [["demo-image", undefined], ["demo-proxy-image", undefined]], "no platform on either image");
});
