// The benchmarks' docker CLI: the product's LocalHost (the daemon the docker provider builds on),
// so a benchmark's commands reach the same engine a local deploy does.
import { localHost, type CommandResult, type LocalHost, type RunOptions } from "../../components/deploy/runner/transport";

let host: Promise<LocalHost> | undefined;

/** This machine's engine, resolved once. */
export function localEngine(): Promise<LocalHost> {
  return (host ??= localHost());
}

/** `docker <args>` on this machine's engine; throws with its output on a non-zero exit unless allowFailure. */
export async function docker(args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return (await localEngine()).run(["docker", ...args], opts);
}

/** A legacy-builder build (the tests' builder, whose cache the benchmarks measure). */
export async function legacyBuild(args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return (await localEngine()).run(["env", "DOCKER_BUILDKIT=0", "docker", "build", ...args], opts);
}
