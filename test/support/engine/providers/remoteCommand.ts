// command:remote:Command, as pulumi-command v1.2.1 runs it (provider/pkg/provider/remote/
// commandController.go, commandOutputs.go, command.go):
// - Check: connection defaults (user root, port 22, dialErrorLimit 10, perDialTimeout 15) and
//   the whole connection secret (field tag provider:"secret");
// - each run dials (ssh.ts), Setenv's `environment` (a refusal fails the run before the
//   command) and, unless addPreviousOutputInEnv is false, PULUMI_COMMAND_STDOUT/STDERR of the
//   previous outputs when non-empty (a refusal only warns), sends `stdin` when non-empty, runs;
// - update runs `update`, else `create`, else nothing; a failed run keeps the old outputs;
// - delete runs the stored `delete` with the stored connection and stdin whenever it is set,
//   "" included (Delete checks props.Delete == nil);
// - customTimeouts bound the dial loop only: session.Run does not watch the context, so a
//   command that already runs is not stopped.
import { PropertyMap, revealMap, secret } from "../properties";
import type { ResourceState } from "../state";
import { inferredDiff, optionalString, previewOutputs, runError, trimOneNewline, uniqueHexId } from "./commandCommon";
import { connectionOf, dial, runSession, SetenvRequest } from "./ssh";
import type { OperationContext, ProviderModel } from "./types";

const COMPUTED_OUTPUTS = ["stdout", "stderr"];

interface Outputs {
  stdout: string;
  stderr: string;
}

async function runRemote(ctx: OperationContext, command: string, state: PropertyMap, previous: Outputs): Promise<Outputs> {
  const inputs = revealMap(state);
  const connection = connectionOf(inputs.connection, ctx.urn);
  const client = await dial(connection, ctx);
  try {
    const setenv: SetenvRequest[] = Object.entries((inputs.environment ?? {}) as Record<string, string>).map(([name, value]) => ({ name, value, hard: true }));
    if (inputs.addPreviousOutputInEnv !== false) {
      if (previous.stdout !== "") setenv.push({ name: "PULUMI_COMMAND_STDOUT", value: previous.stdout, hard: false });
      if (previous.stderr !== "") setenv.push({ name: "PULUMI_COMMAND_STDERR", value: previous.stderr, hard: false });
    }
    const result = await runSession(client, command, setenv, optionalString(inputs.stdin), ctx.warn);
    if (result.failure) throw runError(result.failure, command, result.combined);
    return { stdout: trimOneNewline(result.stdout), stderr: trimOneNewline(result.stderr) };
  } finally {
    client.end();
  }
}

/** The connection with the provider's defaults, secret. */
export function checkConnection(news: PropertyMap, urn: string): PropertyMap {
  const raw = revealMap({ connection: news.connection ?? null }).connection;
  if (raw === null || typeof raw !== "object") return news; // unknown in preview: nothing to default
  const c = connectionOf(raw, urn);
  const withDefaults = { ...raw, user: c.user, port: c.port, dialErrorLimit: c.dialErrorLimit, perDialTimeout: c.perDialTimeout };
  return { ...news, connection: secret(withDefaults) };
}

function previousOf(state: PropertyMap): Outputs {
  return { stdout: optionalString(state.stdout) ?? "", stderr: optionalString(state.stderr) ?? "" };
}

export const remoteCommand: ProviderModel = {
  async check(ctx, news) {
    return { inputs: checkConnection(news, ctx.urn), failures: [] };
  },

  async diff(_ctx, old, news) {
    return inferredDiff(old, news, ["triggers"]);
  },

  async create(ctx, inputs) {
    const id = uniqueHexId(ctx.name);
    if (ctx.preview) return { id, outputs: previewOutputs(inputs, COMPUTED_OUTPUTS), ran: false };
    const create = optionalString(revealMap(inputs).create);
    if (create === undefined) return { id, outputs: { ...inputs, stdout: "", stderr: "" }, ran: false };
    const out = await runRemote(ctx, create, inputs, { stdout: "", stderr: "" });
    return { id, outputs: { ...inputs, ...out }, ran: true, ...out };
  },

  async update(ctx, old: ResourceState, news) {
    if (ctx.preview) return { outputs: previewOutputs(news, COMPUTED_OUTPUTS), ran: false };
    const previous = previousOf(old.outputs);
    const plain = revealMap(news);
    const command = optionalString(plain.update) ?? optionalString(plain.create);
    if (command === undefined) return { outputs: { ...news, ...previous }, ran: false };
    // The state carries the old outputs until the run succeeds (CommandOutputs.run sets them last).
    const out = await runRemote(ctx, command, { ...news, ...previous }, previous);
    return { outputs: { ...news, ...out }, ran: true, ...out };
  },

  async delete(ctx, old) {
    const command = optionalString(revealMap(old.outputs).delete);
    if (command === undefined) return { ran: false };
    const out = await runRemote(ctx, command, old.outputs, previousOf(old.outputs));
    return { ran: true, ...out };
  },
};
