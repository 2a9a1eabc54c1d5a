// The locks a dial takes (its jobs FOR UPDATE, their campaigns FOR KEY SHARE, in job order) and the
// locks a claim takes (its campaigns FOR NO KEY UPDATE, in campaign order) must never deadlock,
// whatever order the rows come in.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { claimDueJobs } from "../../src/dispatcher/claim.ts";
import { dialClaims } from "../../src/dispatcher/dial.ts";
import { createLogger } from "../../src/logging/index.ts";
import { newCampaign, newJob, startTestApp, type TestApp } from "../helpers/app.ts";
import { CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const claimOpts = (workerId: string) => ({
  workerId,
  limit: 10,
  leaseSeconds: 30,
  orgMaxConcurrentCalls: 100,
});

describe("dial and claim locks", CONCURRENT_TRANSACTIONS, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test("a dial over campaigns B then A and a claim locking A then B both commit", async () => {
    const db = t.database.db;
    const a = await newCampaign(t);
    const b = await newCampaign(t);
    assert.ok(a < b);
    // The dial's jobs in id order: campaign B's first, then A's.
    const jobB = (await newJob(t, b, { PhoneNumber: "+14155550601" })).Id;
    const jobA = (await newJob(t, a, { PhoneNumber: "+14155550602" })).Id;
    assert.ok(jobB < jobA);
    const claims = await claimDueJobs(db, claimOpts("dialer"));
    assert.equal(claims.length, 2);
    // Due jobs in both campaigns for another worker's claim.
    await newJob(t, a, { PhoneNumber: "+14155550603" });
    await newJob(t, b, { PhoneNumber: "+14155550604" });

    // A short outside lock on A's job fixes the interleaving: the dial locks B's job and campaign,
    // then waits; meanwhile the claim locks campaign A, then B.
    const blocker = new pg.Client({ connectionString: t.database.url ?? "" });
    await blocker.connect();
    try {
      await blocker.query("begin");
      await blocker.query("select 1 from jobs where id = $1 for update", [jobA]);
      const settle = (p: Promise<unknown[]>, what: string) =>
        p.then(
          (r) => `${what} ok (${r.length})`,
          (e: Error) => `${what} failed: ${e.message}`,
        );
      const dial = settle(dialClaims(db, t.app.telephony, claims, createLogger("silent")), "dial");
      await sleep(300);
      const claim = settle(claimDueJobs(db, claimOpts("claimer")), "claim");
      await sleep(300);
      await blocker.query("rollback");
      assert.deepEqual(await Promise.all([dial, claim]), ["dial ok (2)", "claim ok (2)"]);
    } finally {
      await blocker.end();
    }
  });
});
