// The seed blog post's deploy, scripted as a person runs it by hand over SSH: put the source on
// the server (a tar piped into ssh, standing in for the post's git pull), `docker build` there
// with the post's Dockerfile, `docker rm -f` the old container, `docker run -d -p`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { quote } from "shell-quote";
import { REPO_ROOT } from "../../test/support/docker/localEngine";
import type { SshConnection } from "../../test/support/ssh/sshServer";
import { sshRun, SshRunResult } from "./sshRun";

/** The post's Dockerfile, FROM a build argument (the server reaches no registry). */
export const SEED_DOCKERFILE = path.join(REPO_ROOT, "scripts", "bench", "seed.Dockerfile");
/** Where the seed's Dockerfile has the app listen (its EXPOSE; demo.web's default port). */
export const SEED_CONTAINER_PORT = 8000;
// The post's start script (`nohup a & b`) for the example's two processes, in the venv the Dockerfile makes.
const SEED_START_SH = `nohup /proj/.venv/bin/python -m demo.worker > worker.log 2>&1 &
/proj/.venv/bin/python -m demo.web
`;

/** Turns a copy of the example project into the seed's project: its Dockerfile and start.sh at the root. */
export function makeSeedProject(dir: string): void {
  fs.copyFileSync(SEED_DOCKERFILE, path.join(dir, "Dockerfile"));
  fs.writeFileSync(path.join(dir, "start.sh"), SEED_START_SH);
}

export interface SeedDeploy {
  conn: SshConnection;
  /** The project on this machine. */
  sourceDir: string;
  /** Where it goes on the server, relative to the login's home. */
  remoteDir: string;
  baseImage: string;
  image: string;
  version: string;
  container: string;
  hostPort: number;
}

/** Seconds each manual step took. */
export interface SeedTimings {
  copy: number;
  build: number;
  replace: number;
}

export async function seedDeploy(o: SeedDeploy): Promise<SeedTimings> {
  const timed = async (f: () => Promise<void>) => {
    const t0 = performance.now();
    await f();
    return (performance.now() - t0) / 1000;
  };
  const copy = await timed(() => copySource(o));
  const build = await timed(async () => {
    const cmd = `cd ${quote([o.remoteDir])} && DOCKER_BUILDKIT=0 ${quote(["docker", "build", "--build-arg", `BASE_IMAGE=${o.baseImage}`, "-t", `${o.image}:${o.version}`, "."])}`;
    must("docker build", await sshRun(o.conn, cmd, { timeoutMs: 30 * 60_000 }));
  });
  const replace = await timed(async () => {
    const rm = await sshRun(o.conn, quote(["docker", "rm", "-f", o.container]));
    // The very first deploy has no container to remove: the person reads the error and goes on.
    if (rm.code !== 0 && !/No such container/i.test(rm.stderr)) must("docker rm -f", rm);
    must("docker run", await sshRun(o.conn, quote(["docker", "run", "--name", o.container, "-p", `${o.hostPort}:${SEED_CONTAINER_PORT}`, "-d", `${o.image}:${o.version}`])));
  });
  return { copy, build, replace };
}

/** `tar -c` of the project piped into `tar -x` on the server. */
async function copySource(o: SeedDeploy): Promise<void> {
  const tar = spawn("tar", ["-c", "-C", o.sourceDir, "."], { stdio: ["ignore", "pipe", "pipe"] });
  let tarErr = "";
  tar.stderr.on("data", (d: Buffer) => (tarErr += d));
  const tarExit = new Promise<number | null>((resolve) => tar.on("close", resolve));
  // Piped at once: Node discards a child's unread stdout when it exits, and tar is done before SSH connects.
  const archive = tar.stdout.pipe(new PassThrough());
  const r = await sshRun(o.conn, `mkdir -p ${quote([o.remoteDir])} && tar -x -C ${quote([o.remoteDir])}`, { stdin: archive });
  const code = await tarExit;
  if (code !== 0) throw new Error(`tar -c ${o.sourceDir} exited ${code}: ${tarErr.trim()}`);
  must("tar -x on the server", r);
}

function must(what: string, r: SshRunResult): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code} on the server:\n${(r.stderr || r.stdout).trim().split("\n").slice(-30).join("\n")}`);
}
