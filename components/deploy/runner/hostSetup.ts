// The host step: the server answers SSH, has finished booting, runs Docker usable by the SSH
// user (installed from the mirror when missing, registry mirrors applied), and has the app's
// folder. It claims the app with a fresh owner token (claim.ts): only its own delete removes the app.
import * as fs from "node:fs";
import * as path from "node:path";
import { installDockerArgs, installDockerScript } from "../../server/dockerInstall";
import { dockerVersion } from "../dockerCommands";
import type { HostResult, HostSpec } from "../spec";
import { appSalt, ensureAppFolder } from "./appFolder";
import { claimApp } from "./claim";
import type { DockerHost } from "./transport";

const WAIT_SCRIPT = path.join(__dirname, "..", "host", "wait-cloud-init.sh");
const DOCKER_WAIT_SECONDS = 60;

export async function setUpHost(host: DockerHost, spec: HostSpec, log: (line: string) => void): Promise<HostResult> {
  if (spec.target.kind === "ssh") {
    echo(log, await host.run(["bash", "-s"], { stdin: fs.readFileSync(WAIT_SCRIPT, "utf8") }));
    if (spec.dockerInstall) echo(log, await host.run(["bash", "-s", "--", ...installDockerArgs(spec.dockerInstall)], { stdin: installDockerScript() }));
  }
  log(`Docker ${await usableDocker(host)} is usable on ${host.description}`);
  await ensureAppFolder(host, spec.appDir);
  await appSalt(host, spec.appDir);
  const owner = await claimApp(host, spec.app, spec.appDir);
  log(`app folder ${spec.appDir} ready`);
  return { owner };
}

/** The server's Docker version, waiting for a daemon that is still starting; clear errors otherwise. */
export async function usableDocker(host: DockerHost): Promise<string> {
  const deadline = Date.now() + DOCKER_WAIT_SECONDS * 1000;
  for (;;) {
    const r = await host.run(dockerVersion(), { allowFailure: true });
    if (r.code === 0) return r.stdout.trim();
    const answer = (r.stderr || r.stdout).trim();
    if (r.code === 127 || /not found/.test(answer)) throw new Error(`docker is not installed on ${host.description} (${answer})`);
    if (/permission denied/i.test(answer)) {
      throw new Error(`the user on ${host.description} cannot use Docker: add it to the docker group or connect as root (${answer})`);
    }
    if (Date.now() >= deadline) throw new Error(`the Docker daemon on ${host.description} did not answer within ${DOCKER_WAIT_SECONDS}s: ${answer}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function echo(log: (line: string) => void, r: { stdout: string; stderr: string }): void {
  for (const line of `${r.stdout}${r.stderr}`.split("\n")) if (line.trim()) log(line.replace(/^pydeploy: /, ""));
}
