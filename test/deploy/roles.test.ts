// From the app config to what each container runs: boot order, gates, single mode.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { roleSpecs } from "../../components/deploy/roles";
import { exampleStack } from "../support/stack";

const worker = { command: ["python", "-m", "demo.worker"] };
const web = { command: ["python", "-m", "demo.web"], port: 8000, publish: 80, healthcheck: { path: "/health" } };
const api = { command: ["python", "-m", "demo.api"], port: 9000 };

describe("roleSpecs", () => {
  test("serving roles boot first, whatever the declaration order", () => {
    const app = exampleStack({ app: { roles: { worker, web, api } } }).app;
    assert.deepEqual(roleSpecs(app).map((r) => r.role), ["web", "api", "worker"], "web and api before the worker");
  });

  test("gates: HTTP on the container port with a healthcheck path, TCP with a port only, running without", () => {
    const specs = Object.fromEntries(roleSpecs(exampleStack({ app: { roles: { worker, web, api } } }).app).map((r) => [r.role, r]));
    assert.deepEqual(specs.web.gate, { kind: "http", port: 8000, path: "/health" }, "web");
    assert.deepEqual(specs.api.gate, { kind: "tcp", port: 9000 }, "api");
    assert.deepEqual(specs.worker.gate, { kind: "running" }, "worker");
    assert.deepEqual(specs.web.ports, [{ host: 80, container: 8000 }], "publish maps host 80 to 8000");
    assert.deepEqual(specs.api.ports, [{ host: 9000, container: 9000 }], "publish defaults to the port");
    assert.equal(specs.worker.healthcheck, undefined, "the worker gets no healthcheck (the image's is for the web)");
    assert.equal(specs.web.healthcheck?.intervalSeconds, 10, "the web's healthcheck timing comes from the config defaults");
  });

  test("single mode: one container running the image's entrypoint, every role's port, the web's gate", () => {
    const specs = roleSpecs(exampleStack({ app: { mode: "single", roles: { worker, web, api } } }).app);
    assert.equal(specs.length, 1, "one container");
    assert.deepEqual(specs[0].command, [], "the image's CMD (the generated entrypoint)");
    assert.deepEqual(specs[0].ports, [{ host: 80, container: 8000 }, { host: 9000, container: 9000 }], "every published port");
    assert.deepEqual(specs[0].gate, { kind: "http", port: 8000, path: "/health" }, "gated on the web");
  });
});
