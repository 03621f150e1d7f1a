// The `host` section (target `existing`): the server you already have, its pinned SSH host key,
// and the rules that tie it to the target, the environment and `sshPrivateKey`.
import { z } from "zod";
import { singleQuote } from "../shell";
import type { Problem } from "./errors";
import { ipAddress, MAX_SERVERS, port, unixUser } from "./fields";
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
  // Where the other hosts reach this one on your private network: with several hosts, the first
  // one's services (PostgreSQL, Redis) publish their ports on this address only.
  privateIp: ipAddress("expected the server's private IP address, such as 10.0.0.5").optional(),
});

// Several servers, each with its own host key; released in this order.
export const hostsSchema = z.array(hostSchema).min(1, { error: "expected at least one host" }).max(MAX_SERVERS, { error: `expected at most ${MAX_SERVERS} hosts` });

export type ExistingHostConfig = z.output<typeof hostSchema>;

/** `host` and `hosts` belong to target existing. */
export function checkHostTarget(target: string, o: { host?: ExistingHostConfig; hosts?: ExistingHostConfig[] }, problem: Problem): void {
  if (o.host !== undefined && target !== "existing") problem("host", `is only used with target existing, but target is ${target}`);
  if (o.hosts !== undefined && target !== "existing") problem("hosts", `is only used with target existing, but target is ${target}`);
}

/** The servers of target existing: `host` for one, or `hosts`; each once. */
export function existingHostsOf(o: { host?: ExistingHostConfig; hosts?: ExistingHostConfig[] }, problem: Problem): ExistingHostConfig[] {
  if (o.host && o.hosts) {
    problem("hosts", "is set together with host: list one server under host, or several under hosts (host's server included)");
    return [];
  }
  if (o.host) return [o.host];
  const hosts = o.hosts ?? [];
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    // Host names are case-insensitive; the same server on another SSH port is still the same Docker engine.
    const key = h.address.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else problem(`hosts[${i}]`, `${h.address} is listed twice (hosts[${first}] and hosts[${i}]): each server is deployed to once, so list it once`);
  });
  return hosts;
}

/** Target existing needs its servers and a key to log in; production needs each host key pinned. */
export function checkExistingHost(
  project: string,
  o: { hosts: ExistingHostConfig[]; listed: "host" | "hosts"; sshPrivateKey?: string; environment: "development" | "production" },
  problem: Problem,
  warnings: string[],
): void {
  if (o.hosts.length === 0) problem("host", "is required with target existing: {address, port, user} of your server (or hosts: a list of them)");
  if (!o.sshPrivateKey) problem("sshPrivateKey", "is required with target existing (pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519)");
  o.hosts.forEach((h, i) => {
    if (h.hostKey) return;
    const key = o.listed === "host" ? "host.hostKey" : `hosts[${i}].hostKey`;
    const how = `get it with \`ssh-keyscan -t ed25519 ${h.address}\`, check it against the server's own /etc/ssh/ssh_host_ed25519_key.pub (e.g. from its console), then \`pulumi config set --path ${shellWord(`${project}:${key}`)} 'ssh-ed25519 AAAA…'\``;
    if (o.environment === "production") problem(key, `is required in production, so the deploy talks only to your server: ${how}`);
    else warnings.push(`${project}:${key} is not set: the deploy accepts any SSH host key from ${h.address}, so it cannot notice a man in the middle. To pin it, ${how}.`);
  });
}

// hosts[0] would be a glob to the shell; a plain key reads better bare.
const shellWord = (word: string) => (/^[A-Za-z0-9_.:-]+$/.test(word) ? word : singleQuote(word));
