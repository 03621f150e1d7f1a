// The `host` section (target `existing`): the server you already have, its pinned SSH host key,
// and the rules that tie it to the target, the environment and `sshPrivateKey`.
import { z } from "zod";
import type { Problem } from "./errors";
import { port, unixUser } from "./fields";
import { HostKeyError, parseHostKeyLine } from "./hostKey";

export const hostSchema = z.strictObject({
  address: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: "expected a host name or IP address" }),
  port: port.default(22),
  user: unixUser.default("root"),
  // The server's public host key, as `ssh-keyscan -t ed25519 <host>` prints it; kept as "type base64".
  hostKey: z
    .string({ error: "expected a host key line such as \"ssh-ed25519 AAAAC3Nza…\"" })
    .transform((line, ctx) => {
      try {
        return parseHostKeyLine(line).line;
      } catch (err) {
        if (!(err instanceof HostKeyError)) throw err;
        ctx.addIssue({ code: "custom", message: `expected a host key line such as "ssh-ed25519 AAAAC3Nza…" (ssh-keyscan -t ed25519 <host> prints it): ${err.message}` });
        return z.NEVER;
      }
    })
    .optional(),
});

export type ExistingHostConfig = z.output<typeof hostSchema>;

/** `host` belongs to target existing. */
export function checkHostTarget(target: string, host: ExistingHostConfig | undefined, problem: Problem): void {
  if (host !== undefined && target !== "existing") problem("host", `is only used with target existing, but target is ${target}`);
}

/** Target existing needs the host and a key to log in; production needs the host key pinned. */
export function checkExistingHost(
  project: string,
  o: { host?: ExistingHostConfig; sshPrivateKey?: string; environment: "development" | "production" },
  problem: Problem,
  warnings: string[],
): void {
  if (!o.host) problem("host", "is required with target existing: {address, port, user} of your server");
  if (!o.sshPrivateKey) problem("sshPrivateKey", "is required with target existing (pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519)");
  if (o.host && !o.host.hostKey) {
    const how = `get it with \`ssh-keyscan -t ed25519 ${o.host.address}\`, check it against the server's own /etc/ssh/ssh_host_ed25519_key.pub (e.g. from its console), then \`pulumi config set --path ${project}:host.hostKey 'ssh-ed25519 AAAA…'\``;
    if (o.environment === "production") problem("host.hostKey", `is required in production, so the deploy talks only to your server: ${how}`);
    else warnings.push(`${project}:host.hostKey is not set: the deploy accepts any SSH host key from ${o.host.address}, so it cannot notice a man in the middle. To pin it, ${how}.`);
  }
}
