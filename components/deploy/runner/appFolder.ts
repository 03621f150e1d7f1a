// The app's folder on the Docker host (<remoteDir>/<app>, mode 700): env file, salt, owner token.
import { randomBytes } from "node:crypto";
import { makePrivateDir, readFile, writePrivateFile } from "../dockerCommands";
import { saltFileOf } from "../spec";
import type { DockerHost } from "./transport";

export async function ensureAppFolder(host: DockerHost, appDir: string): Promise<void> {
  await host.run(makePrivateDir(appDir));
}

/** The host's random salt for release names (created on first use). */
export async function appSalt(host: DockerHost, appDir: string): Promise<string> {
  const file = saltFileOf(appDir);
  const existing = await host.run(readFile(file), { allowFailure: true });
  if (existing.code === 0 && existing.stdout.trim().length >= 32) return existing.stdout.trim();
  const salt = randomBytes(32).toString("hex");
  await host.run(writePrivateFile(file), { stdin: `${salt}\n` });
  return salt;
}
