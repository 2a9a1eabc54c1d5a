import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { compactAnalytics } from "../../src/analytics/index.ts";
import { contactZones, localParts } from "../../src/schedule/index.ts";
import {
  ANSWERS_SURVEY,
  newCampaign,
  type SimCall,
  simContact,
  startDispatchingApp,
  type TestApp,
  waitFor,
} from "../helpers/app.ts";
import { analytics, assertCountersMatch, SCHEDULE_ZONE } from "./support.ts";

/** mulberry32: a small seeded generator, so that a failing run can be replayed (ANALYTICS_SEED). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.ANALYTICS_SEED ?? Date.now() % 1_000_000);
const JOBS = 90;
const STEPS = 70;

const BEHAVIOURS: SimCall[][] = [
  [ANSWERS_SURVEY],
  [{ Answer: "no_answer" }, ANSWERS_SURVEY],
  [{ Answer: "no_answer" }],
  [{ Answer: "busy" }, { Answer: "voicemail" }, { Answer: "failed" }],
  [{ Answer: "voicemail" }],
  [{ Answer: "invalid" }],
  [{ Answer: "human", Replies: ["sorry, you have the wrong number"] }],
  [{ Answer: "human", Replies: ["no thanks, I'm not interested"] }],
  [{ Answer: "human", Replies: ["please stop calling me"] }],
  [{ Answer: "human", Replies: ["I'm busy right now, call me back later"] }, ANSWERS_SURVEY],
  [{ Answer: "human", Replies: ["yes"] }, ANSWERS_SURVEY],
  [{ Answer: "human", Replies: [] }],
];

describe(`analytics counters equal a direct count after random transitions (seed ${SEED})`, () => {
  let t: TestApp;
  const random = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  /** Every job created: its campaign, number and TimeZone (the number is erased by PII deletion). */
  const jobs = new Map<string, { campaign: string; phone: string; timeZone: string | null; test: boolean }>();

  before(async () => {
    t = await startDispatchingApp({ COBBERY_DISPATCH_POLL_MS: "10" });
  });
  after(() => t.close());

  test("random jobs, calls, cancels, retries, opt-outs, PII deletions, inbound calls, compactions", async (ctx) => {
    const a = await newCampaign(
      t,
      { MaxAttempts: 3, MaxCallbacks: 1 },
      { InboundMode: "lookup_failed", PhoneNumbers: ["+14155550999"] },
    );
    const b = await newCampaign(t, { MaxAttempts: 2 });
    const numbers = [
      ...Array.from({ length: 12 }, (_, i) => `+1415555${String(1000 + i)}`),
      ...Array.from({ length: 6 }, (_, i) => `+1212555${String(2000 + i)}`),
      ...Array.from({ length: 6 }, (_, i) => `+336123456${String(10 + i)}`),
      ...Array.from({ length: 4 }, (_, i) => `+4479111234${String(50 + i)}`),
      ...Array.from({ length: 4 }, (_, i) => `+81801234567${i}`),
      "+80012345678",
    ];
    for (const phone of numbers) await simContact(t, phone, pick(BEHAVIOURS));

    const createSome = async (n: number) => {
      const campaign = random() < 0.75 ? a : b;
      const inputs = Array.from({ length: n }, () => ({
        PhoneNumber: pick(numbers),
        TestJob: random() < 0.15,
        TimeZone: random() < 0.2 ? pick(["Asia/Tokyo", "Europe/Berlin", "Australia/Sydney"]) : null,
      }));
      const r = await t.request("POST", `/v1/campaigns/${campaign}/jobs/batch`, { Jobs: inputs });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const j of r.body.Items)
        jobs.set(j.Id, { campaign, phone: j.PhoneNumber, timeZone: j.TimeZone, test: j.TestJob });
    };
    const anyJob = () => pick([...jobs.keys()]);

    for (let created = 0; created < JOBS; created += 15) await createSome(15);
    for (let step = 0; step < STEPS; step++) {
      const action = Math.floor(random() * 12);
      const id = anyJob();
      switch (action) {
        case 0:
          await t.request("POST", `/v1/jobs/${id}/cancel`);
          break;
        case 1:
          await t.request("POST", `/v1/jobs/${id}/retry`);
          break;
        case 2:
          await t.request("POST", "/v1/opt-outs", { PhoneNumber: jobs.get(id)!.phone });
          break;
        case 3:
          await t.request("DELETE", `/v1/jobs/${id}/pii`);
          break;
        case 4: {
          // A contact calls back: resumes one of its jobs of campaign a, or is rejected.
          const from = random() < 0.8 ? jobs.get(id)!.phone : "+14155550998";
          const r = await t.request("POST", "/v1/sim/calls", {
            From: from,
            To: "+14155550999",
            Replies: pick([["yes", "2"], ["hello"], ["please stop calling me"], ["call me back later"]]),
          });
          assert.equal(r.status, 201, JSON.stringify(r.body));
          break;
        }
        case 5:
          await t.database.db.query("update jobs set objective_met = $2 where id = $1", [id, random() < 0.6]);
          break;
        case 6:
          await t.request("PATCH", `/v1/jobs/${id}`, { Metadata: { step } });
          break;
        case 7:
          await compactAnalytics(t.database.db);
          break;
        case 8:
          await assertCountersMatch(t.database.db, t.orgId, a, `campaign a, step ${step}`);
          break;
        case 9:
          await createSome(5);
          break;
        case 10:
          if (random() < 0.3)
            await t.request("DELETE", `/v1/opt-outs/${encodeURIComponent(jobs.get(id)!.phone)}`);
          break;
        default:
          await new Promise((r) => setTimeout(r, 30));
      }
    }
    // A bulk cancel and a bulk PII deletion of campaign b.
    await t.request("POST", `/v1/campaigns/${b}/jobs/cancel`);
    await t.request("DELETE", `/v1/campaigns/${b}/pii`);

    await waitFor(
      async () => {
        const r = await t.database.db.query<{ n: number }>(
          "select count(*)::int as n from jobs where state in ('pending', 'in_progress')",
        );
        return r.rows[0]!.n === 0;
      },
      90_000,
      "every job to end",
    );
    for (const [name, cmp] of [
      ["a", a],
      ["b", b],
    ] as const) {
      await assertCountersMatch(t.database.db, t.orgId, cmp, `campaign ${name}, at the end`);
    }
    const totals = await analytics(t, a);
    assert.ok(totals.Jobs.Total > 0 && totals.Calls.Total > 0, JSON.stringify(totals));
    const mix = await t.database.db.query<{ what: string; n: number }>(
      `select 'job ' || state || coalesce('/' || state_before_deletion, '') || coalesce('/' || failure_reason, '') as what,
         count(*)::int as n from jobs group by 1
       union all
       select 'call ' || direction || ' ' || status, count(*)::int from calls group by 1
       order by 1`,
    );
    ctx.diagnostic(mix.rows.map((r) => `${r.what}: ${r.n}`).join(", "));

    // Every counted call's local hour, recomputed here with src/schedule (Intl), not the database.
    const calls = await t.database.db.query<{
      job_id: string;
      direction: string;
      at: Date;
      local_hour: number | null;
    }>(
      `select job_id, direction, coalesce(dialed_at, started_at) as at, local_hour from calls
       where job_id is not null and not test_job and (dialed_at is not null or direction = 'inbound')`,
    );
    assert.ok(calls.rows.length > 20, `${calls.rows.length} calls`);
    for (const c of calls.rows) {
      const j = jobs.get(c.job_id);
      if (!j) continue; // a job created by an inbound call (not in this campaign's modes)
      const zone = contactZones({
        jobTimeZone: j.timeZone,
        phoneNumber: j.phone,
        scheduleTimeZone: SCHEDULE_ZONE,
      })[0]!;
      assert.equal(
        c.local_hour,
        localParts(zone, c.at).hour,
        `local hour of a call of ${c.job_id} (${zone})`,
      );
    }

    // Writes the application never makes still keep the counters right: deletes, a job moved to
    // another campaign, a changed test flag.
    const [x, y, z] = [...jobs.keys()].filter((id) => !jobs.get(id)!.test);
    await t.database.db.query("delete from calls where job_id = $1", [x]);
    await t.database.db.query("delete from jobs where id = $1", [x]);
    await t.database.db.query("update jobs set campaign_id = $2 where id = $1", [
      y,
      jobs.get(y!)!.campaign === a ? b : a,
    ]);
    await t.database.db.query("update calls set campaign_id = $2 where job_id = $1", [
      y,
      jobs.get(y!)!.campaign === a ? b : a,
    ]);
    await t.database.db.query("update jobs set test_job = true where id = $1", [z]);
    await t.database.db.query("update calls set test_job = true where job_id = $1", [z]);
    await assertCountersMatch(t.database.db, t.orgId, a, "campaign a, after direct writes");
    await assertCountersMatch(t.database.db, t.orgId, b, "campaign b, after direct writes");
    await compactAnalytics(t.database.db);
    await assertCountersMatch(t.database.db, t.orgId, a, "campaign a, compacted");

    // TRUNCATE fires no delete trigger: its own trigger empties the counters.
    await t.database.db.query("truncate calls, jobs cascade");
    const empty = await analytics(t, a);
    assert.equal(empty.Jobs.Total, 0);
    assert.equal(empty.Calls.Total, 0);
    await assertCountersMatch(t.database.db, t.orgId, a, "after truncate");
  });
});
