// Unit tests of the remote steps as data: exact argv and strings, validation, plan order, stdin
// markers, quoting. No Docker engine: scripts are checked with dash/bash (parsing and quoting),
// `bash -n` and shellcheck, and the harmless ones run against a temp $HOME or a fake docker.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import {
  appLayout,
  archiveRemotePath,
  deployPlan,
  DeployPlanInput,
  describeGate,
  loadImage,
  planStepNames,
  prepareHost,
  probeImage,
  pullImage,
  release,
  RemoteStep,
  waitForServer,
  writeEnvFile,
} from "../../components/deploy/commands";
import { containerName, dockerRunArgs, ReleaseSpec, renderEnvFile, RoleSpec } from "../../components/deploy/containerSpec";
import { dockerInstallScript } from "../../components/server/dockerInstall";

const ID = `sha256:${"4f1c2b3a9d8e".padEnd(64, "0")}`;
const OTHER_ID = `sha256:${"a".repeat(64)}`;
const SECRET = "s3cr3t-value-that-must-not-leak";
const PASSWORD = "registry-password-that-must-not-leak";

const web: RoleSpec = {
  role: "web",
  command: ["python", "-m", "demo.web"],
  ports: [{ host: 80, container: 8000 }],
  gate: { kind: "http", port: 80, path: "/health" },
  healthcheck: { test: ["python", "-c", "import sys; sys.exit(0)"], intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 5 },
};
const worker: RoleSpec = { role: "worker", command: ["python", "-m", "demo.worker"], ports: [], gate: { kind: "running" } };

function spec(over: Partial<ReleaseSpec> = {}): ReleaseSpec {
  return {
    app: "demo",
    image: "pydeploy/demo:4f1c2b3a9d8e",
    imageId: ID,
    version: "0a1b2c3d4e5f",
    roles: [web, worker],
    envFile: ".pydeploy/demo/app.env",
    logMaxSize: "10m",
    logMaxFiles: 3,
    healthTimeoutSeconds: 60,
    keepImages: 2,
    ...over,
  };
}

function planInput(mode: "copy" | "registry", over: Partial<ReleaseSpec> = {}): DeployPlanInput {
  const rel = spec(over);
  return {
    layout: appLayout(rel.app),
    dockerInstallScript: dockerInstallScript({ mirror: "https://mirrors.aliyun.com/docker-ce", registryMirrors: [] }),
    ship:
      mode === "copy"
        ? { mode, imageId: rel.imageId, image: rel.image }
        : { mode, registryServer: "registry.cn-hangzhou.aliyuncs.com", username: "deployer@example", imageRef: `registry.cn-hangzhou.aliyuncs.com/team/demo@${ID}`, image: rel.image },
    release: rel,
  };
}

function allSteps(): { name: string; step: RemoteStep }[] {
  const steps: { name: string; step: RemoteStep }[] = [];
  for (const mode of ["copy", "registry"] as const) {
    for (const p of deployPlan(planInput(mode))) if ("step" in p) steps.push({ name: `${mode}/${p.name}`, step: p.step });
  }
  steps.push({ name: "release/tcp", step: release(spec({ roles: [{ ...web, gate: { kind: "tcp", port: 80 } }] })) });
  return steps;
}

// A fake `bash` that records the script it was given: what the login shell passes to bash -c.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-commands-test-"));
const fakeBin = path.join(tmp, "bin");
fs.mkdirSync(fakeBin);
fs.writeFileSync(path.join(fakeBin, "bash"), '#!/bin/sh\n[ "$1" = -c ] || exit 97\nprintf "%s" "$2" >"$SCRIPT_OUT"\n', { mode: 0o755 });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The script the server's bash receives, as parsed by the given login shell. */
function scriptOf(command: string, loginShell = "/bin/sh"): string {
  const out = path.join(tmp, `script-${Math.random().toString(16).slice(2)}`);
  execFileSync(loginShell, ["-c", command], { env: { PATH: `${fakeBin}:/usr/bin:/bin`, SCRIPT_OUT: out } });
  const script = fs.readFileSync(out, "utf8");
  fs.rmSync(out);
  return script;
}

/**
 * Runs a step's command line through sh with the real bash, $HOME in a temp dir and a fake
 * docker (records its argv, exits dockerRc) on PATH; `script` runs bash code directly instead.
 */
