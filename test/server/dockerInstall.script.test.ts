// Runs install-docker.sh for real with bash, with the arguments the host step and cloud-init give
// it, in a sandbox: $PYDEPLOY_FS_ROOT points at a temp dir, and docker, package managers and init
// tools are fakes on PATH that record their calls.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { run as runProcess } from "../support/docker/localEngine";
import { CLOUD_INIT_LOG } from "../../components/server/cloudInit";
import { INSTALL_DOCKER_SCRIPT, installDockerArgs, type DockerInstallOptions } from "../../components/server/dockerInstall";

const MIRROR = "https://mirror.example.com/docker-ce";
const REAL_TOOLS = ["bash", "sh", "cat", "cut", "sha256sum", "tee", "install", "id", "sleep", "chmod", "flock", "env", "date", "nohup", "cp", "touch", "mkdir"];

const FAKES: Record<string, string> = {
  docker: `case "$1" in
  info) [ -e "$STATE/running" ] ;;
  --version) echo "Docker version 99.0.0, build fake" ;;
esac`,
  "apt-get": `echo "apt-get DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-} $*" >>"$CALLS"
case " $* " in *" install "*docker-ce*) sleep "\${INSTALL_DELAY:-0}"; cp "$FAKES/docker" "$BIN/docker" ;; esac`,
  yum: `case " $* " in *" install "*docker-ce*) cp "$FAKES/docker" "$BIN/docker" ;; esac`,
  dnf: `case " $* " in *" install "*docker-ce*) cp "$FAKES/docker" "$BIN/docker" ;; esac`,
  curl: `while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "FAKE GPG KEY" >"$2"; fi; shift; done`,
  dpkg: `[ "$1" = --print-architecture ] && echo amd64`,
  systemctl: `case "$1" in
  is-enabled) [ -e "$STATE/enabled" ] ;;
  enable) touch "$STATE/enabled" ;;
  start | restart) touch "$STATE/running" ;;
esac`,
  service: `case "$2" in start | restart) touch "$STATE/running" ;; esac`,
  dockerd: `touch "$STATE/running"`,
  sudo: `[ "$1" = -n ] && shift; exec "$@"`,
};

const OS_RELEASE = {
  ubuntu: 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\n',
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\nVERSION_CODENAME=bookworm\n',
  alinux3: 'NAME="Alibaba Cloud Linux"\nVERSION="3 (Soaring Falcon)"\nID="alinux"\nID_LIKE="rhel fedora centos anolis"\nVERSION_ID="3"\n',
  centos7: 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
  centos6: 'NAME="CentOS"\nID="centos"\nVERSION_ID="6"\n',
  unknown: 'NAME="Plan 9"\nID=plan9\nVERSION_ID="4"\n',
};

interface SandboxOptions {
  docker: "running" | "stopped" | "missing";
  osRelease?: string;
  systemd?: boolean;
  dockerEnabled?: boolean;
  /** Fakes to leave off PATH (e.g. "service", "dnf"). */
  without?: string[];
}

const sandboxes: string[] = [];
after(() => {
  for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
});

