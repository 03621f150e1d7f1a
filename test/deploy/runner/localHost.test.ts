// The environment of the local host's docker commands: DOCKER_HOST names the docker provider's
// daemon, so the docker CLI ignores `docker context` (DOCKER_HOST wins over DOCKER_CONTEXT and
// the config file's currentContext: docker/cli resolveContextName) and both use one engine.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LocalHost, localDockerEnv } from "../../../components/deploy/runner/transport";

test("localDockerEnv: DOCKER_HOST set to the provider's daemon, DOCKER_CONTEXT gone, the rest kept", () => {
  const base = { PATH: "/usr/bin", DOCKER_CONFIG: "/tmp/cfg", DOCKER_CONTEXT: "other", DOCKER_HOST: "unix:///old.sock" };
  assert.deepEqual(localDockerEnv(base, "unix:///var/run/docker.sock"), { PATH: "/usr/bin", DOCKER_CONFIG: "/tmp/cfg", DOCKER_HOST: "unix:///var/run/docker.sock" }, "the env");
  assert.equal(base.DOCKER_CONTEXT, "other", "the base is not changed");
});

test("LocalHost runs every command with that environment", () => {
  const host = new LocalHost("tcp://10.0.0.5:2375", { HOME: "/home/me", DOCKER_CONTEXT: "other" });
  assert.deepEqual([host.dockerHost, host.env], ["tcp://10.0.0.5:2375", { HOME: "/home/me", DOCKER_HOST: "tcp://10.0.0.5:2375" }], "address and environment");
});
