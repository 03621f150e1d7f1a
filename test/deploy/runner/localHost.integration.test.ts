// The deployer's local engine is the docker provider's: DOCKER_HOST, or the default socket,
// whatever `docker context` is selected (the provider ignores contexts, the docker CLI follows
// them). Here a context pointing at a socket that does not exist is selected, in a throwaway
// client config, the way `docker context use` does it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { localHost } from "../../../components/deploy/runner/transport";
import { DEFAULT_DOCKER_HOST } from "../../../components/image/dockerDaemon";
import { LABEL_CLAIM } from "../../../components/deploy/dockerCommands";
import { runnerCommand } from "../../../components/deploy/spec";
import { docker, REPO_ROOT, run, uniqueName } from "../../support/docker/localEngine";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-context-"));
const config = path.join(dir, "docker-config");
const home = path.join(dir, "home");
const APP = uniqueName("ctx");
/** This process's environment with the other context selected, and no DOCKER_HOST. */
const withContext = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: config, HOME: home, ...extra };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  return env;
};

describe("the local host reaches the provider's daemon, not the docker context's", { timeout: 120_000 }, () => {
  const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, DOCKER_HOST: process.env.DOCKER_HOST, HOME: process.env.HOME };
  before(async () => {
    assert.equal(process.env.DOCKER_HOST ?? "", "", "the test runs against the default socket");
    fs.mkdirSync(config);
    fs.mkdirSync(home);
    await docker(["--config", config, "context", "create", "other", "--docker", "host=unix:///nonexistent.sock"]);
    await docker(["--config", config, "context", "use", "other"]);
    const plain = await run("docker", ["version", "--format", "{{.Server.Version}}"], { env: withContext(), allowFailure: true });
    assert.notEqual(plain.code, 0, `the docker CLI follows the context to the missing socket: ${plain.stdout}${plain.stderr}`);
  });

  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // The host step claimed the app on the engine (runner/claim.ts).
    const claims = (await docker(["volume", "ls", "--quiet", "--filter", `label=${LABEL_CLAIM}=${APP}`])).stdout.split("\n").filter(Boolean);
    if (claims.length) await docker(["volume", "rm", ...claims]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the host step (local target) finds Docker usable, with the context selected in the config file", async () => {
    const spec = { specVersion: 1, target: { kind: "local" }, app: APP, appDir: `.pydeploy/${APP}`, connectTimeoutSeconds: 10, removeVolumes: false };
    const r = await run("sh", ["-c", runnerCommand("host")], {
      cwd: REPO_ROOT,
      env: withContext({ PYDEPLOY_SPEC: JSON.stringify(spec) }),
      input: "{}",
      allowFailure: true,
    });
    assert.equal(r.code, 0, `the host step succeeds:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /pydeploy: Docker \S+ is usable on the local Docker engine/, "it reached the engine");
  });

  test("with DOCKER_CONTEXT=other too, every docker command of the local host reaches the real engine", async () => {
    Object.assign(process.env, { DOCKER_CONFIG: config, HOME: home, DOCKER_CONTEXT: "other" });
    delete process.env.DOCKER_HOST;
    try {
      const host = await localHost();
      assert.equal(host.dockerHost, DEFAULT_DOCKER_HOST, "the default socket, as the provider resolves it");
      const version = await host.run(["docker", "version", "--format", "{{.Server.Version}}"]);
      assert.match(version.stdout.trim(), /^\d+\.\d+/, "docker version answers from the engine");
      const ps = await host.run(["docker", "ps", "--quiet"]);
      assert.equal(ps.code, 0, "docker ps too");
    } finally {
      delete process.env.DOCKER_CONTEXT;
    }
  });
});
