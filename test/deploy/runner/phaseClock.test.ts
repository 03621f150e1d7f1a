// Where a step's time goes (components/deploy/runner/phaseClock.ts), on a clock the test moves.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PhaseClock } from "../../../components/deploy/runner/phaseClock";

describe("PhaseClock", () => {
  test("each phase's own time, in the order they ended, after the total since the clock started", async () => {
    let now = 1000;
    const clock = new PhaseClock(() => now);
    now += 250; // before any phase: in the total only
    await clock.time("save", async () => {
      now += 1240;
    });
    const result = await clock.time("send", async () => {
      now += 60;
      return "sent";
    });
    assert.equal(result, "sent", "the phase's own result");
    assert.equal(clock.summary(), "1.6 s: save 1.2 s, send 0.1 s");
  });

  test("a phase that fails is timed too, and its error goes on", async () => {
    let now = 0;
    const clock = new PhaseClock(() => now);
    await assert.rejects(
      clock.time("gate", async () => {
        now += 3000;
        throw new Error("crashed");
      }),
      /crashed/,
    );
    assert.equal(clock.summary(), "3.0 s: gate 3.0 s");
  });

  test("no phase: only the total", () => {
    let now = 0;
    const clock = new PhaseClock(() => now);
    now = 420;
    assert.equal(clock.summary(), "0.4 s");
  });
});
