import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CLOUD_INIT_LOG, renderCloudInit } from "../../components/server/cloudInit";
import {
  ALIYUN_DOCKER_CE_MIRROR,
  ALIYUN_VPC_DOCKER_CE_MIRROR,
  daemonJson,
  dockerInstallScript,
  type DockerInstallOptions,
} from "../../components/server/dockerInstall";

/** Runs the real shellcheck binary; a missing binary fails the test. */
function shellcheck(script: string): { code: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "pydeploy-shellcheck-"));
  try {
    const file = join(dir, "script.sh");
    writeFileSync(file, script);
    const r = spawnSync("shellcheck", ["--severity=style", file], { encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck must be installed to run these tests: ${r.error.message}`);
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bashSyntaxOk(script: string): void {
  const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

const OPTION_SETS: Record<string, DockerInstallOptions> = {
  "public mirror, no registry mirrors": { mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: [] },
  "VPC mirror with a trailing slash, one registry mirror": { mirror: `${ALIYUN_VPC_DOCKER_CE_MIRROR}/`, registryMirrors: ["https://abc123.mirror.aliyuncs.com"] },
  "several registry mirrors with shell metacharacters in paths": {
    mirror: "http://mirror.example.com/docker-ce",
    registryMirrors: ["https://r1.example.com", "https://r2.example.com/a$HOME`id`;b&c|d"],
  },
};

describe("renderCloudInit", () => {
  for (const [label, options] of Object.entries(OPTION_SETS)) {
    test(`passes shellcheck: ${label}`, () => {
      const script = renderCloudInit(options);
      const { code, output } = shellcheck(script);
      assert.equal(code, 0, output);
      bashSyntaxOk(script);
    });
  }

  test("is a bash script with strict mode that logs to its own file and embeds the install snippet verbatim", () => {
    const options = OPTION_SETS["VPC mirror with a trailing slash, one registry mirror"];
    const script = renderCloudInit(options);
    const lines = script.split("\n");
    assert.equal(lines[0], "#!/bin/bash");
    assert.ok(lines.slice(0, 4).includes("set -euo pipefail"));
    assert.ok(script.includes(CLOUD_INIT_LOG));
    assert.equal(CLOUD_INIT_LOG, "/var/log/pydeploy-cloud-init.log");
    assert.ok(script.includes(dockerInstallScript(options)), "the docker install snippet is not embedded verbatim");
    assert.ok(script.includes(`pydeploy_mirror='${ALIYUN_VPC_DOCKER_CE_MIRROR}'`), "trailing slash not trimmed");
  });
});

describe("dockerInstallScript", () => {
  for (const [label, options] of Object.entries(OPTION_SETS)) {
    test(`passes shellcheck inside a strict bash wrapper: ${label}`, () => {
      const script = `#!/usr/bin/env bash\nset -euo pipefail\n${dockerInstallScript(options)}`;
      const { code, output } = shellcheck(script);
      assert.equal(code, 0, output);
      bashSyntaxOk(script);
    });
  }

  test("has no shebang: it is a snippet to embed", () => {
    assert.ok(!dockerInstallScript(OPTION_SETS["public mirror, no registry mirrors"]).startsWith("#!"));
  });

  test("defaults: the public and VPC Aliyun docker-ce mirrors", () => {
    assert.equal(ALIYUN_DOCKER_CE_MIRROR, "https://mirrors.aliyun.com/docker-ce");
    assert.equal(ALIYUN_VPC_DOCKER_CE_MIRROR, "https://mirrors.cloud.aliyuncs.com/docker-ce");
  });

  test("daemon.json content: registry-mirrors only, none when there are no mirrors", () => {
    assert.equal(daemonJson([]), null);
    assert.deepEqual(JSON.parse(daemonJson(["https://a.example.com/", "http://b.example.com"])!), {
      "registry-mirrors": ["https://a.example.com", "http://b.example.com"],
    });
  });

  test("rejects mirrors that are not plain http(s) URLs", () => {
    for (const mirror of ["mirrors.aliyun.com/docker-ce", "ftp://mirror.example.com", "https://mirror.example.com/a b", "https://mirror.example.com/'x'", ""]) {
      assert.throws(() => dockerInstallScript({ mirror, registryMirrors: [] }), /mirror must be an http\(s\) URL/, mirror);
    }
    assert.throws(
      () => dockerInstallScript({ mirror: ALIYUN_DOCKER_CE_MIRROR, registryMirrors: ["https://ok.example.com", "file:///etc/passwd"] }),
      /registryMirrors\[1\] must be an http\(s\) URL/,
    );
  });
});
