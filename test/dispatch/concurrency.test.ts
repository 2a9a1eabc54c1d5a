import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { claimDueJobs } from "../../src/dispatcher/claim.ts";
import type { Dispatcher } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { foldLiveCallCounters } from "../../src/store/dispatch/liveCalls.ts";
import { type Db, openPostgres } from "../../src/store/index.ts";
import type { CallOutcome, OutboundCallRequest, PlacedCall, Telephony } from "../../src/telephony/port.ts";
import { waitFor } from "../helpers/app.ts";
import {
  attemptsDialedTwice,
  type ClusterApp,
  createJobs,
  newCampaign,
  openPool,
  phoneJobs,
  sleep,
  startClusterApp,
  unfinished,
} from "../helpers/workers.ts";

/** Live calls as the carrier sees them (from placeCalls until the outcome), counted exactly. */
class LiveCounter {
  readonly now = new Map<string, number>();
  readonly max = new Map<string, number>();
  placed = 0;
  add(key: string, d: number): void {
    const n = (this.now.get(key) ?? 0) + d;
    this.now.set(key, n);
    if (n > (this.max.get(key) ?? 0)) this.max.set(key, n);
  }
}

/**
 * A carrier whose calls stay live 10-40 ms before nobody answers, so that calls overlap. A call is
 * live for the carrier only between the dial and the outcome, inside the span where its Call row is
 * live in the database (written before the dial, closed after the outcome): the carrier's exact
 * count is a lower bound of the database's and must stay under the limits too.
 */
class SlowCarrier implements Telephony {
  readonly name = "slow-test";
  /** Calls this carrier (one per dispatcher) placed. */
  placed = 0;
  constructor(
    private readonly live: LiveCounter,
    private readonly keysOf: (r: OutboundCallRequest) => string[],
  ) {}

  async placeCalls(requests: readonly OutboundCallRequest[]): Promise<PlacedCall[]> {
    return requests.map((r) => {
      const keys = this.keysOf(r);
      for (const k of keys) this.live.add(k, 1);
      this.live.placed++;
      this.placed++;
      return {
        callId: r.callId,
        carrierCallId: `slow-${r.callId}`,
        outcome: () =>
          new Promise<CallOutcome>((resolve) =>
            setTimeout(
              () => {
                for (const k of keys) this.live.add(k, -1);
                resolve({
                  kind: "unanswered",
                  reason: "no_answer",
                  ringingAt: r.startedAt,
                  endedAt: new Date(),
                });
              },
              10 + Math.random() * 30,
            ),
          ),
      };
    });
  }

  async hangup(): Promise<void> {}
}

