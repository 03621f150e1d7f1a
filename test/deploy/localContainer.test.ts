import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RoleSpec } from "../../components/deploy/containerSpec";
import { localContainerSettings } from "../../components/deploy/localContainer";
import { pythonHealthProbe, pythonTcpProbe } from "../../components/image/healthProbe";

const options = { app: "demo", logMaxSize: "10m", logMaxFiles: 3, healthTimeoutSeconds: 45 };
const web: RoleSpec = {
  role: "web",
  command: ["python", "-m", "demo.web"],
  ports: [{ host: 8080, container: 8000 }],
  gate: { kind: "http", port: 8080, path: "/health" },
  healthcheck: { test: pythonHealthProbe({ port: 8000, path: "/health", timeoutSeconds: 3 }), intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 10 },
};

describe("localContainerSettings: the same gate as the remote release", () => {
  it("an HTTP role: Docker's healthcheck runs its probe and the provider waits for it", () => {
    const s = localContainerSettings(options, web);
    assert.deepEqual(s.healthcheck, { tests: ["CMD", ...web.healthcheck!.test], interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s" });
    assert.equal(s.wait, true);
    assert.equal(s.waitTimeout, 45);
    assert.deepEqual(s.ports, [{ internal: 8000, external: 8080 }]);
    assert.equal(s.restart, "unless-stopped");
  });

  it("a role with a port but no HTTP check: a TCP probe on the container port, waited for", () => {
    const api: RoleSpec = { role: "api", command: ["python", "-m", "api"], ports: [{ host: 9090, container: 9000 }], gate: { kind: "tcp", port: 9090 } };
    const s = localContainerSettings(options, api);
    assert.deepEqual(s.healthcheck.tests, ["CMD", ...pythonTcpProbe({ port: 9000, timeoutSeconds: 3 })]);
    assert.equal(s.wait, true);
  });

  it("a worker: the image's HEALTHCHECK is switched off and nothing is waited for", () => {
    const worker: RoleSpec = { role: "worker", command: ["python", "-m", "demo.worker"], ports: [], gate: { kind: "running" } };
    const s = localContainerSettings(options, worker);
    assert.deepEqual(s.healthcheck, { tests: ["NONE"] });
    assert.equal(s.wait, false);
    assert.equal(s.name, "demo-worker");
    assert.deepEqual(s.labels, [{ label: "pydeploy.app", value: "demo" }, { label: "pydeploy.role", value: "worker" }]);
  });
});
