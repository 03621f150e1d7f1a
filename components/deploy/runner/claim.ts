// Whose app it is. The host step claims the app with a fresh owner token, kept twice: in the app
// folder (in the SSH user's home) and as a volume on the Docker daemon, which every user of the
// daemon shares. A replaced host step's delete (`remove`, run at the end of the up with the OLD
// spec) removes the app only while both still hold its token: a newer host step, under this
// user or another one (the folder moves with the user's home), makes it leave the app alone.
import { randomBytes } from "node:crypto";
import { claimVolumeName, claimVolumes, createClaimVolume, readFile, removeVolumes, writePrivateFile } from "../dockerCommands";
import { ownerFileOf } from "../spec";
import type { DockerHost } from "./transport";

/** Claims the app for a new host step; returns its owner token. */
export async function claimApp(host: DockerHost, app: string, appDir: string): Promise<string> {
  const owner = randomBytes(16).toString("hex");
  await host.run(writePrivateFile(ownerFileOf(appDir)), { stdin: `${owner}\n` });
  const previous = await daemonClaims(host, app);
  if (previous.volumes.length) await host.run(removeVolumes(previous.volumes));
  await host.run(createClaimVolume(app, owner));
  return owner;
}

export interface Claims {
  /** The token in this user's app folder; undefined without one. */
  folder?: string;
  /** The tokens claimed on the daemon; none from a pydeploy before daemon claims (or after `docker volume prune`). */
  daemon: string[];
  /** Their volumes. */
  volumes: string[];
}

export async function readClaims(host: DockerHost, app: string, appDir: string): Promise<Claims> {
  const owner = await host.run(readFile(ownerFileOf(appDir)), { allowFailure: true });
  return { folder: owner.code === 0 ? owner.stdout.trim() : undefined, ...(await daemonClaims(host, app)) };
}

async function daemonClaims(host: DockerHost, app: string): Promise<{ daemon: string[]; volumes: string[] }> {
  const prefix = claimVolumeName(app, "");
  const volumes = (await host.run(claimVolumes(app))).stdout.split("\n").filter((v) => v.startsWith(prefix));
  return { daemon: volumes.map((v) => v.slice(prefix.length)), volumes };
}

/**
 * What `remove` may take, given the token its host step printed (undefined: unknown, as from
 * a step that printed none): everything, only its own folder (another user's host step claimed
 * the app on this daemon since), or nothing (a newer host step claimed this very folder).
 */
export function removalScope(claims: Claims, mine: string | undefined): "everything" | "folder" | "nothing" {
  if (mine === undefined) return "everything";
  if (claims.folder !== undefined && claims.folder !== mine) return "nothing";
  if (claims.daemon.length > 0 && !claims.daemon.includes(mine)) return "folder";
  return "everything";
}
