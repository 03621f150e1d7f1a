// The order a fleet is released in: batches of deploy.rollingBatch servers, each starting once
// the one before has passed its gates. Pure.

/** Member indexes by batch: rollingBatches(3, 1) is [[0], [1], [2]]; rollingBatches(5, 2) is [[0, 1], [2, 3], [4]]. */
export function rollingBatches(count: number, batchSize: number): number[][] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`rollingBatches: expected a server count of at least 1, got ${count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`rollingBatches: expected a batch size of at least 1, got ${batchSize}`);
  const batches: number[][] = [];
  for (let start = 0; start < count; start += batchSize) batches.push(Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i));
  return batches;
}

/**
 * For each member, the members whose release it waits for: the whole batch before its own. With
 * `firstAlone` (the app has a release command, run by the first server only), the rest of the
 * first batch waits for the first server too, so no new code serves before its migrations ran.
 */
export function releaseWaitsFor(count: number, batchSize: number, o: { firstAlone?: boolean } = {}): number[][] {
  const batches = rollingBatches(count, batchSize);
  const waits: number[][] = [];
  batches.forEach((batch, b) => {
    for (const member of batch) waits[member] = b > 0 ? batches[b - 1] : o.firstAlone && member > 0 ? [0] : [];
  });
  return waits;
}

/** For each member, every member of the batches before its own: those a failure of its release takes back. */
export function releasedBefore(count: number, batchSize: number): number[][] {
  const batches = rollingBatches(count, batchSize);
  return batches.flatMap((batch, b) => batch.map(() => batches.slice(0, b).flat()));
}
