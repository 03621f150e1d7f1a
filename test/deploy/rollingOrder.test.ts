// The order a fleet is released in (components/deploy/rollingOrder.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { releasedBefore, releaseWaitsFor, rollingBatches } from "../../components/deploy/rollingOrder";

describe("rolling batches", () => {
  it("one server at a time by default, in member order", () => {
    assert.deepEqual(rollingBatches(3, 1), [[0], [1], [2]], "three batches of one");
    assert.deepEqual(rollingBatches(1, 1), [[0]], "a single server is one batch");
  });

  it("batches of the given size, the last one shorter", () => {
    assert.deepEqual(rollingBatches(5, 2), [[0, 1], [2, 3], [4]], "2 + 2 + 1");
    assert.deepEqual(rollingBatches(4, 4), [[0, 1, 2, 3]], "the whole fleet at once");
  });

  it("each member waits for the whole batch before its own, and the first batch for none", () => {
    assert.deepEqual(releaseWaitsFor(3, 1), [[], [0], [1]], "a chain");
    assert.deepEqual(releaseWaitsFor(5, 2), [[], [], [0, 1], [0, 1], [2, 3]], "batch by batch");
  });

  it("with a release command (run by the first server only), the rest of the first batch waits for the first server", () => {
    assert.deepEqual(releaseWaitsFor(5, 2, { firstAlone: true }), [[], [0], [0, 1], [0, 1], [2, 3]], "member 1 after member 0's migrations");
    assert.deepEqual(releaseWaitsFor(3, 1, { firstAlone: true }), releaseWaitsFor(3, 1), "one at a time already waits");
  });

  it("the servers a failed release takes back: every member of the batches before its own", () => {
    assert.deepEqual(releasedBefore(3, 1), [[], [0], [0, 1]], "all earlier servers, not only the last");
    assert.deepEqual(releasedBefore(5, 2), [[], [], [0, 1], [0, 1], [0, 1, 2, 3]], "by batch");
  });

  it("refuses a count or batch below one (the config refuses them first)", () => {
    assert.throws(() => rollingBatches(0, 1), /expected a server count of at least 1, got 0/, "no servers");
    assert.throws(() => rollingBatches(2, 0), /expected a batch size of at least 1, got 0/, "empty batches would never end");
  });
});
