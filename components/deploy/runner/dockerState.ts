// Reads of a Docker host's state, parsed from `docker … inspect` JSON (the Engine API's own
// field names, the same on every version and image store).
import { appContainerIds, appImageIds, inspectContainers, inspectImages } from "../dockerCommands";
import { LABEL_APP } from "../../image/labels";
import { LABEL_ROLE, LABEL_ROLE_VERSION, LABEL_VERSION } from "../containerSpec";
import type { DockerHost } from "./transport";

export interface ContainerInfo {
  id: string;
  name: string;
  app?: string;
  role?: string;
  version?: string;
  /** What its role's settings, image and env hashed to when it was created (roleVersions()). */
  roleVersion?: string;
  /** The image ID the container runs. */
  image: string;
  /** created | running | restarting | paused | exited | dead */
  status: string;
  running: boolean;
  restartCount: number;
  health?: string;
  exitCode: number;
  finishedAt: string;
  /** The networks it is attached to. */
  networks: string[];
  /** Host ports it publishes itself. */
  publishedPorts: number[];
}

export interface ImageInfo {
  id: string;
  tags: string[];
  created: string;
  /** The layer diffIDs: what the image is, whatever store holds it. */
  layers: string[];
  /** repository@sha256:… for each registry it was pulled from or pushed to. */
  repoDigests: string[];
}

interface RawContainer {
  Id: string;
  Name: string;
  Image: string;
  RestartCount: number;
  State: { Status: string; Running: boolean; ExitCode: number; FinishedAt: string; Health?: { Status: string } };
  Config: { Labels: Record<string, string> | null };
  NetworkSettings?: { Networks?: Record<string, unknown> | null };
  HostConfig?: { PortBindings?: Record<string, { HostPort: string }[] | null> | null };
}

interface RawImage {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests?: string[] | null;
  Created: string;
  RootFS: { Layers?: string[] };
}

function toContainer(raw: RawContainer): ContainerInfo {
  const labels = raw.Config.Labels ?? {};
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ""),
    app: labels[LABEL_APP],
    role: labels[LABEL_ROLE],
    version: labels[LABEL_VERSION],
    roleVersion: labels[LABEL_ROLE_VERSION],
    image: raw.Image,
    status: raw.State.Status,
    running: raw.State.Running,
    restartCount: raw.RestartCount,
    health: raw.State.Health?.Status,
    exitCode: raw.State.ExitCode,
    finishedAt: raw.State.FinishedAt,
    networks: Object.keys(raw.NetworkSettings?.Networks ?? {}),
    publishedPorts: Object.values(raw.HostConfig?.PortBindings ?? {}).flatMap((b) => (b ?? []).map((x) => Number(x.HostPort)).filter((n) => n > 0)),
  };
}

function toImage(raw: RawImage): ImageInfo {
  return { id: raw.Id, tags: raw.RepoTags ?? [], created: raw.Created, layers: raw.RootFS.Layers ?? [], repoDigests: raw.RepoDigests ?? [] };
}

/** One container by name or ID; undefined when there is none. */
export async function inspectContainer(host: DockerHost, name: string): Promise<ContainerInfo | undefined> {
  const raw = await inspectOne<RawContainer>(host, inspectContainers([name]), "container", name);
  return raw && toContainer(raw);
}

/** Every container of the app, running or not. */
export async function appContainers(host: DockerHost, app: string): Promise<ContainerInfo[]> {
  const ids = (await host.run(appContainerIds(app))).stdout.split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  return (JSON.parse((await host.run(inspectContainers(ids))).stdout) as RawContainer[]).map(toContainer);
}

/** One image by reference; undefined when there is none. */
export async function inspectImage(host: DockerHost, ref: string): Promise<ImageInfo | undefined> {
  const raw = await inspectOne<RawImage>(host, inspectImages([ref]), "image", ref);
  return raw && toImage(raw);
}

/** `docker <kind> inspect` of one object: undefined when Docker says there is no such object. */
async function inspectOne<Raw>(host: DockerHost, argv: string[], kind: "container" | "image", name: string): Promise<Raw | undefined> {
  const r = await host.run(argv, { allowFailure: true });
  if (r.code !== 0) {
    if (new RegExp(`no such (${kind}|object)`, "i").test(r.stderr)) return undefined;
    throw new Error(`on ${host.description}: docker ${kind} inspect ${name} failed: ${r.stderr.trim()}`);
  }
  return (JSON.parse(r.stdout) as Raw[])[0];
}

/** Every image labelled as the app's, newest first. */
export async function appImages(host: DockerHost, app: string): Promise<ImageInfo[]> {
  const ids = [...new Set((await host.run(appImageIds(app))).stdout.split("\n").filter(Boolean))];
  if (ids.length === 0) return [];
  const images = (JSON.parse((await host.run(inspectImages(ids))).stdout) as RawImage[]).map(toImage);
  return images.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
}
