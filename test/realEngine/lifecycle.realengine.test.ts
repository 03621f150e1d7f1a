// index.ts under the real pulumi CLI (preview, up, refresh, destroy, stack output), on the
// `local` target (this machine's engine) and the `existing` target (a Docker-in-Docker server
// over SSH, of each image store). The scenarios are in test/support/realEngine/scenarios.ts.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe } from "node:test";
import { ImageStore, serverExec, startTestServer, stopTestServer, TestServer } from "../support/ssh/sshServer";
import { pasteLocally, realEngineScenarios, TargetUnderTest, userHome } from "../support/realEngine/scenarios";

const localTarget = (): TargetUnderTest => ({
  stack: "local",
  buildsOnHost: true,
  async start() {},
  async stop() {},
  config: () => ({ "pydeploy:target": "local" }),
  secrets: () => ({}),
  url: (port, p) => `http://127.0.0.1:${port}${p}`,
  onHost: async (script) => execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim(),
  paste: (line, o) => pasteLocally(line, userHome({ ...o, privateKey: "" })),
});

/** An `ssh` first on PATH that reads known_hosts from $HOME (OpenSSH reads the passwd home). */
function sshShim(home: string): string {
  const bin = path.join(home, "bin");
  fs.mkdirSync(bin);
  const real = execFileSync("sh", ["-c", "command -v ssh"], { encoding: "utf8" }).trim();
  fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\nexec ${real} -o UserKnownHostsFile="$HOME/.ssh/known_hosts" -o BatchMode=yes "$@"\n`, { mode: 0o755 });
  return bin;
}

const existingTarget = (store: ImageStore): TargetUnderTest => {
  let server: TestServer;
  let old: TestServer | undefined;
  const hostConfig = (s: TestServer) => ({ "pydeploy:host": { address: s.host, port: 22, user: "root", hostKey: s.hostKey } });
  const shellOn = (s: TestServer) => async (script: string) => (await serverExec(s, ["sh", "-c", `cd /root && ${script}`], { allowFailure: true })).stdout.trim();
  return {
    stack: `box-${store}`,
    buildsOnHost: false,
    async start() {
      server = await startTestServer({ store });
    },
    async stop() {
      if (server) await stopTestServer(server);
      if (old) await stopTestServer(old);
    },
    config: () => ({ "pydeploy:target": "existing", ...hostConfig(server) }),
    secrets: () => ({ "pydeploy:sshPrivateKey": server.privateKey }),
    url: (port, p) => `http://${server.host}:${port}${p}`,
    onHost: (script) => shellOn(server)(script),
    async moveToNewHost() {
      const next = await startTestServer({ store });
      // The same key pair logs in to both servers, as one deploy key would.
      await serverExec(next, ["sh", "-c", 'printf "%s\\n" "$1" > /root/.ssh/authorized_keys', "sh", server.publicKey]);
      next.privateKey = server.privateKey;
      next.publicKey = server.publicKey;
      old = server;
      server = next;
      return { config: hostConfig(next), old: shellOn(old) };
    },
    async paste(line, o) {
      const home = userHome({ ...o, privateKey: server.privateKey, knownHosts: `${server.host} ${server.hostKey}\n` });
      const shimmed = `PATH=${sshShim(home)}:$PATH; ${line}`;
      return pasteLocally(shimmed, home);
    },
  };
};

describe("real engine: target local", { timeout: 30 * 60_000 }, () => {
  realEngineScenarios(localTarget());
});

for (const store of ["classic", "containerd"] as const) {
  describe(`real engine: target existing (${store} image store)`, { timeout: 40 * 60_000 }, () => {
    realEngineScenarios(existingTarget(store));
  });
}
