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
import { inferredDiff, optionalString, runError, trimOneNewline, CommandOutput, createCommand, deleteCommand, updateCommand } from "./commandCommon";
import { connectionOf, dial, runSession, SetenvRequest } from "./ssh";
import type { OperationContext, ProviderModel } from "./types";



async function runRemote(ctx: OperationContext, command: string, state: PropertyMap, previous: CommandOutput): Promise<CommandOutput> {
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


export const remoteCommand: ProviderModel = {
  async check(ctx, news) {
    return { inputs: checkConnection(news, ctx.urn), failures: [] };
  },

  async diff(_ctx, old, news) {
    return inferredDiff(old, news, ["triggers"]);
  },

  create: (ctx, inputs) => createCommand(ctx, inputs, runRemote),

  // The state carries the old outputs until the run succeeds (CommandOutputs.run sets them last).
  update: (ctx, old, news) => updateCommand(ctx, old, news, runRemote, (news, previous) => ({ ...news, ...previous })),

  delete: (ctx, old) => deleteCommand(ctx, old, runRemote),
};
