import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { waitFor } from "../helpers/app.ts";
import {
  attemptsDialedTwice,
  createJobs,
  dialedCalls,
  jobOutcomes,
  newCampaign,
  sleep,
  unfinished,
  useWorkerCluster,
} from "../helpers/workers.ts";

// Worker processes share one database: PGlite is one process, so this suite needs the real
// PostgreSQL (COBBERY_TEST_DB=postgres).
if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("an opt-out committed while its number's jobs are being dialed (2 worker processes)", () => {
    const JOBS = 1_000;
    const NUMBER = "+14155550100";
    // Small claims: many dial transactions for the opt-out to race with.
    const cluster = useWorkerCluster({ COBBERY_DISPATCH_BATCH_SIZE: "5" });

    test("no call starts after the opt-out commits, and every job is accounted for", async () => {
      const { c, fleet } = cluster;
      // One attempt each: a job is either dialed once (no answer: max_attempts_exceeded) or opted out.
      const cmp = await newCampaign(c.ctx, { MaxAttempts: 1, MaxConcurrentCalls: 100_000 });
      await Promise.all([fleet.start(), fleet.start()]);
      const dialed = () => dialedCalls(c.db, cmp);
      const ids = await createJobs(
        c.ctx,
        cmp,
        Array.from({ length: JOBS }, () => ({ PhoneNumber: NUMBER })),
      );
      assert.equal(ids.length, JOBS);
      // While dialing is in progress.
      await waitFor(async () => (await dialed()) >= 50, 30_000, "dialing to start");
      const res = await c.request("POST", "/v1/opt-outs", { PhoneNumber: NUMBER });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      // The opt-out has committed: later than its commit are this time and this count.
      const committed = (await c.db.query<{ t: Date }>("select clock_timestamp() as t")).rows[0]!.t;
      const dialedAtCommit = await dialed();

      await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 60_000, "every job to end");
      // Let late writes of the workers land, if any.
      await sleep(500);

      // No call started after the commit: none dialed later, and none more than were dialed then.
      const late = await c.db.query<{ id: string; dialed_at: Date }>(
        "select id, dialed_at from calls where dialed_at > $1",
        [committed],
      );
      assert.deepEqual(
        late.rows,
        [],
        `calls dialed after the opt-out committed at ${committed.toISOString()}`,
      );
      assert.equal(await dialed(), dialedAtCommit, "calls were dialed after the opt-out committed");
      const callStarted = await c.db.query<{ n: number }>(
        "select count(*)::int as n from events where event = 'call.started' and occurred_at > $1",
        [committed],
      );
      assert.equal(callStarted.rows[0]!.n, 0);

      // Every job ended: dialed once, or opted out (before its call, or during it).
      const jobs = await jobOutcomes(c.db, cmp);
      const summary = JSON.stringify({ dialedAtCommit, jobs });
      let total = 0;
      let notDialed = 0;
      for (const r of jobs) {
        total += r.n;
        assert.equal(r.state, "failed", summary);
        assert.equal(r.attempts, r.calls, `Attempts must count the dialed calls: ${summary}`);
        if (r.attempts === 0) {
          assert.equal(r.reason, "opted_out", summary);
          notDialed += r.n;
        } else {
          assert.equal(r.attempts, 1, summary);
          assert.ok(r.reason === "max_attempts_exceeded" || r.reason === "opted_out", summary);
        }
      }
      assert.equal(total, JOBS);
      // Calls + jobs opted out before being dialed account for all of them.
      assert.equal(dialedAtCommit + notDialed, JOBS, summary);
      // The race really happened in the middle of the work.
      assert.ok(notDialed > 0, `every job was dialed before the opt-out: ${summary}`);
      assert.ok(dialedAtCommit >= 50, summary);

      // Nothing left live or leased; no attempt dialed twice.
      const open = await c.db.query("select 1 from calls where ended_at is null");
      assert.equal(open.rowCount, 0);
      const leased = await c.db.query(
        "select 1 from jobs where lease_owner is not null or live_call_id is not null",
      );
      assert.equal(leased.rowCount, 0);
      assert.deepEqual(await attemptsDialedTwice(c.db), []);
      const optedOutEvents = await c.db.query<{ n: number }>(
        "select count(distinct job_id)::int as n from events where event = 'job.opted_out' and campaign_id = $1",
        [cmp],
      );
      const optedOutJobs = await c.db.query<{ n: number }>(
        "select count(*)::int as n from jobs where failure_reason = 'opted_out' and campaign_id = $1",
        [cmp],
      );
      assert.equal(optedOutEvents.rows[0]!.n, optedOutJobs.rows[0]!.n);
      process.stderr.write(`# opt-out race: ${summary}\n`);
    });
  });
}
