// A carrier outside the database (any real one) may take its time to accept calls, and cannot take a
// call back when the transaction that records it rolls back. The dispatcher must neither lose a
// live worker's call to the reaper nor dial an attempt twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { Dispatcher } from "../../src/dispatcher/index.ts";
import { reapExpiredLeases } from "../../src/dispatcher/reaper.ts";
import { createLogger } from "../../src/logging/index.ts";
import { type Db, openPostgres, type Queryable } from "../../src/store/index.ts";
import type { CallOutcome, OutboundCallRequest, PlacedCall, Telephony } from "../../src/telephony/port.ts";
import { jobEnded, newCampaign, newJob, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { QUICK_DISPATCH } from "../helpers/carriers.ts";
import { CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";

const LEASE_SECONDS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes the calls at once (the phones ring) but answers the API only after `delayMs`; its calls never end. */
class SlowCarrier implements Telephony {
  readonly name = "slow-test";
  readonly placed: string[] = [];
  readonly hungUp: string[] = [];
  constructor(private readonly delayMs: number) {}

  async placeCalls(requests: readonly OutboundCallRequest[]): Promise<PlacedCall[]> {
    this.placed.push(...requests.map((r) => r.callId));
    await sleep(this.delayMs);
    return requests.map((r) => ({
      callId: r.callId,
      carrierCallId: `slow-${r.callId}`,
      outcome: () => new Promise<CallOutcome>(() => {}),
    }));
  }

  async hangup(callId: string): Promise<void> {
    this.hungUp.push(callId);
  }
}

/**
 * The test's database as the server sees a worker's connections: a transaction idle for 2 leases
 * is rolled back (in production, at least a minute).
 */
const withIdleTimeout = (t: TestApp): Promise<Db> =>
  openPostgres(t.database.url ?? "", 10, { idleInTransactionMs: 2 * LEASE_SECONDS * 1000 });

/** A worker on `db` and `carrier` with small claims, a 20 ms poll and a short lease. */
const dispatcher = (db: Db, carrier: Telephony, leaseSeconds = LEASE_SECONDS): Dispatcher =>
  new Dispatcher(
    { db, telephony: carrier, logger: createLogger("silent"), onAnswered: async () => {} },
    { ...QUICK_DISPATCH, leaseSeconds },
  );

type CallRow = { id: string; status: string; end_reason: string | null; dialed: boolean };
const callsOf = async (db: Queryable, jobId: string): Promise<CallRow[]> =>
  (
    await db.query<CallRow>(
      "select id, status, end_reason, dialed_at is not null as dialed from calls where job_id = $1 order by started_at",
      [jobId],
    )
  ).rows;

test("a carrier slower than the lease: the live worker keeps its call", CONCURRENT_TRANSACTIONS, async () => {
  const t = await startTestApp();
  const carrier = new SlowCarrier(LEASE_SECONDS * 1500);
  const d = dispatcher(t.database.db, carrier);
  try {
    const campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 3600 });
    await d.start();
    // Another worker's reaper, looking often: it takes over any lease it finds expired.
    let reaping = true;
    const otherReaper = (async () => {
      while (reaping) {
        await reapExpiredLeases(t.database.db);
        await sleep(100);
      }
    })();
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550111" });
    await waitFor(async () => (await callsOf(t.database.db, job.Id))[0]?.dialed === true, 15_000, "the dial");
    await sleep(LEASE_SECONDS * 1500);
    reaping = false;
    await otherReaper;
    const calls = await callsOf(t.database.db, job.Id);
    assert.deepEqual(
      calls.map((c) => [c.status, c.end_reason]),
      [["ringing", null]],
    );
    assert.equal((await t.request("GET", `/v1/jobs/${job.Id}`)).body.State, "in_progress");
    assert.deepEqual(carrier.hungUp, []);
  } finally {
    await d.stop(0);
    await t.close();
  }
});

test(
  "a dial transaction rolled back after the carrier took the call: the attempt counts and is never dialed again",
  CONCURRENT_TRANSACTIONS,
  async () => {
    const t = await startTestApp();
    // The carrier answers the API later than the server's idle timeout.
    const db = await withIdleTimeout(t);
    const carrier = new SlowCarrier(2 * LEASE_SECONDS * 1000 + 1000);
    const d = dispatcher(db, carrier);
    try {
      const campaign = await newCampaign(t, { MaxAttempts: 1 });
      await d.start();
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550112" });
      const ended = await jobEnded(t, job.Id, 30_000);
      assert.deepEqual(
        [ended.State, ended.FailureReason, ended.Attempts],
        ["failed", "max_attempts_exceeded", 1],
      );
      // Recovered as a lost worker's call that may have been placed: never dialed again.
      const calls = await callsOf(db, job.Id);
      assert.deepEqual(
        calls.map((c) => [c.status, c.end_reason]),
        [["failed", "worker_lost"]],
      );
      assert.equal(carrier.placed.length, 1);
      // It counts as a call placed, as it counts as an attempt: in usage, analytics and events.
      assert.equal((await t.request("GET", `/v1/usage?CampaignId=${campaign}`)).body.Calls, 1);
      assert.equal((await t.request("GET", `/v1/campaigns/${campaign}/analytics`)).body.Calls.Total, 1);
      const events = await db.query<{ event: string }>(
        "select event from events where call_id = $1 and event like 'call.%' order by seq",
        [calls[0]?.id],
      );
      assert.deepEqual(
        events.rows.map((e) => e.event),
        ["call.started", "call.ended"],
      );
      // The call the carrier took was hung up (by the worker that could not record it, and again
      // on the reaper's notice).
      assert.deepEqual([...new Set(carrier.hungUp)], carrier.placed);
    } finally {
      await d.stop(0);
      await db.close();
      await t.close();
    }
  },
);

