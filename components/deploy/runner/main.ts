// The deployer: what each pydeploy step's local.Command runs on the deployer's machine.
// Usage: node components/deploy/runner/launch.cjs <host|ship|services|release|remove|remove-services>
//   (or node --import tsx components/deploy/runner/main.ts <step>: stacks deployed before launch.cjs
//   stored that delete command, so this file stays runnable directly)
//   PYDEPLOY_SPEC  the step's spec (JSON, no secrets; see ../spec.ts)
//   stdin          the step's secrets (JSON: privateKey, env, registryPassword, services)
// Prints progress as "pydeploy: …" lines, each at most 4 KiB, and, last, "pydeploy-result: {…}"
// for the component (a long result in several lines: spec.ts resultLines).
import { boundLines } from "../outputLines";
import {
  HostResult,
  hostResultSchema,
  hostSpecSchema,
  parseRemoveSpec,
  parseResult,
  parseSpec,
  releaseSpecSchema,
  resultLines,
  secretsSchema,
  servicesSpecSchema,
  shipSpecSchema,
  SPEC_ENV,
  StepName,
  STEPS,
  StepSecrets,
  Target,
} from "../spec";
import { setUpHost } from "./hostSetup";
import { releaseInRoll } from "./roll";
import { removeApp } from "./remove";
import { removeServices, runServices } from "./services";
import { shipImages } from "./ship";
import { connectSsh, UnreachableError } from "./sshHost";
import { DockerHost, localHost, onHost } from "./transport";

/** `pulumi destroy` gives up on a host that does not answer for this long. */
const REMOVE_CONNECT_SECONDS = 30;

// Every printed line is bounded: pulumi-command hangs on a line of 64 KiB (outputLines.ts).
const print = (stream: NodeJS.WriteStream, text: string) => stream.write(`${boundLines(text)}\n`);
const log = (line: string) => print(process.stdout, `pydeploy: ${line}`);

async function connect(target: Target, secrets: StepSecrets, timeoutSeconds: number): Promise<DockerHost> {
  if (target.kind === "local") return localHost();
  if (!secrets.privateKey) throw new Error(`no SSH private key was given on stdin for ${target.user}@${target.host}`);
  return connectSsh({ ...target, privateKey: secrets.privateKey }, { timeoutSeconds, log });
}


async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

async function run(step: StepName, specJson: string | undefined, stdin: string): Promise<object | undefined> {
  const parsed = secretsSchema.safeParse(stdin.trim() ? JSON.parse(stdin) : {});
  if (!parsed.success) throw new Error(`pydeploy ${step}: stdin is not the step's secrets JSON`);
  const secrets = parsed.data;
  switch (step) {
    case "host": {
      const spec = parseSpec(step, hostSpecSchema, specJson);
      return onHost(await connect(spec.target, secrets, spec.connectTimeoutSeconds), (host) => setUpHost(host, spec, log));
    }
    case "ship": {
      const spec = parseSpec(step, shipSpecSchema, specJson);
      return onHost(await connect(spec.target, secrets, spec.connectTimeoutSeconds), async (host) => shipImages(host, await localHost(), spec, secrets, log));
    }
    case "services": {
      const spec = parseSpec(step, servicesSpecSchema, specJson);
      return onHost(await connect(spec.target, secrets, spec.connectTimeoutSeconds), async (host) =>
        runServices(host, spec, secrets.services ?? {}, { log, deployer: spec.target.kind === "ssh" ? await localHost() : undefined }),
      );
    }
    case "remove-services": {
      // The services step's delete, with the spec it stored.
      const spec = parseSpec(step, servicesSpecSchema, specJson);
      return onHost(await connect(spec.target, secrets, Math.min(REMOVE_CONNECT_SECONDS, spec.connectTimeoutSeconds)), async (host) => {
        await removeServices(host, spec, log);
        return undefined;
      });
    }
    case "release": {
      const spec = parseSpec(step, releaseSpecSchema, specJson);
      return releaseInRoll(spec, secrets, { connect: (target) => connect(target, secrets, spec.connectTimeoutSeconds), log });
    }
    case "remove": {
      // The delete runs with the spec the host step stored, maybe by an earlier pydeploy.
      const spec = parseRemoveSpec(specJson);
      let claimed: HostResult | undefined;
      try {
        claimed = parseResult("host", hostResultSchema, process.env.PULUMI_COMMAND_STDOUT ?? "");
      } catch {
        claimed = undefined;
      }
      let host: DockerHost;
      try {
        host = await connect(spec.target, secrets, Math.min(REMOVE_CONNECT_SECONDS, spec.connectTimeoutSeconds));
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        log(`warning: ${err.message}; nothing was removed there. If the server still exists, remove the app by hand: docker rm -f $(docker ps -aq --filter label=pydeploy.app=${spec.app}); rm -rf ${spec.appDir}`);
        return undefined;
      }
      return onHost(host, async (connected) => {
        await removeApp(connected, spec, claimed, log);
        return undefined;
      });
    }
  }
}

async function main(): Promise<void> {
  const step = process.argv[2] as StepName;
  if (!STEPS.includes(step)) {
    print(process.stderr, `usage: node components/deploy/runner/launch.cjs <${STEPS.join("|")}>  (spec in $${SPEC_ENV}, secrets on stdin)`);
    process.exit(2);
  }
  try {
    // When it ran: the release's log is shown again after the run (deployment.ts), maybe on a later `up`.
    log(`${step} step started ${new Date().toISOString()}`);
    const started = Date.now();
    const result = await run(step, process.env[SPEC_ENV], await readStdin());
    log(`${step} step done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Already short enough: split, not cut, so the component can read it back.
    if (result) process.stdout.write(`${resultLines(result).join("\n")}\n`);
  } catch (err) {
    print(process.stderr, `pydeploy: error: ${(err as Error).message}`);
    process.exit(1);
  }
}

void main();