function sandbox(o: SandboxOptions) {
  const dir = mkdtempSync(join(tmpdir(), "pydeploy-docker-install-"));
  sandboxes.push(dir);
  const [root, bin, tools, fakes, state] = ["root", "bin", "tools", "fakes", "state"].map((d) => join(dir, d));
  for (const d of [bin, tools, fakes, state, join(root, "etc"), join(root, "tmp"), join(root, "var", "log")]) mkdirSync(d, { recursive: true });
  for (const tool of REAL_TOOLS) {
    const path = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    assert.ok(path.startsWith("/"), `the sandbox needs ${tool} on this machine`);
    symlinkSync(path, join(tools, tool));
  }
  const calls = join(dir, "calls.log");
  writeFileSync(calls, "");
  for (const [name, body] of Object.entries(FAKES)) {
    const record = name === "apt-get" ? "" : `echo "${name} $*" >>"$CALLS"\n`;
    const file = join(fakes, name);
    writeFileSync(file, `#!${join(tools, "bash")}\n${record}${body}\n`);
    chmodSync(file, 0o755);
    const onPath = name === "docker" ? o.docker !== "missing" : !(o.without ?? []).includes(name);
    if (onPath) symlinkSync(file, join(bin, name));
  }
  if (o.docker === "running") writeFileSync(join(state, "running"), "");
  if (o.dockerEnabled) writeFileSync(join(state, "enabled"), "");
  if (o.systemd) mkdirSync(join(root, "run", "systemd", "system"), { recursive: true });
  if (o.osRelease !== undefined) writeFileSync(join(root, "etc", "os-release"), o.osRelease);

  const env = { PATH: `${bin}:${tools}`, HOME: dir, PYDEPLOY_FS_ROOT: root, CALLS: calls, STATE: state, BIN: bin, FAKES: fakes };
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    runProcess(join(tools, "bash"), [INSTALL_DOCKER_SCRIPT, ...args], { env: { ...env, ...extraEnv }, allowFailure: true });
  return {
    root,
    file: (path: string) => join(root, path),
    read: (path: string) => readFileSync(join(root, path), "utf8"),
    calls: () => readFileSync(calls, "utf8").split("\n").filter(Boolean),
    clearCalls: () => writeFileSync(calls, ""),
    dockerRunning: () => existsSync(join(state, "running")),
    /** As the host step runs it: the mirrors as arguments. */
    install: (options: DockerInstallOptions, extraEnv?: Record<string, string>) => run(installDockerArgs(options), extraEnv),
    /** As cloud-init's runcmd runs it: with --log. */
    cloudInit: (options: DockerInstallOptions) => run(["--log", CLOUD_INIT_LOG, ...installDockerArgs(options)]),
    /** Arguments given as they are, unchecked. */
    runWith: (args: string[]) => run(args),
  };
}

const noMirrors: DockerInstallOptions = { mirror: MIRROR, registryMirrors: [] };
const PACKAGE_TOOLS = /^(apt-get|yum|dnf|curl|dpkg) /;
const nonDockerCalls = (calls: string[]) => calls.filter((c) => !c.startsWith("docker "));

describe("docker already installed", () => {
  test("running, no systemd: installs nothing, touches no package manager, starts nothing", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), [], "commands run besides docker");
    assert.match(r.stdout, /docker is already installed \(Docker version 99\.0\.0/, "stdout");
    assert.ok(!existsSync(box.file("etc/apt/sources.list.d/docker.list")), "no apt source written");
    assert.ok(!existsSync(box.file("etc/docker/daemon.json")), "no daemon.json written");
  });

  test("running under systemd and enabled: only asks systemd whether docker is enabled", async () => {
    const box = sandbox({ docker: "running", systemd: true, dockerEnabled: true, osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), ["systemctl is-enabled --quiet docker"], "commands run besides docker");
  });

  test("even on an OS it could not install on", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.unknown });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), [], "commands run besides docker");
  });

  test("stopped under systemd: enables and starts it with systemctl", async () => {
    const box = sandbox({ docker: "stopped", systemd: true, osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), ["systemctl is-enabled --quiet docker", "systemctl enable docker", "systemctl start docker"], "commands run besides docker");
    assert.ok(box.dockerRunning(), "dockerd was started");
  });

  test("stopped without systemd: service docker start", async () => {
    const box = sandbox({ docker: "stopped", osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), ["service docker start"], "commands run besides docker");
  });

  test("stopped with no init system at all: starts dockerd in the background", async () => {
    const box = sandbox({ docker: "stopped", osRelease: OS_RELEASE.ubuntu, without: ["service"] });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), ["dockerd "], "commands run besides docker");
    assert.match(r.stdout, /starting dockerd in the background/, "stdout");
  });
});

