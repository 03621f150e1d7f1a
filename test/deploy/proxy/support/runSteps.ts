// Runs the proxy's docker steps on the local engine exactly as listed, the way the deployer
// runs them on a server.
import type { DockerStep, ProxyStdin } from "../../../../components/deploy/proxy/steps";
import type { Retirement } from "../../../../components/deploy/proxy/switch";
import { run } from "../../../support/docker/localEngine";

export type StepInputs = Partial<Record<ProxyStdin, string>>;

/** Runs each step; throws (naming the step) on the first failure that is not allowed. */
export async function runSteps(steps: DockerStep[], inputs: StepInputs = {}): Promise<void> {
  for (const step of steps) await runStep(step, inputs);
}

/** A previous container's retirement: drain, then `then`; or `ifDrainFails` when the drain failed. Returns which path ran. */
export async function retire(r: Retirement): Promise<"drained" | "fallback"> {
  try {
    await runStep(r.drain);
  } catch {
    await runSteps(r.ifDrainFails);
    return "fallback";
  }
  await runSteps(r.then);
  return "drained";
}

export async function runStep(step: DockerStep, inputs: StepInputs = {}): Promise<{ skipped: boolean }> {
  if (step.skipIf) {
    const probe = await run(step.skipIf.argv[0], step.skipIf.argv.slice(1), { allowFailure: true });
    if (probe.code === 0 && (step.skipIf.stdout === undefined || probe.stdout.trim() === step.skipIf.stdout)) {
      return { skipped: true };
    }
  }
  let input: string | undefined;
  if (step.stdin) {
    input = inputs[step.stdin];
    if (input === undefined) throw new Error(`step "${step.purpose}" reads ${step.stdin} on stdin, but none was given`);
  }
  const deadline = Date.now() + (step.retrySeconds ?? 0) * 1000;
  for (;;) {
    const res = await run(step.argv[0], step.argv.slice(1), { allowFailure: true, input, timeoutMs: 120_000 });
    if (res.code === 0 || step.allowFailure) return { skipped: false };
    if (Date.now() >= deadline) {
      throw new Error(`step "${step.purpose}" failed: ${step.argv.join(" ")} exited ${res.code}\n${res.stdout}${res.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
