// A snapshot before migrating: pg_dump of the app's PostgreSQL service into a dated file on the
// host, before the release command runs; the newest `keep` stay. No peer does this by default.
import { makePrivateDir, removePath } from "../dockerCommands";
import { dumpDatabase, listDir, restoreCommand } from "../services/serviceCommands";
import type { SnapshotSettings } from "../services/serviceSpec";
import type { DockerHost } from "./transport";

/** <service>-<UTC time>.dump: names sort by time. */
export function snapshotFileName(service: string, at: Date): string {
  return `${service}-${at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}.dump`;
}

/** Dumps the database; returns the file. A failed dump fails the release before anything changed. */
export async function takeSnapshot(host: DockerHost, s: SnapshotSettings, log: (line: string) => void, now = new Date()): Promise<string> {
  await host.run(makePrivateDir(s.dir));
  const file = `${s.dir}/${snapshotFileName(s.service, now)}`;
  const dumped = await host.run(dumpDatabase(s.container, s.user, s.database, file), { allowFailure: true });
  if (dumped.code !== 0) {
    await host.run(removePath(`${file}.tmp`), { allowFailure: true });
    throw new Error(`the snapshot before the release command failed (pg_dump of ${s.database} in ${s.container}: ${dumped.stderr.trim() || `exit ${dumped.code}`}); nothing was changed`);
  }
  log(`snapshot of ${s.database}: ${file}; to restore it: ${restoreCommand(s.container, s.user, s.database, file)}`);
  const ours = new RegExp(`^${s.service}-\\d{8}T\\d{6}Z\\.dump$`);
  const files = (await host.run(listDir(s.dir))).stdout.split("\n").filter((f) => ours.test(f)).sort();
  for (const old of files.slice(0, Math.max(0, files.length - s.keep))) {
    await host.run(removePath(`${s.dir}/${old}`));
    log(`removed the old snapshot ${old} (keeping ${s.keep})`);
  }
  return file;
}
