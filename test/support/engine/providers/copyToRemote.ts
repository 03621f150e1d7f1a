// command:remote:CopyToRemote, as pulumi-command v1.2.1 does it (provider/pkg/provider/remote/
// copyController.go, copy.go):
// - Check fails unless `source` is exactly one of an asset or an archive: an unknown source
//   (preview of a source computed from an unknown output) fails with "either asset or archive
//   must be set" (issue pulumi-command#754, fixed by #1184 after 1.2.1);
// - assets must be path or text assets, archives path archives;
// - create uploads over SFTP: a relative remotePath is relative to the login directory (the
//   SFTP server's), missing parent directories are created; a directory source without a
//   trailing "/" lands inside remotePath/<basename>;
// - update copies only when the source hash or remotePath changed; there is no delete.
import * as fs from "node:fs";
import * as path from "node:path";
import type { SFTPWrapper } from "ssh2";
import { isArchive, isAsset, isUnknown, PropertyMap, revealMap, Wire } from "../properties";
import type { ResourceState } from "../state";
import { inferredDiff, uniqueHexId } from "./commandCommon";
import { checkConnection } from "./remoteCommand";
import { connectionOf, dial, openSftp } from "./ssh";
import type { CheckFailure, OperationContext, ProviderModel } from "./types";

function sourceFailures(source: Wire | undefined): CheckFailure[] {
  const asset = isAsset(source);
  const archive = isArchive(source);
  if (!asset && !archive) return [{ property: "asset", reason: "either asset or archive must be set" }];
  if (asset && typeof source.path !== "string" && typeof source.text !== "string") {
    return [{ property: "asset", reason: "asset must be a path-based file asset or a text asset" }];
  }
  if (archive && typeof source.path !== "string") return [{ property: "archive", reason: "archive must be a path to a file or directory" }];
  return [];
}

const stat = (sftp: SFTPWrapper, p: string) =>
  new Promise<{ isDirectory(): boolean } | undefined>((resolve, reject) =>
    sftp.stat(p, (err, s) => (err ? ((err as any).code === 2 ? resolve(undefined) : reject(err)) : resolve(s))),
  );
const mkdir = (sftp: SFTPWrapper, p: string) => new Promise<void>((resolve, reject) => sftp.mkdir(p, (err) => (err ? reject(err) : resolve())));

/** sftp.MkdirAll: each missing component, relative paths from the login directory. */
async function mkdirAll(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split("/").filter((x) => x && x !== ".");
  let at = dir.startsWith("/") ? "" : ".";
  for (const part of parts) {
    at = at === "" ? `/${part}` : `${at}/${part}`;
    const s = await stat(sftp, at);
    if (!s) await mkdir(sftp, at);
    else if (!s.isDirectory()) throw new Error(`failed to create parent directories for ${dir}: ${at} is not a directory`);
  }
}

const writeFile = (sftp: SFTPWrapper, dest: string, data: Buffer) =>
  new Promise<void>((resolve, reject) =>
    sftp.writeFile(dest, data, (err) => (err ? reject(new Error(`failed to create remote file ${dest}: ${err.message}`)) : resolve())),
  );

async function copyDir(sftp: SFTPWrapper, src: string, dest: string): Promise<void> {
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.posix.join(dest, e.name);
    if (e.isDirectory()) {
      const s = await stat(sftp, to);
      if (!s) await mkdir(sftp, to);
      else if (!s.isDirectory()) throw new Error(`remote path ${to} exists but is not a directory`);
      await copyDir(sftp, from, to);
    } else {
      await writeFile(sftp, to, fs.readFileSync(from));
    }
  }
}

async function copy(ctx: OperationContext, inputs: PropertyMap): Promise<void> {
  const plain = revealMap(inputs);
  const source = inputs.source as { [k: string]: Wire };
  const remotePath: string = plain.remotePath;
  const client = await dial(connectionOf(plain.connection, ctx.urn), ctx);
  try {
    const sftp = await openSftp(client);
    const existing = await stat(sftp, remotePath);
    if (isAsset(source) && typeof source.text === "string") {
      if (existing?.isDirectory()) throw new Error(`remote path ${remotePath} is a directory; when using a text asset, remotePath must be a file path`);
      await mkdirAll(sftp, path.posix.dirname(remotePath));
      await writeFile(sftp, remotePath, Buffer.from(source.text));
      return;
    }
    const sourcePath = path.resolve(ctx.projectDir, String(source.path));
    if (fs.statSync(sourcePath).isDirectory()) {
      if (!existing) await mkdirAll(sftp, remotePath);
      else if (!existing.isDirectory()) throw new Error(`remote path ${remotePath} exists but is not a directory`);
      let dest = remotePath;
      if (!String(source.path).endsWith("/")) {
        dest = path.posix.join(remotePath, path.basename(sourcePath));
        const s = await stat(sftp, dest);
        if (s && !s.isDirectory()) throw new Error(`remote path ${dest} exists but is not a directory`);
        if (!s) await mkdir(sftp, dest);
      }
      await copyDir(sftp, sourcePath, dest);
      return;
    }
    let dest = remotePath;
    if (existing?.isDirectory()) dest = path.posix.join(remotePath, path.basename(sourcePath));
    else if (!existing) await mkdirAll(sftp, path.posix.dirname(remotePath));
    await writeFile(sftp, dest, fs.readFileSync(sourcePath));
  } finally {
    client.end();
  }
}

function sourceHash(m: PropertyMap): unknown {
  const s = m.source;
  return s && typeof s === "object" && !Array.isArray(s) ? (s as Record<string, Wire>).hash : undefined;
}

export const copyToRemote: ProviderModel = {
  async check(ctx, news) {
    const failures = isUnknown(news.source) ? sourceFailures(undefined) : sourceFailures(news.source);
    return { inputs: checkConnection(news, ctx.urn), failures };
  },

  async diff(_ctx, old, news) {
    return inferredDiff(old, news, ["triggers"]);
  },

  async create(ctx, inputs) {
    if (ctx.preview) return { id: "", outputs: inputs, ran: false };
    await copy(ctx, inputs);
    return { id: uniqueHexId(""), outputs: inputs, ran: true };
  },

  async update(ctx, old: ResourceState, news) {
    if (ctx.preview) return { outputs: news, ran: false };
    const needCopy = sourceHash(news) !== sourceHash(old.outputs) || revealMap(news).remotePath !== revealMap(old.outputs).remotePath;
    if (needCopy) await copy(ctx, news);
    return { outputs: news, ran: needCopy };
  },

  async delete() {
    return { ran: false };
  },
};
