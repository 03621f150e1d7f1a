import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, parseStackConfig, RawStackConfig } from "../../components/config/schema";
import { REPO_ROOT } from "../support/docker/localEngine";

const validApp = () => ({
  name: "demo",
  path: "example",
  aptPackages: ["lsof"],
  roles: {
    web: { command: ["python", "-m", "demo.web"], port: 8000, publish: 80, healthcheck: { path: "/health" } },
    worker: { command: ["python", "-m", "demo.worker"] },
  },
});

function raw(values: Record<string, unknown>, extra: Partial<RawStackConfig> = {}): RawStackConfig {
  return { stack: "dev", values, providerConfig: { "alicloud:region": "cn-hangzhou" }, baseDir: REPO_ROOT, ...extra };
}

/** Parses and returns the problems; fails the test if the config was accepted. */
function problemsOf(r: RawStackConfig): string[] {
  try {
    parseStackConfig(r);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail("the config was accepted");
}

function assertProblem(r: RawStackConfig, key: string, pattern: RegExp): void {
  const problems = problemsOf(r);
  const hit = problems.find((p) => p.startsWith(`${key}:`));
  assert.ok(hit, `no problem names ${key}; got:\n${problems.join("\n")}`);
  assert.match(hit, pattern);
}

describe("stack config: valid input", () => {
  it("applies defaults and resolves the project path", () => {
    const c = parseStackConfig(raw({ app: validApp() }));
    assert.equal(c.target, "local");
    assert.equal(c.environment, "development");
    assert.equal(c.app.path, path.join(REPO_ROOT, "example"));
    assert.equal(c.app.requirements, "requirements.txt", "requirements.txt is picked up when present");
    assert.equal(c.app.python, "3.12");
    assert.deepEqual(c.app.user, { name: "app", uid: 10001 });
    assert.equal(c.app.mode, "roles");
    assert.deepEqual(c.app.roles.map((r) => [r.name, r.port, r.publish]), [["web", 8000, 80], ["worker", undefined, undefined]]);
    assert.deepEqual(c.app.roles[0].healthcheck, { path: "/health", intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 10 });
    assert.equal(c.deploy.ship, "copy");
    assert.equal(c.deploy.keepImages, 3);
    assert.equal(c.server, undefined);
  });

  it("splits a command string like a shell and coerces numeric strings", () => {
    const app = validApp();
    (app.roles.web as Record<string, unknown>).command = "gunicorn 'demo.wsgi:app' --bind 0.0.0.0:8000";
    (app.roles.web as Record<string, unknown>).port = "8000";
    const c = parseStackConfig(raw({ app }));
    assert.deepEqual(c.app.roles[0].command, ["gunicorn", "demo.wsgi:app", "--bind", "0.0.0.0:8000"]);
    assert.equal(c.app.roles[0].port, 8000);
  });

  it("publishes on the container port when no host port is given", () => {
    const app = validApp();
    delete (app.roles.web as Record<string, unknown>).publish;
    assert.equal(parseStackConfig(raw({ app })).app.roles[0].publish, 8000);
  });

  it("opens SSH to the world on a development alicloud stack only with a warning", () => {
    const c = parseStackConfig(raw({ target: "alicloud", app: validApp() }));
    assert.deepEqual(c.server?.sshAllowedCidrs, ["0.0.0.0/0"]);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], /sshAllowedCidrs is not set: SSH \(port 22\) is open to 0\.0\.0\.0\/0/);
  });

  it("treats prod* stacks as production unless told otherwise", () => {
    const values = { target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["203.0.113.0/24"] } };
    assert.equal(parseStackConfig(raw(values, { stack: "prod-eu" })).environment, "production");
    assert.equal(parseStackConfig(raw({ ...values, environment: "development" }, { stack: "prod-eu" })).environment, "development");
  });

  it("ships through the registry when one is configured", () => {
    const c = parseStackConfig(raw({
      app: validApp(),
      registry: { server: "registry.cn-hangzhou.aliyuncs.com", username: "me", repository: "team/demo" },
      registryPassword: "s3cret",
    }));
    assert.equal(c.deploy.ship, "registry");
    assert.equal(c.secrets.registryPassword, "s3cret");
  });
});

