// Runs the proxy's docker steps (proxy/steps.ts: argv, skip condition, retries, stdin) on a host:
// the one executor, used by the deployer, the tests and the benchmarks (with LocalHost).
import type { DockerStep, ProxyStdin } from "../proxy/steps";
import type { Retirement } from "../proxy/switch";
import { HostCommandError, type DockerHost } from "./transport";

export async function runDockerSteps(
  host: DockerHost,
  steps: DockerStep[],
  o: { stdin?: Partial<Record<ProxyStdin, string>>; log: (line: string) => void },
): Promise<void> {
  for (const step of steps) await runDockerStep(host, step, o);
}

export async function runDockerStep(host: DockerHost, step: DockerStep, o: { stdin?: Partial<Record<ProxyStdin, string>>; log: (line: string) => void }): Promise<void> {
  if (step.skipIf) {
    const probe = await host.run(step.skipIf.argv, { allowFailure: true });
    if (probe.code === 0 && (step.skipIf.stdout === undefined || probe.stdout.trim() === step.skipIf.stdout)) return;
  }
  const stdin = step.stdin === undefined ? undefined : o.stdin?.[step.stdin];
  if (step.stdin !== undefined && stdin === undefined) throw new Error(`${step.purpose}: no ${step.stdin} was given`);
  const deadline = Date.now() + (step.retrySeconds ?? 0) * 1000;
  for (;;) {
    const r = await host.run(step.argv, { stdin, allowFailure: true });
    if (r.code === 0) {
      o.log(step.purpose);
      return;
    }
    if (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (step.allowFailure) return;
    throw new Error(`this step failed: ${step.purpose}: ${new HostCommandError(host.description, step.argv, r).message}`);
  }
}

/** A previous container's retirement (proxy/switch.ts): drain, then `then`; if either fails, `ifDrainFails`. Says which ran. */
export async function retireContainer(host: DockerHost, r: Retirement, o: { log: (line: string) => void }): Promise<"drained" | "fallback"> {
  try {
    await runDockerStep(host, r.drain, o);
    await runDockerSteps(host, r.then, o);
    return "drained";
  } catch {
    await runDockerSteps(host, r.ifDrainFails, o);
    return "fallback";
  }
}