describe("docker missing", () => {
  for (const [label, osRelease] of [["an unknown OS", OS_RELEASE.unknown], ["no /etc/os-release", undefined]] as const) {
    test(`${label}: fails with a clear message and touches no package manager`, async () => {
      const box = sandbox({ docker: "missing", osRelease });
      const r = await box.install(noMirrors);
      assert.equal(r.code, 1, "exit code");
      assert.match(r.stderr, new RegExp(`pydeploy: error: unsupported OS '${osRelease ? "plan9" : "unknown"}' \\(ID in /etc/os-release\\): cannot install Docker CE automatically`), "stderr");
      assert.match(r.stderr, /supported: ubuntu, debian, centos, rhel, rocky, almalinux, anolis, alinux/, "stderr");
      assert.deepEqual(box.calls().filter((c) => PACKAGE_TOOLS.test(c)), [], "no package manager is touched");
      assert.doesNotMatch(r.stdout, /docker is running/, "it stops at the failure");
    });
  }

  test("an unsupported release of a known OS fails clearly", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.centos6 });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 1, "exit code");
    assert.match(r.stderr, /unsupported centos version '6' for Docker CE/, "stderr");
    assert.deepEqual(box.calls().filter((c) => PACKAGE_TOOLS.test(c)), [], "no package manager is touched");
  });

  test("Ubuntu: apt repo from the mirror with its gpg key, then docker-ce, then starts it", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    const apt = "apt-get DEBIAN_FRONTEND=noninteractive -y -q -o DPkg::Lock::Timeout=600";
    assert.deepEqual(nonDockerCalls(box.calls()), [
      `${apt} update`,
      `${apt} install ca-certificates curl`,
      `curl -fsSL --retry 5 ${MIRROR}/linux/ubuntu/gpg -o ${box.file("etc/apt/keyrings/docker.asc")}`,
      "dpkg --print-architecture",
      `${apt} update`,
      `${apt} install docker-ce docker-ce-cli containerd.io`,
      "service docker start",
    ], "commands run besides docker");
    assert.equal(
      box.read("etc/apt/sources.list.d/docker.list"),
      `deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] ${MIRROR}/linux/ubuntu jammy stable\n`,
      "the apt source",
    );
    assert.equal(box.read("etc/apt/keyrings/docker.asc"), "FAKE GPG KEY\n", "etc/apt/keyrings/docker.asc");
    assert.match(r.stdout, /installing Docker CE from https:\/\/mirror\.example\.com\/docker-ce/, "stdout");
    assert.match(r.stdout, /docker is running/, "stdout");
  });

  test("Debian: the debian path of the mirror and its codename", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.debian, systemd: true });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(box.read("etc/apt/sources.list.d/docker.list"), `deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] ${MIRROR}/linux/debian bookworm stable\n`, "etc/apt/sources.list.d/docker.list");
    assert.ok(box.calls().includes(`curl -fsSL --retry 5 ${MIRROR}/linux/debian/gpg -o ${box.file("etc/apt/keyrings/docker.asc")}`), `calls: ${box.calls().join("; ")}`);
    assert.deepEqual(box.calls().filter((c) => c.startsWith("systemctl")), ["systemctl is-enabled --quiet docker", "systemctl enable docker", "systemctl start docker"], "systemctl calls");
  });

  test("Alibaba Cloud Linux 3: dnf with the EL8 repo of the mirror", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.alinux3, systemd: true });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      box.read("etc/yum.repos.d/docker-ce.repo"),
      "[docker-ce-stable]\nname=Docker CE Stable - $basearch\n" +
        `baseurl=${MIRROR}/linux/centos/8/$basearch/stable\nenabled=1\ngpgcheck=1\ngpgkey=${MIRROR}/linux/centos/gpg\n`,
      "the yum repo",
    );
    assert.ok(box.calls().includes("dnf -y install docker-ce docker-ce-cli containerd.io"), `calls: ${box.calls().join("; ")}`);
    assert.deepEqual(box.calls().filter((c) => /^(apt-get|yum) /.test(c)), [], "neither apt-get nor yum");
  });

  test("CentOS 7 without dnf: yum with the EL7 repo", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.centos7, systemd: true, without: ["dnf"] });
    const r = await box.install(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.match(box.read("etc/yum.repos.d/docker-ce.repo"), new RegExp(`baseurl=${MIRROR}/linux/centos/7/\\$basearch/stable`), "etc/yum.repos.d/docker-ce.repo");
    assert.ok(box.calls().includes("yum -y install docker-ce docker-ce-cli containerd.io"), `calls: ${box.calls().join("; ")}`);
  });

  test("two runs at once (cloud-init and an SSH deploy): Docker is installed once", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
    const [a, b] = await Promise.all([box.install(noMirrors, { INSTALL_DELAY: "1" }), box.install(noMirrors, { INSTALL_DELAY: "1" })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(box.calls().filter((c) => c.endsWith("install docker-ce docker-ce-cli containerd.io")).length, 1, "docker-ce installed once");
    assert.equal([a, b].filter((r) => /docker is already installed/.test(r.stdout)).length, 1, "the other run found it installed");
  });
});