describe("stack config: bad input names the key and what was expected", () => {
  it("a wrong type", () => {
    const app = validApp();
    (app.roles.web as Record<string, unknown>).port = "eighty";
    assertProblem(raw({ app }), "pydeploy:app.roles.web.port", /expected a port from 1 to 65535, got "eighty"/);
  });

  it("a port out of range", () => {
    const app = validApp();
    (app.roles.web as Record<string, unknown>).publish = 70000;
    assertProblem(raw({ app }), "pydeploy:app.roles.web.publish", /expected a port from 1 to 65535, got 70000/);
  });

  it("an empty command", () => {
    const app = validApp();
    (app.roles.worker as Record<string, unknown>).command = [];
    assertProblem(raw({ app }), "pydeploy:app.roles.worker.command", /expected a non-empty command/);
  });

  it("a command with shell operators", () => {
    const app = validApp();
    (app.roles.worker as Record<string, unknown>).command = "celery -A proj worker && echo done";
    assertProblem(raw({ app }), "pydeploy:app.roles.worker.command", /without shell operators.*got "celery -A proj worker && echo done"/);
  });

  it("an unknown top-level key", () => {
    assertProblem(raw({ app: validApp(), severs: {} }), "pydeploy", /unknown key "severs" \(known keys: .*server/);
  });

  it("an unknown nested key", () => {
    const app = { ...validApp(), requirement: "requirements.txt" };
    assertProblem(raw({ app }), "pydeploy:app", /unknown key "requirement"/);
  });

  it("a project path that does not exist", () => {
    assertProblem(raw({ app: { ...validApp(), path: "no-such-project" } }), "pydeploy:app.path", /expected a directory .*no-such-project does not exist/);
  });

  it("a requirements file that does not exist, or escapes the project", () => {
    assertProblem(raw({ app: { ...validApp(), requirements: "reqs/prod.txt" } }), "pydeploy:app.requirements", /expected an existing file/);
    assertProblem(raw({ app: { ...validApp(), requirements: "demo/../../package.json" } }), "pydeploy:app.requirements", /expected a file inside app.path/);
    assertProblem(raw({ app: { ...validApp(), requirements: "$HOME/req*.txt" } }), "pydeploy:app.requirements", /expected a requirements file path relative to app.path/);
  });

  it("two roles publishing the same host port", () => {
    const app = validApp();
    (app.roles as Record<string, unknown>).admin = { command: ["python", "-m", "demo.web"], port: 9000, publish: 80 };
    assertProblem(raw({ app }), "pydeploy:app.roles.admin.publish", /host port 80 is already published by role web/);
  });

  it("a healthcheck without a port", () => {
    const app = validApp();
    (app.roles.worker as Record<string, unknown>).healthcheck = { path: "/health" };
    assertProblem(raw({ app }), "pydeploy:app.roles.worker.healthcheck", /expected `port` too/);
  });

  it("an app name that cannot name containers", () => {
    assertProblem(raw({ app: { ...validApp(), name: "My App" } }), "pydeploy:app.name", /lowercase letters, digits and inner dashes, got "My App"/);
  });

  it("an apt package name a shell would interpret", () => {
    assertProblem(raw({ app: { ...validApp(), aptPackages: ["lsof; rm -rf /"] } }), "pydeploy:app.aptPackages.0", /expected a Debian package name/);
  });

  it("a malformed CIDR", () => {
    assertProblem(
      raw({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["10.0.0.0/33"] } }),
      "pydeploy:server.sshAllowedCidrs.0",
      /expected an IPv4 CIDR/,
    );
    assertProblem(raw({ target: "alicloud", app: validApp(), server: { appAllowedCidrs: ["everyone"] } }), "pydeploy:server.appAllowedCidrs.0", /expected an IPv4 CIDR/);
  });

  it("an instance type or image id of the wrong form", () => {
    assertProblem(raw({ target: "alicloud", app: validApp(), server: { instanceType: "t6.large" } }), "pydeploy:server.instanceType", /expected an ECS instance type such as ecs.t6-c1m2.large, got "t6.large"/);
    assertProblem(raw({ target: "alicloud", app: validApp(), server: { imageId: "ubuntu 22.04" } }), "pydeploy:server.imageId", /expected an ECS image id/);
  });

  it("a missing region", () => {
    assertProblem(raw({ target: "alicloud", app: validApp() }, { providerConfig: {} }), "alicloud:region", /expected the Alibaba Cloud region.*\(missing\)/);
  });

  it("production without sshAllowedCidrs, or with SSH open to the world", () => {
    assertProblem(raw({ target: "alicloud", environment: "production", app: validApp() }), "pydeploy:server.sshAllowedCidrs", /is required in production/);
    assertProblem(
      raw({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["0.0.0.0/0"] } }, { stack: "prod" }),
      "pydeploy:server.sshAllowedCidrs",
      /must not open SSH to the whole internet/,
    );
  });

  it("existing-host mode without a host or a key", () => {
    const problems = problemsOf(raw({ target: "existing", app: validApp() }));
    assert.ok(problems.some((p) => /^pydeploy:host: is required with target existing/.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => /^pydeploy:sshPrivateKey: is required with target existing/.test(p)), problems.join("\n"));
  });

  it("keys meant for another target", () => {
    assertProblem(raw({ app: validApp(), host: { address: "203.0.113.5" } }), "pydeploy:host", /only used with target existing, but target is local/);
  });

  it("a registry without its password, and registry shipping without a registry", () => {
    assertProblem(
      raw({ app: validApp(), registry: { server: "registry.cn-hangzhou.aliyuncs.com", username: "me", repository: "team/demo" } }),
      "pydeploy:registryPassword",
      /is required with a registry/,
    );
    assertProblem(raw({ app: validApp(), deploy: { ship: "registry" } }), "pydeploy:registry", /is required with deploy.ship registry/);
  });

  it("a secret env value with a newline, without echoing the secret", () => {
    const problems = problemsOf(raw({ app: validApp(), secretEnv: { API_TOKEN: "line1\nTOPSECRET" } }));
    assert.ok(problems.some((p) => /^pydeploy:secretEnv.API_TOKEN: expected a single-line value/.test(p)), problems.join("\n"));
    assert.ok(!problems.join("\n").includes("TOPSECRET"), "a secret value appeared in the error");
  });

  it("a malformed private key, without echoing it", () => {
    const problems = problemsOf(raw({ target: "existing", app: validApp(), host: { address: "203.0.113.5" }, sshPrivateKey: "hunter2-not-a-key" }));
    assert.ok(problems.some((p) => p.startsWith("pydeploy:sshPrivateKey: expected a PEM or OpenSSH private key")), problems.join("\n"));
    assert.ok(!problems.join("\n").includes("hunter2"), "the key appeared in the error");
  });

  it("a vSwitch block outside the VPC", () => {
    assertProblem(
      raw({ target: "alicloud", app: validApp(), server: { vpcCidr: "10.0.0.0/16", vswitchCidr: "172.16.1.0/24" } }),
      "pydeploy:server.vswitchCidr",
      /expected a block inside server.vpcCidr \(10.0.0.0\/16\)/,
    );
  });

  it("a variable both in app.env and secretEnv", () => {
    assertProblem(raw({ app: { ...validApp(), env: { TOKEN: "x" } }, secretEnv: { TOKEN: "y" } }), "pydeploy:secretEnv.TOKEN", /also set in pydeploy:app.env/);
  });

  it("lists every problem at once", () => {
    const app = validApp();
    (app.roles.web as Record<string, unknown>).port = 0;
    const problems = problemsOf(raw({ app: { ...app, name: "" }, target: "cloud" }));
    assert.ok(problems.length >= 3, problems.join("\n"));
    for (const key of ["pydeploy:app.name", "pydeploy:app.roles.web.port", "pydeploy:target"]) {
      assert.ok(problems.some((p) => p.startsWith(`${key}:`)), `${key} missing from:\n${problems.join("\n")}`);
    }
  });

  it("resolves app.path against the given base directory", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-config-"));
    fs.mkdirSync(path.join(dir, "svc"));
    try {
      const c = parseStackConfig(raw({ app: { ...validApp(), path: "svc", requirements: "none" } }, { baseDir: dir }));
      assert.equal(c.app.path, path.join(dir, "svc"));
      assert.equal(c.app.requirements, undefined, "requirements: none, no pip install");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stack config: Python dependencies, pip's index and the build", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  /** A project directory with these files; app.path points at it. */
  const projectRaw = (files: Record<string, string>, app: Record<string, unknown> = {}): RawStackConfig => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-deps-config-"));
    dirs.push(dir);
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    return raw({ app: { ...validApp(), path: dir, ...app } });
  };
  const PEP621 = '[project]\nname = "site"\nversion = "1"\ndependencies = ["Django>=4.2"]\n[project.optional-dependencies]\nprod = ["gunicorn"]\n';

  it("detects the dependency list and accepts the pip and build keys, with defaults", () => {
    const c = parseStackConfig(projectRaw({ "requirements/production.txt": "-r base.txt\n", "requirements/base.txt": "django\n" }));
    assert.equal(c.app.requirements, "requirements/production.txt", "cookiecutter-django's layout is detected");
    assert.deepEqual([c.app.extras, c.app.pipTrustedHost, c.app.buildNetwork, c.app.buildCommands], [[], [], "default", []], "defaults");
    const full = parseStackConfig(
      projectRaw(
        { "pyproject.toml": PEP621 },
        {
          extras: ["prod"],
          pipIndexUrl: "https://mirrors.aliyun.com/pypi/simple/",
          pipExtraIndexUrl: "http://10.0.0.5:3141/root/pypi/+simple/",
          pipTrustedHost: "10.0.0.5:3141",
          buildNetwork: "host",
          buildCommands: ["python manage.py collectstatic --noinput", ["python", "-m", "compileall", "."]],
        },
      ),
    );
    assert.equal(full.app.requirements, "pyproject.toml", "a PEP 621 project is detected");
    assert.deepEqual(full.app.extras, ["prod"], "extras");
    assert.deepEqual(full.app.pipTrustedHost, ["10.0.0.5:3141"], "one trusted host becomes a list");
    assert.equal(full.app.buildNetwork, "host", "build network");
    assert.deepEqual(full.app.buildCommands, [["python", "manage.py", "collectstatic", "--noinput"], ["python", "-m", "compileall", "."]], "commands as argv");
  });

  it("no dependency list found: the error lists what was looked for; requirements: none opts out", () => {
    assertProblem(projectRaw({}), "pydeploy:app.requirements", /looked for requirements\.txt, requirements\/production\.txt, requirements\/prod\.txt, requirements\/base\.txt, and pyproject\.toml/);
    assert.equal(parseStackConfig(projectRaw({}, { requirements: "none" })).app.requirements, undefined, "none: no pip install");
  });

  it("an include that is missing or leaves app.path, and dynamic pyproject dependencies, are config errors", () => {
    assertProblem(projectRaw({ "requirements/production.txt": "-r base.txt\n" }), "pydeploy:app.requirements", /`-r base\.txt` \(requirements\/production\.txt line 1\): .* does not exist/);
    assertProblem(projectRaw({ "requirements.txt": "-c ../constraints.txt\n" }), "pydeploy:app.requirements", /points outside the project/);
    assertProblem(projectRaw({ "pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n' }), "pydeploy:app.requirements", /"dependencies" in \[project\]\.dynamic/);
  });

  it("extras need a pyproject project that has them", () => {
    assertProblem(projectRaw({ "requirements.txt": "django\n" }, { extras: ["prod"] }), "pydeploy:app.extras", /expected no extras/);
    assertProblem(projectRaw({ "pyproject.toml": PEP621 }, { extras: ["production"] }), "pydeploy:app.extras", /has "prod"/);
  });

  it("an index URL with credentials is refused without repeating it", () => {
    for (const k of ["pipIndexUrl", "pipExtraIndexUrl"]) {
      const problems = problemsOf(projectRaw({ "requirements.txt": "" }, { [k]: "https://bob:hunter2@pypi.example.com/simple/" }));
      const hit = problems.find((p) => p.startsWith(`pydeploy:app.${k}:`));
      assert.ok(hit, `no problem names app.${k}: ${problems.join("\n")}`);
      assert.match(hit, /must not contain a user name or password/, "says what is wrong");
      assert.ok(!problems.join("\n").includes("hunter2") && !problems.join("\n").includes("bob"), "the credentials are not echoed");
    }
    assertProblem(projectRaw({ "requirements.txt": "" }, { pipIndexUrl: "ftp://mirror.example/simple/" }), "pydeploy:app.pipIndexUrl", /expected an http\(s\) URL/);
    assertProblem(projectRaw({ "requirements.txt": "" }, { pipIndexUrl: "not a url" }), "pydeploy:app.pipIndexUrl", /expected an http\(s\) URL/);
  });

  it("trusted hosts, the build network and build commands are checked", () => {
    assertProblem(projectRaw({ "requirements.txt": "" }, { pipTrustedHost: ["ok.example", "bad host"] }), "pydeploy:app.pipTrustedHost.1", /expected a host or host:port/);
    assertProblem(projectRaw({ "requirements.txt": "" }, { buildNetwork: "host; rm -rf /" }), "pydeploy:app.buildNetwork", /expected default, host or none/);
    assertProblem(projectRaw({ "requirements.txt": "" }, { buildNetwork: "my-build-net" }), "pydeploy:app.buildNetwork", /^pydeploy:app\.buildNetwork: expected default, host or none: the docker provider builds with BuildKit, which accepts no named network \(use host to reach a service on the build machine\), got "my-build-net"$/);
    assertProblem(projectRaw({ "requirements.txt": "" }, { buildCommands: ["python manage.py collectstatic && echo done"] }), "pydeploy:app.buildCommands.0", /without shell operators/);
  });
});

describe("stack config: the server's bandwidth, ports and CIDRs, and the SSH host key", () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-hostkeys-"));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  /** A real public key line from OpenSSH's ssh-keygen. */
  const keyLine = (type: "ed25519" | "ecdsa" | "rsa"): string => {
    const file = path.join(scratch, type);
    const r = spawnSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "", "-f", file], { encoding: "utf8" });
    if (r.error) throw new Error(`ssh-keygen must be installed to run these tests: ${r.error.message}`);
    assert.equal(r.status, 0, `ssh-keygen: ${r.stderr}`);
    return fs.readFileSync(`${file}.pub`, "utf8").trim();
  };
  const ed25519 = keyLine("ed25519");
  const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
  const existing = (host: Record<string, unknown>, extra: Partial<RawStackConfig> = {}) =>
    raw({ target: "existing", app: validApp(), host: { address: "203.0.113.5", ...host }, sshPrivateKey: KEY }, extra);
  const alicloud = (server: Record<string, unknown>) => raw({ target: "alicloud", app: validApp(), server: { sshAllowedCidrs: ["203.0.113.0/24"], ...server } });

  it("server.internetMaxBandwidthOut takes the provider's range, 0 to 100; 0 warns that there is no public IP", () => {
    assertProblem(alicloud({ internetMaxBandwidthOut: 101 }), "pydeploy:server.internetMaxBandwidthOut", /expected Mbit\/s from 0 to 100.*, got 101/);
    assertProblem(alicloud({ internetMaxBandwidthOut: -1 }), "pydeploy:server.internetMaxBandwidthOut", /expected Mbit\/s from 0 to 100/);
    assert.equal(parseStackConfig(alicloud({ internetMaxBandwidthOut: 100 })).server?.internetMaxBandwidthOut, 100, "the maximum is accepted");
    const none = parseStackConfig(alicloud({ internetMaxBandwidthOut: 0 }));
    assert.equal(none.server?.internetMaxBandwidthOut, 0, "0 is accepted");
    assert.ok(none.warnings.some((w) => /internetMaxBandwidthOut is 0: the server gets no public IP.*private IP/.test(w)), `warnings: ${none.warnings.join("\n")}`);
  });

  it("server.sshPort may not be a published port: SSH and the app would share one security group rule", () => {
    // validApp publishes web on host port 80.
    assertProblem(alicloud({ sshPort: 80 }), "pydeploy:server.sshPort", /port 80 is also published by role web; SSH and the app need different host ports/);
    assert.equal(parseStackConfig(alicloud({ sshPort: 2222 })).server?.sshPort, 2222, "another port is fine");
  });

  it("allowed CIDRs must be network addresses, so no rule is a second spelling of another", () => {
    assertProblem(alicloud({ sshAllowedCidrs: ["10.1.2.3/8"] }), "pydeploy:server.sshAllowedCidrs.0", /expected a network address: 10\.1\.2\.3\/8 has host bits set, write 10\.0\.0\.0\/8/);
    assertProblem(alicloud({ appAllowedCidrs: ["0.0.0.0/0", "192.0.2.77/24"] }), "pydeploy:server.appAllowedCidrs.1", /write 192\.0\.2\.0\/24/);
    const c = parseStackConfig(alicloud({ sshAllowedCidrs: ["203.0.113.7/32", "10.0.0.0/8"], appAllowedCidrs: ["0.0.0.0/0"] }));
    assert.deepEqual([c.server?.sshAllowedCidrs, c.server?.appAllowedCidrs], [["203.0.113.7/32", "10.0.0.0/8"], ["0.0.0.0/0"]], "network addresses pass unchanged");
  });

  it("host.hostKey takes the line ssh-keyscan prints (or a .pub line), of any of the three types, and keeps type and key", () => {
    assert.equal(parseStackConfig(existing({ hostKey: `203.0.113.5 ${ed25519}` })).hosts[0]?.hostKey, ed25519, "ssh-keyscan form");
    assert.equal(parseStackConfig(existing({ hostKey: `${ed25519} root@box` })).hosts[0]?.hostKey, ed25519, ".pub form");
    for (const type of ["ecdsa", "rsa"] as const) {
      const line = keyLine(type);
      const c = parseStackConfig(existing({ hostKey: line }));
      assert.equal(c.hosts[0]?.hostKey, line, `${type} is accepted`);
      assert.deepEqual(c.warnings, [], "a pinned key needs no warning");
    }
  });

  it("a malformed host.hostKey names the key and what is wrong", () => {
    assertProblem(existing({ hostKey: "ssh-ed25519 not*base64" }), "pydeploy:host.hostKey", /expected a host key line such as "ssh-ed25519 AAAAC3Nza…" \(ssh-keyscan -t ed25519 <host> prints it\): the key data after ssh-ed25519 is not base64/);
    assertProblem(existing({ hostKey: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" }), "pydeploy:host.hostKey", /no key type \(ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa\)/);
    assertProblem(existing({ hostKey: ed25519.slice(0, 40) }), "pydeploy:host.hostKey", /not a whole ssh-ed25519 public key/);
  });

  it("no host.hostKey: a warning on a development stack says the risk and how to get the key", () => {
    const c = parseStackConfig(existing({}));
    assert.equal(c.warnings.length, 1, `warnings: ${c.warnings.join("\n")}`);
    assert.match(c.warnings[0], /host\.hostKey is not set: the deploy accepts any SSH host key from 203\.0\.113\.5/, "the risk");
    assert.match(c.warnings[0], /ssh-keyscan -t ed25519 203\.0\.113\.5/, "how to get the key");
  });

  it("no host.hostKey in production: refused, saying how to get the key", () => {
    assertProblem(existing({}, { stack: "prod" }), "pydeploy:host.hostKey", /is required in production.*ssh-keyscan -t ed25519 203\.0\.113\.5/);
    assert.equal(parseStackConfig(existing({ hostKey: ed25519 }, { stack: "prod" })).hosts[0]?.hostKey, ed25519, "with the key, production is fine");
  });
});
