import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { dialClaims } from "../../src/dispatcher/dial.ts";
import { claimDueJobs, type Dispatcher, reapExpiredLeases } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import type { Claim } from "../../src/store/dispatch/claim.ts";
import { type CallClose, closeCalls } from "../../src/store/dispatch/finish.ts";
import { type Db, openPostgres } from "../../src/store/index.ts";
import { waitFor } from "../helpers/app.ts";
import { RecordingCarrier } from "../helpers/carriers.ts";
import {
  attemptsDialedTwice,
  createJobs,
  dialedCalls,
  jobOutcomes,
  newCampaign,
  phone,
  phoneJobs,
  sleep,
  unfinished,
  useWorkerCluster,
} from "../helpers/workers.ts";

const silent = createLogger("silent");

/** Everything the dispatcher writes about these jobs: their rows, their calls, their events. */
async function snapshot(db: Db, jobIds: readonly string[]) {
  const jobs = await db.query(
    `select id, state, failure_reason, attempts, fence, lease_owner, lease_expires_at, live_call_id,
       next_call_at, updated_at, ended_at
     from jobs where id = any($1::text[]) order by id`,
    [jobIds],
  );
  const calls = await db.query(
    `select id, job_id, status, end_reason, attempt, fence, dialed_at, started_at, ended_at, carrier_call_id
     from calls where job_id = any($1::text[]) order by id`,
    [jobIds],
  );
  const events = await db.query(
    "select event, count(*)::int as n from events where job_id = any($1::text[]) group by 1 order by 1",
    [jobIds],
  );
  return JSON.parse(JSON.stringify({ jobs: jobs.rows, calls: calls.rows, events: events.rows }));
}

/** What a stale worker would write when its call ends (a completed call), with its own fence. */
const staleClose = (c: Claim, decision: CallClose["decision"]): CallClose => ({
  callId: c.callId,
  jobId: c.job.id,
  fence: c.job.fence + 1,
  status: "completed",
  endReason: "completed",
  answeredBy: "human",
  ringingAt: new Date(),
  answeredAt: new Date(),
  endedAt: new Date(),
  durationSeconds: 42,
  billedSeconds: 42,
  decision,
});

const claimAs = (db: Db, workerId: string, limit: number, leaseSeconds: number) =>
  claimDueJobs(db, { workerId, limit, leaseSeconds, orgMaxConcurrentCalls: 100_000 });