describe("registry mirrors in /etc/docker/daemon.json", () => {
  const mirrors: DockerInstallOptions = { mirror: MIRROR, registryMirrors: ["https://r1.example.com", "https://r2.example.com"] };
  const expected = `{\n  "registry-mirrors": [\n    "https://r1.example.com",\n    "https://r2.example.com"\n  ]\n}\n`;

  test("absent: written, docker restarted once; a second run changes nothing", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.ubuntu });
    const first = await box.install(mirrors);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(box.read("etc/docker/daemon.json"), expected, "etc/docker/daemon.json");
    assert.deepEqual(nonDockerCalls(box.calls()), ["service docker restart"], "commands run besides docker");

    box.clearCalls();
    const second = await box.install(mirrors);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), [], "commands run besides docker");
    assert.equal(box.read("etc/docker/daemon.json"), expected, "etc/docker/daemon.json");
  });

  test("under systemd the restart goes through systemctl", async () => {
    const box = sandbox({ docker: "running", systemd: true, dockerEnabled: true, osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(mirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nonDockerCalls(box.calls()), ["systemctl is-enabled --quiet docker", "systemctl restart docker"], "commands run besides docker");
  });

  test("ours but the mirrors changed: rewritten and restarted", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.ubuntu });
    assert.equal((await box.install({ mirror: MIRROR, registryMirrors: ["https://old.example.com"] })).code, 0, "the first run succeeds");
    box.clearCalls();
    const r = await box.install(mirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(box.read("etc/docker/daemon.json"), expected, "etc/docker/daemon.json");
    assert.deepEqual(nonDockerCalls(box.calls()), ["service docker restart"], "commands run besides docker");
  });

  test("someone else's daemon.json: left alone with a warning, no restart", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.ubuntu });
    const theirs = '{ "log-driver": "journald" }\n';
    mkdirSync(box.file("etc/docker"), { recursive: true });
    writeFileSync(box.file("etc/docker/daemon.json"), theirs);
    const r = await box.install(mirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*daemon\.json exists and was not written by pydeploy; leaving it as is/, "stderr");
    assert.equal(box.read("etc/docker/daemon.json"), theirs, "etc/docker/daemon.json");
    assert.deepEqual(nonDockerCalls(box.calls()), [], "commands run besides docker");
  });

  test("ours, then edited by hand: no longer ours, left alone", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.ubuntu });
    assert.equal((await box.install({ mirror: MIRROR, registryMirrors: ["https://old.example.com"] })).code, 0, "the first run succeeds");
    const edited = '{ "registry-mirrors": ["https://old.example.com"], "debug": true }\n';
    writeFileSync(box.file("etc/docker/daemon.json"), edited);
    box.clearCalls();
    const r = await box.install(mirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /not written by pydeploy/, "stderr");
    assert.equal(box.read("etc/docker/daemon.json"), edited, "etc/docker/daemon.json");
  });

  test("fresh install with mirrors: daemon.json is in place before docker starts", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
    const r = await box.install(mirrors);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(box.read("etc/docker/daemon.json"), expected, "etc/docker/daemon.json");
    assert.deepEqual(box.calls().filter((c) => c.startsWith("service ")), ["service docker start"], "service calls");
  });
});