// Several dispatchers on one database, each with its own connections: PGlite is one process with a
// single connection, so this suite only runs on the real PostgreSQL (COBBERY_TEST_DB=postgres).
if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("concurrency limits under load (3 dispatchers, one PostgreSQL)", () => {
    const ORG_LIMIT = 6;
    const JOBS = { a: 300, b: 600, c: 700 };
    const LIMITS = { a: 3, b: 5, c: 10 };
    let c: ClusterApp;
    let sampler: Db;
    const apps: App[] = [];
    const dispatchers: Dispatcher[] = [];
    const carriers: SlowCarrier[] = [];
    const live = new LiveCounter();
    const ids = { a: "", b: "", c: "", acme: "", beta: "" };

    before(async () => {
      c = await startClusterApp();
      const beta = await c.newOrg("beta");
      ids.acme = c.orgId;
      ids.beta = beta.orgId;
      ids.a = await newCampaign(c.ctx, { MaxAttempts: 1, MaxConcurrentCalls: LIMITS.a }, "A");
      ids.b = await newCampaign(c.ctx, { MaxAttempts: 1, MaxConcurrentCalls: LIMITS.b }, "B");
      // Campaign C allows 10, but its organization allows 6.
      ids.c = await newCampaign(beta.ctx, { MaxAttempts: 1, MaxConcurrentCalls: LIMITS.c }, "C");
      await createJobs(c.ctx, ids.a, phoneJobs(JOBS.a, 0));
      await createJobs(c.ctx, ids.b, phoneJobs(JOBS.b, 1000));
      await createJobs(beta.ctx, ids.c, phoneJobs(JOBS.c, 2000));
      // Interleave the campaigns in the queue (due order), so that every claim sees all of them.
      await c.db.query("update jobs set next_call_at = now() - random() * interval '1 minute'");
      // Numbers 0-999 are campaign A, 1000-1999 B, 2000-2999 C (see phone()).
      const campaignOf = (to: string) => {
        const n = Number(to.slice(-4));
        return n < 1000 ? "a" : n < 2000 ? "b" : "c";
      };
      const config = loadConfig({
        DATABASE_URL: c.url,
        LOG_LEVEL: "silent",
        COBBERY_ORG_MAX_CONCURRENT_CALLS: String(ORG_LIMIT),
        COBBERY_DISPATCH_POLL_MS: "20",
      });
      for (let i = 0; i < 3; i++) {
        const db = await openPostgres(c.url);
        const carrier = new SlowCarrier(live, (r) => [`campaign:${campaignOf(r.to)}`, `org:${r.orgId}`]);
        carriers.push(carrier);
        const app = await createApp(config, { db, telephony: carrier, logger: createLogger("silent") });
        apps.push(app);
        dispatchers.push(app.newDispatcher());
      }
      sampler = await openPool(c.url, 1);
    });

    after(async () => {
      await Promise.all(dispatchers.map((d) => d.stop(5_000).catch(() => {})));
      for (const a of apps) await a.close().catch(() => {});
      await sampler?.close().catch(() => {});
      await c?.close();
    });

    test("live calls never exceed MaxConcurrentCalls nor the organization's limit, and reach them", async () => {
      const sampled = new Map<string, number>();
      const keep = (k: string, n: number) => sampled.set(k, Math.max(sampled.get(k) ?? 0, n));
      let samples = 0;
      let folded = 0;
      let sampling = true;
      // Samples the database's live calls in a tight loop, on a connection of its own.
      const loop = (async () => {
        while (sampling) {
          const r = await sampler.query<{ org_id: string; campaign_id: string | null; n: number }>(
            `select org_id, campaign_id, count(*)::int as n from calls where ended_at is null
             group by grouping sets ((org_id, campaign_id), (org_id))`,
          );
          for (const x of r.rows)
            keep(x.campaign_id === null ? `org:${x.org_id}` : `campaign:${x.campaign_id}`, x.n);
          // The counters the claims read are folded while the dispatchers write them: the limits
          // must hold all the same, and nothing be left counted at the end.
          if (samples % 10 === 0) folded += await sampler.tx(foldLiveCallCounters);
          samples++;
          await sleep(1);
        }
      })();
      const started = Date.now();
      await Promise.all(dispatchers.map((d) => d.start()));
      try {
        await waitFor(async () => (await unfinished(c.db)) === 0, 120_000, "every job to end");
      } finally {
        sampling = false;
        await loop;
      }
      const took = Date.now() - started;

      const total = JOBS.a + JOBS.b + JOBS.c;
      const carrierMax = (k: string) => live.max.get(k) ?? 0;
      const dbMax = (k: string) => sampled.get(k) ?? 0;
      const report = JSON.stringify({
        took,
        samples,
        carrier: Object.fromEntries(live.max),
        database: Object.fromEntries(sampled),
        ids,
      });
      // Never above a limit: exactly as the carrier saw it, and in every database sample.
      for (const [k, limit] of [
        ["a", LIMITS.a],
        ["b", LIMITS.b],
      ] as const) {
        assert.ok(carrierMax(`campaign:${k}`) <= limit, `campaign ${k} above ${limit}: ${report}`);
        assert.ok(dbMax(`campaign:${ids[k]}`) <= limit, `campaign ${k} above ${limit}: ${report}`);
      }
      assert.ok(dbMax(`campaign:${ids.c}`) <= ORG_LIMIT, report);
      for (const org of [ids.acme, ids.beta]) {
        assert.ok(carrierMax(`org:${org}`) <= ORG_LIMIT, `org above ${ORG_LIMIT}: ${report}`);
        assert.ok(dbMax(`org:${org}`) <= ORG_LIMIT, `org above ${ORG_LIMIT}: ${report}`);
      }
      // ... and the limits were reached, or the test proves nothing.
      assert.equal(carrierMax("campaign:a"), LIMITS.a, report);
      assert.equal(carrierMax("campaign:b"), LIMITS.b, report);
      assert.equal(carrierMax("campaign:c"), ORG_LIMIT, report);
      assert.equal(carrierMax(`org:${ids.acme}`), ORG_LIMIT, report);
      assert.equal(carrierMax(`org:${ids.beta}`), ORG_LIMIT, report);
      assert.equal(dbMax(`org:${ids.acme}`), ORG_LIMIT, report);
      assert.equal(dbMax(`org:${ids.beta}`), ORG_LIMIT, report);

      // Every job was called once, by one dispatcher, and ended.
      assert.equal(live.placed, total);
      const jobs = await c.db.query<{ state: string; failure_reason: string; attempts: number; n: number }>(
        `select state, failure_reason, attempts, count(*)::int as n from jobs group by 1, 2, 3`,
      );
      assert.deepEqual(jobs.rows, [
        { state: "failed", failure_reason: "max_attempts_exceeded", attempts: 1, n: total },
      ]);
      const calls = await c.db.query<{ n: number; open: number; dialed: number }>(
        `select count(*)::int as n, count(*) filter (where ended_at is null)::int as open,
           count(dialed_at)::int as dialed from calls`,
      );
      assert.deepEqual(calls.rows[0], { n: total, open: 0, dialed: total });
      // The live-call counters the claims read agree: nothing live is left counted.
      const counted = await c.db.query<{ n: number }>("select coalesce(sum(n), 0)::int as n from live_calls");
      assert.equal(counted.rows[0]?.n, 0);
      assert.ok(folded > 0, "the counters were written and folded while the dispatchers ran");
      assert.deepEqual(await attemptsDialedTwice(c.db), []);
      const leased = await c.db.query(
        "select 1 from jobs where lease_owner is not null or live_call_id is not null",
      );
      assert.equal(leased.rowCount, 0);
      // All three dispatchers took part.
      for (const k of carriers) assert.ok(k.placed > 0, `a dispatcher placed no call: ${report}`);
      process.stderr.write(`# concurrency: ${report}\n`);
    });
  });
}