// These tests need several connections and processes on one database: PGlite is one process, so
// they run on the real PostgreSQL only (COBBERY_TEST_DB=postgres).
if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("fencing: a worker that lost its lease writes nothing", () => {
    const apps: App[] = [];
    const dispatchers: Dispatcher[] = [];
    const cluster = useWorkerCluster({}, async () => {
      for (const d of dispatchers) await d.stop(1_000).catch(() => {});
      for (const a of apps) await a.close().catch(() => {});
    });

    test("in process: stale dial and stale close after a takeover change nothing", async () => {
      const { c } = cluster;
      const cmp = await newCampaign(c.ctx, { MaxAttempts: 3, MaxConcurrentCalls: 1000 }, "in process");
      const ids = await createJobs(c.ctx, cmp, phoneJobs(4, 100));
      const carrier = new RecordingCarrier();
      // The stale worker claims all four (1 s lease) and dials two of them, then stops renewing.
      const stale = await claimAs(c.db, "wrk_stale", 10, 1);
      assert.equal(stale.length, 4);
      const staleDialed = await dialClaims(c.db, carrier, stale.slice(0, 2), silent);
      assert.equal(staleDialed.length, 2);
      const undialed = stale.slice(2);
      await sleep(1_200);
      // The lease expired: the reaper closes its calls as worker_lost (the dialed ones counted as
      // attempts) and hands the jobs back.
      assert.equal(await reapExpiredLeases(c.db), 4);
      const reaped = await c.db.query<{ id: string; status: string; end_reason: string; dialed: boolean }>(
        "select id, status, end_reason, dialed_at is not null as dialed from calls where job_id = any($1) order by id",
        [ids],
      );
      assert.deepEqual(reaped.rows.map((r) => [r.status, r.end_reason, r.dialed]).sort(), [
        ["canceled", "worker_lost", false],
        ["canceled", "worker_lost", false],
        ["failed", "worker_lost", true],
        ["failed", "worker_lost", true],
      ]);
      // A live worker takes them again and dials them.
      const fresh = await claimAs(c.db, "wrk_fresh", 10, 60);
      assert.equal(fresh.length, 4);
      const placedBefore = carrier.placed.length;
      const freshDialed = await dialClaims(c.db, carrier, fresh, silent);
      assert.equal(freshDialed.length, 4);
      assert.equal(carrier.placed.length, placedBefore + 4);
      const before = await snapshot(c.db, ids);
      for (const j of before.jobs) {
        assert.equal(j.state, "in_progress");
        assert.equal(j.lease_owner, "wrk_fresh");
      }

      // The stale worker wakes up: it dials the claims it never dialed ...
      const placedNow = carrier.placed.length;
      assert.deepEqual(await dialClaims(c.db, carrier, undialed, silent), []);
      assert.equal(carrier.placed.length, placedNow, "the carrier was asked to dial a stale claim");
      // ... and closes its calls, as if they had completed.
      const n = await c.db.tx((q) =>
        closeCalls(q, [
          ...staleDialed.map((d) => staleClose(d.claim, { kind: "complete" })),
          ...undialed.map((u) =>
            staleClose(u, { kind: "fail", reason: "contact_refused", message: "stale" }),
          ),
        ]),
      );
      assert.equal(n, 0);
      assert.deepEqual(await snapshot(c.db, ids), before, "a stale write changed something");

      // The live worker's own close still works.
      const closed = await c.db.tx((q) =>
        closeCalls(
          q,
          freshDialed.map((d) => ({
            ...staleClose(d.claim, { kind: "fail", reason: "max_attempts_exceeded", message: "done" }),
            status: "no_answer",
            endReason: "no_answer",
            answeredBy: null,
            answeredAt: null,
            durationSeconds: 0,
            billedSeconds: 0,
          })),
        ),
      );
      assert.equal(closed, 4);
      const end = await c.db.query<{ state: string; attempts: number; lease_owner: string | null }>(
        "select state, attempts, lease_owner from jobs where id = any($1) order by id",
        [ids],
      );
      // Attempts: the two stale dialed calls counted, then one more each.
      assert.deepEqual(end.rows.map((r) => [r.state, r.lease_owner]).sort(), [
        ["failed", null],
        ["failed", null],
        ["failed", null],
        ["failed", null],
      ]);
      assert.deepEqual(end.rows.map((r) => r.attempts).sort(), [1, 1, 2, 2]);
      assert.deepEqual(await attemptsDialedTwice(c.db), []);
    });

    test("a real worker reaps a stale claim and redoes the jobs; the stale writes then change nothing", async () => {
      const { c, fleet } = cluster;
      const cmp = await newCampaign(c.ctx, { MaxAttempts: 2, MaxConcurrentCalls: 1000 }, "stale claim");
      const ids = await createJobs(c.ctx, cmp, phoneJobs(20, 200));
      const stale = await claimAs(c.db, "wrk_stale_2", 100, 1);
      assert.equal(stale.length, 20);
      // Not dialed: a worker process finds the expired lease, hands the jobs back and calls them.
      const w = await fleet.start();
      await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 30_000, "the jobs to end");
      const reaped = await c.db.query<{ n: number }>(
        "select count(*)::int as n from calls where id = any($1) and status = 'canceled' and end_reason = 'worker_lost'",
        [stale.map((s) => s.callId)],
      );
      assert.equal(reaped.rows[0]!.n, 20);
      fleet.signal(w, "SIGTERM");
      assert.equal(await w.exited, 0);
      const before = await snapshot(c.db, ids);
      for (const j of before.jobs) {
        assert.equal(j.state, "failed");
        assert.equal(j.attempts, 2);
      }
      const carrier = new RecordingCarrier(true);
      assert.deepEqual(await dialClaims(c.db, carrier, stale, silent), []);
      assert.equal(carrier.placed.length, 0, "the carrier was asked to dial a stale claim");
      const n = await c.db.tx((q) =>
        closeCalls(
          q,
          stale.map((s) => staleClose(s, { kind: "complete" })),
        ),
      );
      assert.equal(n, 0);
      assert.deepEqual(await snapshot(c.db, ids), before, "a stale write changed something");
      assert.deepEqual(await attemptsDialedTwice(c.db), []);
    });

    test("a worker process stopped (SIGSTOP) past its lease and resumed: its late writes change nothing", async () => {
      const { c, fleet } = cluster;
      const JOBS = 800;
      const MAX_ATTEMPTS = 2;
      const cmp = await newCampaign(
        c.ctx,
        { MaxAttempts: MAX_ATTEMPTS, MaxConcurrentCalls: 100_000 },
        "sigstop",
      );
      await createJobs(c.ctx, cmp, phoneJobs(JOBS, 1_000));
      // Small claims keep the first worker busy long enough, with several claims in flight.
      const first = await fleet.start({ COBBERY_DISPATCH_BATCH_SIZE: "5" });
      const dialed = () => dialedCalls(c.db, cmp);
      await waitFor(async () => (await dialed()) >= 30, 30_000, "the first worker to dial");

      // Freeze it while it holds leases of calls it has written, preferably dialed ones (retry until
      // it does: the simulated calls are short). Rows it was writing in a transaction left open are
      // locked until it resumes (and remain its to finish): only the others count (SKIP LOCKED).
      type Held = { job_id: string; call_id: string; dialed: boolean };
      let held: Held[] = [];
      for (let i = 0; i < 80; i++) {
        fleet.signal(first, "SIGSTOP");
        await sleep(30);
        held = (
          await c.db.tx((q) =>
            q.query<Held>(
              `select j.id as job_id, k.id as call_id, k.dialed_at is not null as dialed
             from jobs j join calls k on k.id = j.live_call_id
             where j.lease_owner = $1 and j.state = 'in_progress' and k.ended_at is null
             for update of j skip locked`,
              [first.id],
            ),
          )
        ).rows;
        if (held.some((h) => h.dialed) || (i >= 40 && held.length > 0)) break;
        fleet.signal(first, "SIGCONT");
        await sleep(10 + Math.random() * 40);
      }
      assert.ok(held.length > 0, "the first worker never held a lease when frozen");
      const stoppedAt = Date.now();

      // A second worker finds the expired leases, closes those calls as worker_lost and goes on.
      const second = await fleet.start();
      const heldCalls = held.map((h) => h.call_id);
      const reapedCalls = async () =>
        (
          await c.db.query<{ id: string }>(
            "select id from calls where id = any($1) and end_reason = 'worker_lost' order by id",
            [heldCalls],
          )
        ).rows.map((r) => r.id);
      // Past twice the lease; calls the frozen worker was writing in an open transaction stay locked
      // (and are its to finish), so wait for all of them only up to a point.
      await sleep(Math.max(0, stoppedAt + 4_500 - Date.now()));
      await waitFor(async () => (await reapedCalls()).length === heldCalls.length, 6_000, "reaping").catch(
        () => undefined,
      );
      const reaped = await reapedCalls();
      assert.ok(reaped.length > 0, `none of the ${held.length} calls of the frozen worker was reaped`);
      const reapedBefore = await c.db.query(
        "select id, status, end_reason, ended_at, fence, dialed_at from calls where id = any($1) order by id",
        [reaped],
      );

      // Resume it: it goes on with the calls it had (closing them, dialing its claims, renewing).
      fleet.signal(first, "SIGCONT");
      await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 120_000, "every job to end");
      await sleep(1_000);
      assert.ok(first.alive(), `the resumed worker died: ${first.stderr()}`);
      const reapedAfter = await c.db.query(
        "select id, status, end_reason, ended_at, fence, dialed_at from calls where id = any($1) order by id",
        [reaped],
      );
      assert.deepEqual(reapedAfter.rows, reapedBefore.rows, "the resumed worker overwrote a reaped call");
      for (const r of reapedAfter.rows) assert.equal(r.end_reason, "worker_lost");

      // Every job ended after exactly MaxAttempts calls, each attempt dialed once, all closed.
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
      const open = await c.db.query("select 1 from calls where campaign_id = $1 and ended_at is null", [cmp]);
      assert.equal(open.rowCount, 0);
      const leased = await c.db.query(
        "select 1 from jobs where campaign_id = $1 and lease_owner is not null",
        [cmp],
      );
      assert.equal(leased.rowCount, 0);
      process.stderr.write(
        `# sigstop: ${JSON.stringify({ held: held.length, heldDialed: held.filter((h) => h.dialed).length, reaped: reaped.length })}\n`,
      );
      // Both stop gracefully (and claim nothing of the next test).
      for (const w of [first, second]) fleet.signal(w, "SIGTERM");
      assert.deepEqual(await Promise.all([first.exited, second.exited]), [0, 0]);
    });

    test("a call whose closing write fails is recovered through its lease, though its worker lives", async () => {
      const { c } = cluster;
      const cmp = await newCampaign(c.ctx, { MaxAttempts: 2, MaxConcurrentCalls: 1000 }, "close fails");
      const [jobId] = await createJobs(c.ctx, cmp, [{ PhoneNumber: phone(300) }]);
      const carrier = new RecordingCarrier();
      const config = loadConfig({
        DATABASE_URL: c.url,
        LOG_LEVEL: "silent",
        COBBERY_DISPATCH_LEASE_SECONDS: "2",
        COBBERY_DISPATCH_POLL_MS: "50",
      });
      const app = await createApp(config, {
        db: await openPostgres(c.url),
        telephony: carrier,
        logger: silent,
      });
      apps.push(app);
      const d = app.newDispatcher();
      dispatchers.push(d);
      await d.start();
      await waitFor(async () => carrier.placed.length === 1 || undefined, 10_000, "the first call");
      const first = carrier.placed[0]!;

      // Another transaction holds the job's row while the call ends; the worker's closing
      // transaction then fails (here its statement is canceled, as a lock or statement timeout would).
      const blocker = new pg.Client({ connectionString: c.url });
      await blocker.connect();
      try {
        await blocker.query("begin");
        await blocker.query("select 1 from jobs where id = $1 for update", [jobId]);
        const me = (await blocker.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
        assert.ok(carrier.release(first.callId));
        const waiting = await waitFor(
          async () =>
            (
              await c.db.query<{ pid: number }>(
                `select pid from pg_stat_activity where datname = current_database() and pid <> $1
                   and wait_event_type = 'Lock' and pg_blocking_pids(pid) @> array[$1]::int[]`,
                [me],
              )
            ).rows[0]?.pid,
          10_000,
          "the closing transaction to wait",
        );
        await c.db.query("select pg_cancel_backend($1)", [waiting]);
      } finally {
        await blocker.query("rollback").catch(() => {});
        await blocker.end();
      }
      // The worker is alive and keeps running; the job must not stay in_progress under its lease.
      const releaser = setInterval(() => {
        for (const r of carrier.placed) carrier.release(r.callId);
      }, 50);
      try {
        const end = await waitFor(
          async () => {
            const j = (
              await c.db.query<{ state: string; attempts: number; reason: string | null }>(
                "select state, attempts, failure_reason as reason from jobs where id = $1",
                [jobId],
              )
            ).rows[0]!;
            return j.state === "failed" ? j : undefined;
          },
          15_000,
          "the job to be recovered and end (it stays in_progress, leased by a live worker)",
        );
        assert.deepEqual(end, { state: "failed", attempts: 2, reason: "max_attempts_exceeded" });
      } finally {
        clearInterval(releaser);
      }
      const calls = await c.db.query<{ attempt: number; end_reason: string }>(
        "select attempt, end_reason from calls where job_id = $1 and dialed_at is not null order by attempt",
        [jobId],
      );
      assert.equal(calls.rows.length, 2);
      assert.deepEqual(await attemptsDialedTwice(c.db), []);
      assert.equal((await unfinished(c.db, cmp)) === 0, true);
    });
  });
}