describe("cloud-init userData", () => {
  const logOf = async (box: ReturnType<typeof sandbox>, mustContain: RegExp) => {
    // tee in the process substitution may still be flushing when bash exits.
    for (let i = 0; i < 50; i++) {
      const log = existsSync(box.file("var/log/pydeploy-cloud-init.log")) ? box.read("var/log/pydeploy-cloud-init.log") : "";
      if (mustContain.test(log)) return log;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the cloud-init log never matched ${mustContain}`);
  };

  test("runs the install and logs to /var/log/pydeploy-cloud-init.log", async () => {
    const box = sandbox({ docker: "running", osRelease: OS_RELEASE.ubuntu });
    const r = await box.cloudInit(noMirrors);
    assert.equal(r.code, 0, r.stderr);
    const log = await logOf(box, /install-docker finished/);
    assert.match(log, /pydeploy: install-docker started at \d{4}-\d\d-\d\dT/, "cloud-init log");
    assert.match(log, /docker is already installed/, "cloud-init log");
    assert.match(log, /docker is running/, "cloud-init log");
  });

  test("a failed install fails the script and says so in the log", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.unknown });
    const r = await box.cloudInit(noMirrors);
    assert.equal(r.code, 1, "exit code");
    const log = await logOf(box, /install-docker failed/);
    assert.match(log, /unsupported OS 'plan9'/, "cloud-init log");
    assert.match(log, /pydeploy: install-docker failed \(exit 1\)/, "cloud-init log");
    assert.doesNotMatch(log, /install-docker finished/, "cloud-init log");
  });
});

describe("arguments", () => {
  test("none: the usage line, exit 2, nothing run", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
    const r = await box.runWith([]);
    assert.equal(r.code, 2, "exit code");
    assert.match(r.stderr, /usage: install-docker\.sh \[--log FILE\] DOCKER_CE_MIRROR_URL \[REGISTRY_MIRROR_URL\.\.\.\]/, "stderr");
    assert.deepEqual(box.calls(), [], "nothing ran");
  });

  test("--log without a file: the usage line, exit 2", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
    const r = await box.runWith(["--log"]);
    assert.equal(r.code, 2, "exit code");
    assert.match(r.stderr, /usage: install-docker\.sh/, "stderr");
  });

  for (const bad of ["mirrors.aliyun.com/docker-ce", "ftp://mirror.example.com", "https://mirror.example.com/a b", 'https://mirror.example.com/"x"', "https://mirror.example.com/\\x"]) {
    test(`a mirror the script itself refuses, even unchecked: ${JSON.stringify(bad)}`, async () => {
      const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
      for (const args of [[bad], [MIRROR, bad]]) {
        const r = await box.runWith(args);
        assert.equal(r.code, 2, `exit code for ${JSON.stringify(args)}`);
        assert.ok(r.stderr.includes(`pydeploy: error: expected an http(s) URL, got '${bad}'`), `stderr for ${JSON.stringify(args)}: ${r.stderr}`);
        assert.deepEqual(box.calls().filter((c) => PACKAGE_TOOLS.test(c)), [], "no package manager is touched");
        assert.ok(!existsSync(box.file("etc/docker/daemon.json")), "no daemon.json written");
      }
    });
  }

  test("trailing slashes are dropped, and shell characters in a URL stay literal", async () => {
    const box = sandbox({ docker: "missing", osRelease: OS_RELEASE.ubuntu });
    const odd = "https://r2.example.com/a$HOME`id`;b&c|d";
    const r = await box.runWith([`${MIRROR}//`, `${odd}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      box.read("etc/apt/sources.list.d/docker.list"),
      `deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] ${MIRROR}/linux/ubuntu jammy stable\n`,
      "apt source",
    );
    assert.equal(box.read("etc/docker/daemon.json"), `{\n  "registry-mirrors": [\n    "${odd}"\n  ]\n}\n`, "etc/docker/daemon.json");
  });
});
