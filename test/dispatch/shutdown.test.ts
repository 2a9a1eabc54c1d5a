import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { waitFor } from "../helpers/app.ts";
import {
  attemptsDialedTwice,
  createJobs,
  dialedCalls,
  jobOutcomes,
  newCampaign,
  phoneJobs,
  unfinished,
  useWorkerCluster,
} from "../helpers/workers.ts";

// Worker processes share one database: PGlite is one process, so this suite needs the real
// PostgreSQL (COBBERY_TEST_DB=postgres).
if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("graceful shutdown of a worker process (SIGTERM)", () => {
    const cluster = useWorkerCluster();

    test("with calls in flight, it exits 0 within seconds and leaves no job in_progress under its lease", async () => {
      const { c, fleet } = cluster;
      const JOBS = 3_000;
      const MAX_ATTEMPTS = 2;
      const cmp = await newCampaign(c.ctx, { MaxAttempts: MAX_ATTEMPTS, MaxConcurrentCalls: 100_000 });
      await createJobs(c.ctx, cmp, phoneJobs(JOBS));
      const w = await fleet.start();
      const leased = async () =>
        (
          await c.db.query<{ n: number }>("select count(*)::int as n from jobs where lease_owner = $1", [
            w.id,
          ])
        ).rows[0]!.n;
      // Wait until it is well into the work, then stop it while it holds leases.
      await waitFor(async () => (await dialedCalls(c.db, cmp)) >= 200, 30_000, "dialing to start");
      const inFlight = await waitFor(async () => (await leased()) || undefined, 10_000, "leases in flight");
      const t0 = Date.now();
      fleet.signal(w, "SIGTERM");
      const code = await Promise.race([
        w.exited,
        new Promise<string>((r) => setTimeout(() => r("still running after 10 s"), 10_000)),
      ]);
      const took = Date.now() - t0;
      assert.equal(code, 0, w.stderr());
      assert.ok(took < 5_000, `took ${took} ms to stop`);

      // It finished (or handed back) what it had: nothing in progress, no lease, no live call.
      const worker = await c.db.query<{ stopped: boolean }>(
        "select stopped_at is not null as stopped from workers where id = $1",
        [w.id],
      );
      assert.deepEqual(worker.rows, [{ stopped: true }]);
      assert.equal(await leased(), 0, "jobs are left under the stopped worker's lease");
      const states = await c.db.query<{ state: string; n: number }>(
        "select state, count(*)::int as n from jobs where campaign_id = $1 group by 1 order by 1",
        [cmp],
      );
      const byState = Object.fromEntries(states.rows.map((r) => [r.state, r.n]));
      assert.equal(byState.in_progress, undefined, JSON.stringify(byState));
      assert.ok(
        (byState.pending ?? 0) > 0,
        `it finished everything before the signal: ${JSON.stringify(byState)}`,
      );
      const open = await c.db.query("select 1 from calls where campaign_id = $1 and ended_at is null", [cmp]);
      assert.equal(open.rowCount, 0, "calls left live");

      // Another worker finishes the rest: every job got exactly MaxAttempts calls, none twice.
      await fleet.start();
      await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 60_000, "every job to end");
      assert.deepEqual(await jobOutcomes(c.db, cmp), [
        {
          state: "failed",
          reason: "max_attempts_exceeded",
          attempts: MAX_ATTEMPTS,
          calls: MAX_ATTEMPTS,
          n: JOBS,
        },
      ]);
      assert.deepEqual(await attemptsDialedTwice(c.db), []);
      process.stderr.write(`# shutdown: ${JSON.stringify({ inFlight, took, atStop: byState })}\n`);
    });
  });
}
