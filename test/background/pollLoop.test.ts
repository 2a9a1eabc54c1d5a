import assert from "node:assert/strict";
import { test } from "node:test";
import { PollLoop } from "../../src/pollLoop.ts";

const LONG_SLEEP_MS = 60_000;

test("a wake that comes while a round runs starts the next round at once, not after the round's sleep", async () => {
  let rounds = 0;
  let secondRound: () => void = () => {};
  const second = new Promise<void>((resolve) => {
    secondRound = resolve;
  });
  const loop: PollLoop = new PollLoop(async () => {
    rounds++;
    if (rounds === 1) {
      // New work is announced while this round is still running (after it looked for work).
      loop.wake();
      await new Promise((r) => setTimeout(r, 10));
    } else secondRound();
    return LONG_SLEEP_MS;
  });
  loop.start();
  const timedOut = Symbol("timed out");
  const winner = await Promise.race([
    second.then(() => "second round"),
    new Promise((r) => setTimeout(() => r(timedOut), 5_000)),
  ]);
  await loop.stop();
  assert.equal(winner, "second round", "the wake during the first round was lost: the loop slept");
  assert.equal(rounds, 2, "only one extra round for the wake, then the loop sleeps");
});

test("a wake cuts a sleep short, and a round that asks for no sleep is followed at once", async () => {
  let rounds = 0;
  const loop = new PollLoop(async () => {
    rounds++;
    return rounds < 3 ? null : LONG_SLEEP_MS;
  });
  loop.start();
  while (rounds < 3) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(rounds, 3, "the third round asked to sleep");
  loop.wake();
  const deadline = Date.now() + 5_000;
  while (rounds < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await loop.stop();
  assert.equal(rounds, 4);
});