/**
 * The database, with hooks: `afterQuery` runs (awaited) after each statement of a transaction,
 * before the caller sees its answer; `afterCommit` after each transaction, with its statements.
 */
function hooked(
  db: Db,
  hooks: { afterQuery?: (sql: string) => Promise<void>; afterCommit?: (sqls: string[]) => Promise<void> },
): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "tx")
        return async <T>(fn: (q: Queryable) => Promise<T>) => {
          const sqls: string[] = [];
          const r = await target.tx((q) =>
            fn({
              exec: (sql) => q.exec(sql),
              async query<R>(sql: string, params?: readonly unknown[]) {
                const answer = await q.query<R>(sql, params);
                sqls.push(sql);
                await hooks.afterQuery?.(sql);
                return answer;
              },
            }),
          );
          await hooks.afterCommit?.(sqls);
          return r;
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/**
 * The database, except that the answer to the dial's second lock (its second transaction) reaches
 * the worker `ms` late: the worker froze (SIGSTOP, a stalled VM) with the answer in its socket.
 */
function frozenAtSecondLock(db: Db, ms: number): Db {
  let locks = 0;
  return hooked(db, {
    afterQuery: async (sql) => {
      if (/for update of j for key share of c/.test(sql) && ++locks === 2) await sleep(ms);
    },
  });
}

test(
  "a worker frozen in the second dial transaction past the idle timeout dials nothing after a cancel commits",
  CONCURRENT_TRANSACTIONS,
  async () => {
    const t = await startTestApp();
    const raw = await withIdleTimeout(t);
    const carrier = new SlowCarrier(0);
    const d = dispatcher(frozenAtSecondLock(raw, 3 * LEASE_SECONDS * 1000), carrier);
    try {
      const campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 3600 });
      await d.start();
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550113" });
      await waitFor(async () => (await t.request("GET", `/v1/jobs/${job.Id}`)).body.State === "in_progress");
      // While the worker is frozen, the server rolls back its transaction, and the job is canceled.
      await sleep(2 * LEASE_SECONDS * 1000 + 500);
      assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).body.State, "canceled");
      // The worker wakes and gives up its dial; the claim is closed, by the reaper (whose worker_lost
      // counts the attempt, as a frozen worker's may have been placed) or, if the worker renewed its
      // lease first, as not dialed.
      await waitFor(
        async () => ["canceled", "failed"].includes((await callsOf(raw, job.Id))[0]?.status ?? ""),
        15_000,
        "the claim closed",
      );
      assert.deepEqual(carrier.placed, []);
      assert.equal((await t.request("GET", `/v1/jobs/${job.Id}`)).body.State, "canceled");
    } finally {
      await d.stop(0);
      await raw.close();
      await t.close();
    }
  },
);

/** The database, running `then()` once the first transaction that marked a dial's start committed. */
function afterDialStart(db: Db, then: () => Promise<void>): Db {
  let done = false;
  return hooked(db, {
    afterCommit: async (sqls) => {
      if (done || !sqls.some((sql) => /set dial_started_at = case when/.test(sql))) return;
      done = true;
      await then();
    },
  });
}

test(
  "a live worker whose dial waits for its locks longer than half a lease still dials",
  CONCURRENT_TRANSACTIONS,
  async () => {
    const t = await startTestApp();
    const lease = 4;
    let campaign = "";
    // Once the dial's start is committed, another session holds the campaign FOR UPDATE (as a
    // PATCH does) for three quarters of a lease: the dial's second transaction waits for it.
    let held: Promise<void> | null = null;
    const holdCampaign = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: t.database.url ?? "" });
      await c.connect();
      await c.query("begin");
      await c.query("select 1 from campaigns where id = $1 for update", [campaign]);
      held = sleep(lease * 750).then(async () => {
        await c.query("commit");
        await c.end();
      });
    };
    const carrier = new SlowCarrier(0);
    const d = dispatcher(afterDialStart(t.database.db, holdCampaign), carrier, lease);
    try {
      campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 3600 });
      await d.start();
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550114" });
      await waitFor(async () => held !== null, 10_000, "the campaign held");
      await held;
      await waitFor(async () => carrier.placed.length === 1, 10_000, "the dial, once the lock is free");
      await waitFor(
        async () => (await callsOf(t.database.db, job.Id))[0]?.dialed === true,
        10_000,
        "the record",
      );
      assert.deepEqual(
        (await callsOf(t.database.db, job.Id)).map((c) => [c.status, c.end_reason]),
        [["ringing", null]],
      );
    } finally {
      await d.stop(0);
      await t.close();
    }
  },
);