if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("claims taken before the limit check (PostgreSQL)", () => {
    let c: ClusterApp;
    const pools: Db[] = [];

    before(async () => {
      c = await startClusterApp();
    });

    after(async () => {
      for (const p of pools) await p.close().catch(() => {});
      await c?.close();
    });

    test("two claims that fit alone but not together: one commits, the other is redone within the limit", async () => {
      const LIMIT = 10;
      const campaignId = await newCampaign(c.ctx, { MaxAttempts: 1, MaxConcurrentCalls: LIMIT }, "Race");
      await createJobs(c.ctx, campaignId, phoneJobs(20, 5000));
      await c.db.query("update jobs set next_call_at = now() - interval '1 second'");
      const [a, b, blocker] = [await openPool(c.url, 1), await openPool(c.url, 1), await openPool(c.url, 1)];
      pools.push(a, b, blocker);

      // Holding the organization's lock stops both claims right after they took their jobs, where
      // each counted nothing live (6 + 0 <= 10) and now waits to check the count under the lock.
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      const blocking = blocker.tx(async (q) => {
        await q.query("select id from organizations where id = $1 for no key update", [c.orgId]);
        await held;
      });
      const claim = (db: Db, workerId: string) =>
        claimDueJobs(db, { workerId, limit: 6, leaseSeconds: 30, orgMaxConcurrentCalls: 100 });
      const claims = [claim(a, "wrk_a"), claim(b, "wrk_b")];
      await waitFor(
        async () => {
          const r = await c.db.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'`,
          );
          return r.rows[0]?.n === 2;
        },
        10_000,
        "both claims to wait for the organization's lock",
      );
      release();
      await blocking;
      const taken = (await Promise.all(claims)).map((x) => x.length).sort((x, y) => x - y);

      // The first to get the lock commits its 6; the second sees 12 > 10, rolls back and claims
      // again with the lock taken first: 4 more, exactly up to the limit.
      assert.deepEqual(taken, [4, 6]);
      const live = await c.db.query<{
        calls: number;
        counted: number;
        in_progress: number;
        attempts: number;
      }>(
        `select (select count(*)::int from calls where ended_at is null) as calls,
           (select sum(n)::int from live_calls where campaign_id = $1) as counted,
           (select count(*)::int from jobs where state = 'in_progress') as in_progress,
           (select sum(attempts)::int from jobs) as attempts`,
        [campaignId],
      );
      assert.deepEqual(live.rows[0], { calls: LIMIT, counted: LIMIT, in_progress: LIMIT, attempts: LIMIT });
    });
  });
}