function runLocally(command: string, o: { home: string; stdin?: string; dockerRc?: number; script?: boolean }) {
  const dockerLog = path.join(o.home, "docker.log");
  fs.writeFileSync(path.join(fakeBin, "docker"), '#!/bin/sh\nprintf "%s\\0" "$@" >>"$DOCKER_LOG"\nprintf "\\n" >>"$DOCKER_LOG"\nexit "${FAKE_DOCKER_RC:-0}"\n', { mode: 0o755 });
  const bashBin = path.join(tmp, "realbash");
  fs.mkdirSync(bashBin, { recursive: true });
  if (!fs.existsSync(path.join(bashBin, "bash"))) fs.symlinkSync("/bin/bash", path.join(bashBin, "bash"));
  const r = spawnSync(o.script ? "/bin/bash" : "/bin/sh", ["-c", command], {
    cwd: "/",
    input: o.stdin ?? "",
    encoding: "utf8",
    env: { PATH: `${bashBin}:${fakeBin}:/usr/bin:/bin`, HOME: o.home, DOCKER_LOG: dockerLog, FAKE_DOCKER_RC: String(o.dockerRc ?? 0) },
  });
  const calls = fs.existsSync(dockerLog)
    ? fs.readFileSync(dockerLog, "utf8").split("\n").filter(Boolean).map((l) => l.split("\0").slice(0, -1))
    : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

function tempHome(): string {
  return fs.mkdtempSync(path.join(tmp, "home-"));
}

describe("containerSpec", () => {
  test("containerName is <app>-<role>-<version> and rejects unsafe parts", () => {
    assert.equal(containerName("demo", "web", "0a1b2c3d4e5f"), "demo-web-0a1b2c3d4e5f");
    assert.throws(() => containerName("Demo", "web", "v1"), /app name "Demo"/);
    assert.throws(() => containerName("demo", "web;rm", "v1"), /role name "web;rm"/);
    assert.throws(() => containerName("demo", "web", "v 1"), /release version "v 1"/);
  });

  test("dockerRunArgs: exact argv of a web role with a healthcheck", () => {
    assert.deepEqual(dockerRunArgs(spec(), web), [
      "docker", "run", "--detach", "--restart", "unless-stopped", "--init",
      "--name", "demo-web-0a1b2c3d4e5f",
      "--env-file", ".pydeploy/demo/app.env",
      "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
      "--label", "pydeploy.app=demo", "--label", "pydeploy.role=web",
      "--label", "pydeploy.version=0a1b2c3d4e5f", "--label", `pydeploy.image=${ID}`,
      "-p", "80:8000",
      "--health-cmd", "python -c 'import sys; sys.exit(0)'",
      "--health-interval", "10s", "--health-timeout", "3s", "--health-retries", "3", "--health-start-period", "5s",
      "pydeploy/demo:4f1c2b3a9d8e", "python", "-m", "demo.web",
    ]);
  });

  test("dockerRunArgs: a role without healthcheck gets --no-healthcheck; an empty command keeps the image's CMD", () => {
    const args = dockerRunArgs(spec({ roles: [{ ...worker, command: [] }] }), { ...worker, command: [] });
    assert.deepEqual(args.slice(-2), ["--no-healthcheck", "pydeploy/demo:4f1c2b3a9d8e"]);
    assert.ok(!args.includes("-p"));
  });

  test("dockerRunArgs: Docker's CMD / CMD-SHELL / NONE healthcheck forms", () => {
    const withTest = (test: string[]) => dockerRunArgs(spec({ roles: [{ ...web, healthcheck: { ...web.healthcheck!, test } }] }), { ...web, healthcheck: { ...web.healthcheck!, test } });
    const cmd = (args: string[]) => args[args.indexOf("--health-cmd") + 1];
    assert.equal(cmd(withTest(["CMD", "curl", "-f", "http://x/a b"])), "curl -f 'http://x/a b'");
    assert.equal(cmd(withTest(["CMD-SHELL", "curl -f http://x || exit 1"])), "curl -f http://x || exit 1");
    assert.ok(withTest(["NONE"]).includes("--no-healthcheck"));
  });

  test("dockerRunArgs validates the release", () => {
    assert.throws(() => dockerRunArgs(spec({ imageId: "sha256:abc" }), web), /imageId "sha256:abc" must be sha256:<64 hex digits>/);
    assert.throws(() => dockerRunArgs(spec({ image: "Bad Image" }), web), /image "Bad Image" is not a valid image reference/);
    const stray = { ...web, gate: { kind: "http" as const, port: 81, path: "/health" } };
    assert.throws(() => dockerRunArgs(spec({ roles: [stray] }), stray), /role web: its http gate port 81 is not one of its published host ports \(80\)/);
    assert.throws(() => dockerRunArgs(spec({ roles: [web, { ...worker, ports: [{ host: 80, container: 1 }] }] }), web), /host port 80 is published by both role web and role worker/);
    assert.throws(() => dockerRunArgs(spec({ logMaxSize: "10 MB" }), web), /logMaxSize "10 MB"/);
    assert.throws(() => dockerRunArgs(spec({ roles: [web, web] }), web), /role web appears twice/);
  });

  test("renderEnvFile: sorted KEY=value lines, values verbatim", () => {
    assert.equal(
      renderEnvFile({ B: "two words ", A: `it's "$HOME" \\ #not-a-comment`, C: "x=y", D: "" }),
      `A=it's "$HOME" \\ #not-a-comment\nB=two words \nC=x=y\nD=\n`,
    );
    assert.equal(renderEnvFile({}), "");
  });

  test("renderEnvFile: clear errors naming the key", () => {
    assert.throws(() => renderEnvFile({ PEM: "line1\nline2" }), /env var PEM: value contains a line break/);
    assert.throws(() => renderEnvFile({ CR: "a\rb" }), /env var CR: value contains a line break/);
    assert.throws(() => renderEnvFile({ NUL: "a\0b" }), /env var NUL: value contains a NUL/);
    assert.throws(() => renderEnvFile({ BAD: "\uD800" }), /env var BAD: value is not valid Unicode/);
    assert.throws(() => renderEnvFile({ "MY-KEY": "x" }), /env var name "MY-KEY" is invalid/);
    assert.throws(() => renderEnvFile({ "1X": "x" }), /env var name "1X" is invalid/);
    assert.throws(() => renderEnvFile({ " X": "x" }), /env var name " X" is invalid/);
  });
});

describe("layout and plan", () => {
  test("appLayout is relative to the SSH user's home by default", () => {
    assert.deepEqual(appLayout("demo"), { app: "demo", dir: ".pydeploy/demo", envFile: ".pydeploy/demo/app.env", incomingDir: ".pydeploy/demo/incoming" });
    assert.equal(appLayout("demo", "/opt/pydeploy/").dir, "/opt/pydeploy/demo");
    assert.equal(appLayout("demo", "./deploy").dir, "deploy/demo");
    assert.throws(() => appLayout("demo", "~/x"), /relative to the home directory/);
    assert.throws(() => appLayout("My App"), /app name "My App"/);
    assert.equal(archiveRemotePath(appLayout("demo"), ID), `.pydeploy/demo/incoming/${ID.slice(7)}.tar.gz`);
    assert.throws(() => archiveRemotePath(appLayout("demo"), "abc"), /image id "abc"/);
  });

  test("plan order and stdin markers per ship mode", () => {
    const copy = deployPlan(planInput("copy"));
    assert.deepEqual(copy.map((s) => s.name), ["wait", "host", "probe", "upload", "load", "env", "release"]);
    assert.deepEqual(copy.map((s) => s.name), planStepNames("copy"));
    const upload = copy.find((s) => s.name === "upload");
    assert.deepEqual(upload, { name: "upload", upload: { remotePath: `.pydeploy/demo/incoming/${ID.slice(7)}.tar.gz` } });
    const registry = deployPlan(planInput("registry"));
    assert.deepEqual(registry.map((s) => s.name), ["wait", "host", "pull", "env", "release"]);
    assert.deepEqual(registry.map((s) => s.name), planStepNames("registry"));
    const stdin = (plan: typeof copy) => Object.fromEntries(plan.flatMap((s) => ("step" in s ? [[s.name, s.step.stdin ?? null]] : [])));
    assert.deepEqual(stdin(copy), { wait: null, host: null, probe: null, load: null, env: "envFile", release: null });
    assert.deepEqual(stdin(registry), { wait: null, host: null, pull: "registryPassword", env: "envFile", release: null });
    const deletes = (plan: typeof copy) => plan.flatMap((s) => ("step" in s && s.step.delete ? [s.name] : []));
    assert.deepEqual(deletes(copy), ["host", "load", "env", "release"]);
    assert.deepEqual(deletes(registry), ["host", "env", "release"]);
  });

  test("deployPlan refuses inconsistent input", () => {
    const i = planInput("copy");
    assert.throws(() => deployPlan({ ...i, ship: { mode: "copy", imageId: i.release.imageId, image: "pydeploy/demo:other" } }), /shipped image is tagged pydeploy\/demo:other but the release runs pydeploy\/demo:4f1c2b3a9d8e/);
    assert.throws(() => deployPlan({ ...i, ship: { mode: "copy", imageId: OTHER_ID, image: i.release.image } }), /shipped image id/);
    assert.throws(() => deployPlan({ ...i, layout: appLayout("other") }), /release app demo does not match the layout's app other/);
    const r = planInput("registry");
    assert.throws(() => deployPlan({ ...r, ship: { ...(r.ship as any), imageRef: "registry.example.com/team/demo:latest" } }), /must be pinned by digest/);
    assert.throws(() => prepareHost({ layout: appLayout("demo"), dockerInstallScript: "echo\nPYDEPLOY_DOCKER_INSTALL\necho" }), /ends its heredoc/);
  });

  test("no secret ever appears in a command: secrets only travel on stdin", () => {
    // The plan input has no field for secrets at all; check the strings anyway.
    for (const { name, step } of allSteps()) {
      for (const text of [step.create, step.delete ?? ""]) {
        assert.ok(!text.includes(SECRET) && !text.includes(PASSWORD), name);
        assert.ok(!/--password(?!-stdin)/.test(text), `${name}: a password flag`);
      }
    }
  });
});

describe("generated scripts", () => {
  test("every command is `bash -c '<script>'` that sh and bash parse to the same script, starting with set -euo pipefail", () => {
    for (const { name, step } of allSteps()) {
      for (const command of [step.create, step.delete].filter((c): c is string => c !== undefined)) {
        assert.ok(command.startsWith("bash -c '"), name);
        const script = scriptOf(command, "/bin/sh");
        assert.equal(scriptOf(command, "/bin/bash"), script, name);
        assert.ok(script.startsWith("set -euo pipefail\n"), name);
      }
    }
  });

  test("every script passes bash -n and shellcheck", () => {
    for (const { name, step } of allSteps()) {
      for (const [kind, command] of [["create", step.create], ["delete", step.delete]] as const) {
        if (!command) continue;
        const script = scriptOf(command);
        const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(syntax.status, 0, `${name} ${kind}: ${syntax.stderr}`);
        const lint = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
        assert.equal(lint.status, 0, `${name} ${kind}:\n${lint.stdout}${lint.stderr}`);
      }
    }
  });

  test("prepareHost embeds the Docker install snippet verbatim and runs it as its own bash program", () => {
    const snippet = `echo "it's $HOME" 'single' \\\nexit 0 # an exit must not end the step\n`;
    const script = scriptOf(prepareHost({ layout: appLayout("demo"), dockerInstallScript: snippet }).create);
    assert.ok(script.includes(`<<"PYDEPLOY_DOCKER_INSTALL" || true\n${snippet}PYDEPLOY_DOCKER_INSTALL\nbash -c "$docker_install" docker-install\n`));
  });

  test("release: each role's run function passes exactly dockerRunArgs to docker, awkward values included", () => {
    const awkward: RoleSpec = { ...worker, role: "my-worker", command: ["python", "-c", `print("it's $HOME \\\\ !")`, "a b", ""] };
    const rel = spec({ roles: [web, awkward], envFile: `env dir/it's "$HOME".env` });
    const script = scriptOf(release(rel).create);
    for (const role of rel.roles) {
      const fn = `run_${role.role.replace(/-/g, "_")}`;
      const body = new RegExp(`^${fn}\\(\\) \\{\\n[\\s\\S]*?\\n\\}$`, "m").exec(script)?.[0];
      assert.ok(body, `${fn} in the script`);
      const r = runLocally(`${body}\n${fn}`, { home: tempHome(), script: true });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.calls, [dockerRunArgs(rel, role).slice(1)]);
    }
  });

  test("release: boot lines name the gate; a tcp gate checks the container port behind the host port", () => {
    const script = scriptOf(release(spec()).create);
    assert.match(script, /^boot web demo-web-0a1b2c3d4e5f run_web "GET :80\/health" http_ok 80 \/health$/m);
    assert.match(script, /^boot worker demo-worker-0a1b2c3d4e5f run_worker "running for 5s" ran_for 5$/m);
    const tcp = scriptOf(release(spec({ roles: [{ ...web, gate: { kind: "tcp", port: 80 } }] })).create);
    assert.match(tcp, /^boot web demo-web-0a1b2c3d4e5f run_web "TCP :80" tcp_ok demo-web-0a1b2c3d4e5f 8000$/m);
    assert.equal(describeGate({ kind: "http", port: 80, path: "/health" }), "GET :80/health");
    // Boot order is the spec's order.
    assert.ok(script.indexOf("\nboot web ") < script.indexOf("\nboot worker "));
    assert.match(script, /^health_timeout=60$/m);
    assert.match(script, /^keep_images=2$/m);
  });

  test("release delete only removes this release's containers that do not run", () => {
    const script = scriptOf(release(spec()).delete!);
    assert.match(script, /^containers=\(demo-web-0a1b2c3d4e5f demo-worker-0a1b2c3d4e5f\)$/m);
  });

  test("writeEnvFile writes stdin atomically with mode 0600 and prints no content", () => {
    const home = tempHome();
    const layout = appLayout("demo", "deploy dir");
    const step = writeEnvFile({ layout });
    const content = renderEnvFile({ TOKEN: SECRET, OTHER: "x" });
    const r = runLocally(step.create, { home, stdin: content });
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(home, "deploy dir", "demo", "app.env");
    assert.equal(fs.readFileSync(file, "utf8"), content);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.ok(!(r.stdout + r.stderr).includes(SECRET));
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["app.env"], "no temp file left");
    // Replaced, not appended; the delete removes it and succeeds when it is gone.
    assert.equal(runLocally(step.create, { home, stdin: "A=1\n" }).code, 0);
    assert.equal(fs.readFileSync(file, "utf8"), "A=1\n");
    assert.equal(runLocally(step.delete!, { home }).code, 0);
    assert.ok(!fs.existsSync(file));
    assert.equal(runLocally(step.delete!, { home }).code, 0);
  });

  test("probeImage prints exactly present or missing", () => {
    const home = tempHome();
    const present = runLocally(probeImage({ imageId: ID }).create, { home, dockerRc: 0 });
    assert.equal(present.stdout, "present");
    assert.deepEqual(present.calls, [["image", "inspect", ID]]);
    assert.equal(runLocally(probeImage({ imageId: ID }).create, { home, dockerRc: 1 }).stdout, "missing");
  });

  test("loadImage: with the image present it only tags (recording the tag) and removes a stray archive", () => {
    const home = tempHome();
    const layout = appLayout("demo");
    fs.mkdirSync(path.join(home, layout.incomingDir), { recursive: true });
    const archive = path.join(home, archiveRemotePath(layout, ID));
    fs.writeFileSync(archive, "x");
    const step = loadImage({ layout, imageId: ID, image: "pydeploy/demo:4f1c2b3a9d8e" });
    const r = runLocally(step.create, { home });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [["image", "inspect", ID], ["tag", ID, "pydeploy/demo:4f1c2b3a9d8e"]]);
    assert.ok(!fs.existsSync(archive));
    assert.equal(fs.readFileSync(path.join(home, layout.dir, "image-tags"), "utf8"), "pydeploy/demo:4f1c2b3a9d8e\n");
    runLocally(step.create, { home });
    assert.equal(fs.readFileSync(path.join(home, layout.dir, "image-tags"), "utf8"), "pydeploy/demo:4f1c2b3a9d8e\n", "recorded once");
    // Missing image and no archive: a clear error.
    const missing = runLocally(step.create, { home, dockerRc: 1 });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /is not on the server and its archive .* was not uploaded/);
  });

  test("pullImage logs in through stdin with a throwaway config and logs out", () => {
    const home = tempHome();
    const step = pullImage({ registryServer: "registry.example.com:5000", username: "me", imageRef: `registry.example.com:5000/team/demo@${ID}`, image: "pydeploy/demo:4f1c2b3a9d8e" });
    assert.equal(step.stdin, "registryPassword");
    const r = runLocally(step.create, { home, stdin: PASSWORD });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls.map((c) => c.slice(0, 2)), [["login", "--username"], ["pull", `registry.example.com:5000/team/demo@${ID}`], ["tag", `registry.example.com:5000/team/demo@${ID}`], ["logout", "registry.example.com:5000"]]);
    assert.deepEqual(r.calls[0], ["login", "--username", "me", "--password-stdin", "registry.example.com:5000"]);
    assert.ok(!(r.stdout + r.stderr).includes(PASSWORD));
  });

  test("waitForServer succeeds where there is no cloud-init", { skip: spawnSync("sh", ["-c", "command -v cloud-init"]).status === 0 }, () => {
    const r = runLocally(waitForServer().create, { home: tempHome() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server ready: Linux/);
  });
});
