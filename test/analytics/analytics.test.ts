import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  compactAnalytics,
  compactCampaignAnalytics,
  toCampaignAnalytics,
} from "../../src/analytics/index.ts";
import { FAILURE_REASONS, JOB_STATES } from "../../src/domain/jobStates.ts";
import {
  ANSWERS_SURVEY,
  jobEnded,
  newCampaign,
  newJob,
  simContact,
  startDispatchingApp,
  type TestApp,
} from "../helpers/app.ts";
import { analytics, assertCountersMatch, callsOf, expectedLocalHour } from "./support.ts";

const HOURS = Array.from({ length: 24 }, (_, h) => String(h));
const zeros = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0]));

const EMPTY = {
  Jobs: {
    Total: 0,
    ByState: zeros(JOB_STATES),
    ByFailureReason: zeros(FAILURE_REASONS),
    ObjectiveMetRate: null,
  },
  Calls: {
    Total: 0,
    Answered: 0,
    AnswerRate: 0,
    AverageDurationSeconds: 0,
    ByLocalHour: zeros(HOURS),
    ByAttempt: {},
  },
};

describe("campaign analytics", () => {
  let t: TestApp;
  before(async () => {
    t = await startDispatchingApp();
  });
  after(() => t.close());

  test("a new campaign: every key present, zeros, ObjectiveMetRate null", async () => {
    const cmp = await newCampaign(t);
    const a = await analytics(t, cmp);
    assert.deepEqual(a, EMPTY);
    assert.deepEqual(Object.keys(a.Jobs.ByState), [...JOB_STATES]);
    assert.deepEqual(Object.keys(a.Jobs.ByFailureReason), [...FAILURE_REASONS]);
    assert.deepEqual(Object.keys(a.Calls.ByLocalHour), HOURS);
  });

  test("another organization's campaign answers 404, and its figures are its own", async () => {
    const mine = await newCampaign(t);
    await newJob(t, mine, { PhoneNumber: "+14155550150" });
    const otherKey = await t.newOrgKey("globex");
    const theirs = await newCampaign(t, {}, {}, otherKey);
    for (const [id, key] of [
      [mine, otherKey],
      [theirs, t.key],
      ["cmp_doesnotexist", t.key],
    ] as const) {
      const r = await t.request("GET", `/v1/campaigns/${id}/analytics`, undefined, { key });
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.Error.Code, "not_found");
    }
    assert.equal(
      (await t.request("GET", `/v1/campaigns/${mine}/analytics`, undefined, { key: null })).status,
      401,
    );
    assert.deepEqual(await analytics(t, theirs, otherKey), EMPTY);
    assert.equal((await analytics(t, mine)).Jobs.Total, 1);
  });

  test("test jobs are left out; a deleted job counts under its earlier state; ObjectiveMetRate", async () => {
    // Paused: the normal jobs stay pending (test jobs are still called, and still left out).
    const cmp = await newCampaign(t);
    await t.request("POST", `/v1/campaigns/${cmp}/pause`);
    const job = (phone: string, extra: Record<string, unknown> = {}) =>
      newJob(t, cmp, { PhoneNumber: phone, ...extra });
    const canceledThenDeleted = await job("+14155550301");
    const pendingThenDeleted = await job("+14155550302");
    const optedOutThenDeleted = await job("+14155550303");
    const pending1 = await job("+14155550305");
    const pending2 = await job("+14155550306");
    const test1 = await job("+14155550311", { TestJob: true });
    const test2 = await job("+14155550312", { TestJob: true });

    assert.equal((await t.request("POST", `/v1/jobs/${canceledThenDeleted.Id}/cancel`)).status, 200);
    assert.equal((await t.request("DELETE", `/v1/jobs/${canceledThenDeleted.Id}/pii`)).status, 200);
    // A pending job is canceled first, then deleted: it counts as canceled.
    assert.equal((await t.request("DELETE", `/v1/jobs/${pendingThenDeleted.Id}/pii`)).status, 200);
    assert.equal((await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550303" })).status, 201);
    assert.equal((await t.request("DELETE", `/v1/jobs/${optedOutThenDeleted.Id}/pii`)).status, 200);
    // Created for a number on the opt-out list: failed/opted_out at once.
    const optedOutAtOnce = await job("+14155550303");
    assert.equal(optedOutAtOnce.State, "failed");
    await t.request("POST", `/v1/jobs/${test1.Id}/cancel`);
    await t.request("DELETE", `/v1/jobs/${test2.Id}/pii`);

    const a = await analytics(t, cmp);
    assert.deepEqual(a.Jobs, {
      Total: 6,
      ByState: { ...zeros(JOB_STATES), pending: 2, canceled: 2, failed: 2 },
      ByFailureReason: { ...zeros(FAILURE_REASONS), opted_out: 2 },
      ObjectiveMetRate: null,
    });
    assert.deepEqual(a.Calls, EMPTY.Calls, "the test jobs' calls are left out");
    const states = await t.database.db.query<{ state: string; n: number }>(
      "select state, count(*)::int as n from jobs where campaign_id = $1 and not test_job group by 1 order by 1",
      [cmp],
    );
    assert.deepEqual(
      states.rows.map((r) => [r.state, r.n]),
      [
        ["deleted", 3],
        ["failed", 1],
        ["pending", 2],
      ],
    );

    // Judged jobs (set directly: the flow campaign has no objective prompt): 2 met of 3; a judged
    // test job and a deleted job keep counting as they are.
    const judge = (ids: string[], met: boolean) =>
      t.database.db.query("update jobs set objective_met = $2 where id = any($1::text[])", [ids, met]);
    await judge([pending1.Id, optedOutThenDeleted.Id], true);
    await judge([pending2.Id], false);
    await judge([test1.Id, test2.Id], false);
    const judged = await analytics(t, cmp);
    assert.equal(judged.Jobs.ObjectiveMetRate, 2 / 3);
    assert.equal(judged.Jobs.Total, 6);
    await assertCountersMatch(t.database.db, t.orgId, cmp, "jobs");
  });

  test("calls from real sim calls: answer rate, duration, by attempt, by the contact's local hour", async () => {
    const cmp = await newCampaign(
      t,
      { MaxAttempts: 3 },
      { InboundMode: "lookup", PhoneNumbers: ["+14155550399"] },
    );
    // Zones: a toll-free number's (every US zone: the campaign's New York among them, not Adak, the
    // first by name), the number's (Paris), the job's TimeZone (Tokyo), none known for +800 (the
    // campaign's New York).
    const contacts = [
      { phone: "+18005550401", calls: [ANSWERS_SURVEY], extra: {} },
      { phone: "+33612345601", calls: [{ Answer: "no_answer" }, ANSWERS_SURVEY], extra: {} },
      {
        phone: "+80012345678",
        calls: [{ Answer: "busy" }, { Answer: "voicemail" }, { Answer: "no_answer" }],
        extra: {},
      },
      { phone: "+14155550404", calls: [ANSWERS_SURVEY], extra: { TimeZone: "Asia/Tokyo" } },
      { phone: "+14155550405", calls: [ANSWERS_SURVEY], extra: { TestJob: true } },
    ];
    const jobs: any[] = [];
    for (const c of contacts) {
      await simContact(t, c.phone, c.calls);
      jobs.push(await newJob(t, cmp, { PhoneNumber: c.phone, ...c.extra }));
    }
    for (const j of jobs) await jobEnded(t, j.Id);
    // An accepted inbound call (the toll-free contact calls back), and a rejected one (unknown caller).
    const inbound = await t.request("POST", "/v1/sim/calls", {
      From: "+18005550401",
      To: "+14155550399",
      Replies: ["hi, you called me", "yes", "4"],
    });
    assert.equal(inbound.status, 201, JSON.stringify(inbound.body));
    assert.equal(inbound.body.JobId, jobs[0].Id);
    await jobEnded(t, jobs[0].Id);
    const rejected = await t.request("POST", "/v1/sim/calls", {
      From: "+14155550499",
      To: "+14155550399",
      Replies: ["hello?"],
    });
    assert.equal(rejected.body.Status, "rejected");

    // What the calls say, computed here from the API's calls.
    const expected = { total: 0, answered: 0, connected: 0, duration: 0 };
    const byHour = zeros(HOURS) as Record<string, number>;
    const byAttempt: Record<string, number> = {};
    for (const [i, j] of jobs.entries()) {
      if (j.TestJob) continue;
      const cs = (await callsOf(t, j.Id)).sort((a, b) => (a.Id < b.Id ? -1 : 1));
      let attempt = 0;
      for (const c of cs) {
        expected.total++;
        if (c.AnsweredBy === "human") expected.answered++;
        if (c.AnsweredAt !== null) {
          expected.connected++;
          expected.duration += c.DurationSeconds;
        }
        const h = String(expectedLocalHour(c, j, contacts[i]!.phone));
        byHour[h] = (byHour[h] ?? 0) + 1;
        if (c.Direction === "outbound") {
          attempt++;
          byAttempt[String(attempt)] = (byAttempt[String(attempt)] ?? 0) + 1;
        }
      }
    }
    assert.equal(expected.total, 8, "7 outbound calls and 1 accepted inbound call");
    assert.equal(expected.answered, 4);
    assert.deepEqual(byAttempt, { "1": 4, "2": 2, "3": 1 });

    const a = await analytics(t, cmp);
    assert.equal(a.Jobs.Total, 4);
    assert.equal(a.Jobs.ByState.completed, 3);
    assert.equal(a.Jobs.ByState.failed, 1);
    assert.equal(a.Jobs.ByFailureReason.max_attempts_exceeded, 1);
    assert.deepEqual(a.Calls, {
      Total: 8,
      Answered: 4,
      AnswerRate: 4 / 8,
      AverageDurationSeconds: expected.duration / expected.connected,
      ByLocalHour: byHour,
      ByAttempt: byAttempt,
    });
    assert.equal(expected.connected, 5, "4 human calls and a voicemail");
    assert.ok(a.Calls.AverageDurationSeconds > 0);
    await assertCountersMatch(t.database.db, t.orgId, cmp, "calls");

    // Compaction folds the delta rows and changes no figure.
    const rows = () =>
      t.database.db.query<{ n: number }>(
        `select (select count(*) from analytics_job_deltas where campaign_id = $1)
           + (select count(*) from analytics_call_deltas where campaign_id = $1) as n`,
        [cmp],
      );
    const before = Number((await rows()).rows[0]!.n);
    assert.equal(await compactCampaignAnalytics(t.database.db, cmp), true);
    const afterRows = Number((await rows()).rows[0]!.n);
    assert.ok(afterRows < before, `${afterRows} rows after compaction, ${before} before`);
    assert.deepEqual(await analytics(t, cmp), a);
    const all = await compactAnalytics(t.database.db);
    assert.ok(all.compacted >= 1);
    assert.deepEqual(await analytics(t, cmp), a);
    await assertCountersMatch(t.database.db, t.orgId, cmp, "after compaction");
  });

  test("the response from counters: rates and attempts", () => {
    const a = toCampaignAnalytics({
      jobs: [
        { state: "completed", failure_reason: null, objective_met: true, jobs: 3 },
        { state: "failed", failure_reason: "campaign_objective_missed", objective_met: false, jobs: 1 },
        { state: "failed", failure_reason: "wrong_contact", objective_met: null, jobs: 2 },
        { state: "pending", failure_reason: null, objective_met: null, jobs: 0 },
      ],
      calls: [
        { attempt: 1, local_hour: 9, calls: 5, answered: 2, connected: 3, duration_seconds: 90 },
        { attempt: 3, local_hour: 23, calls: 1, answered: 1, connected: 1, duration_seconds: 30 },
        { attempt: null, local_hour: 0, calls: 2, answered: 2, connected: 2, duration_seconds: 0 },
      ],
      deltaRows: 3,
    });
    assert.equal(a.Jobs.Total, 6);
    assert.equal(a.Jobs.ObjectiveMetRate, 3 / 4);
    assert.equal(a.Jobs.ByFailureReason.campaign_objective_missed, 1);
    assert.equal(a.Jobs.ByFailureReason.wrong_contact, 2);
    assert.equal(a.Calls.Total, 8);
    assert.equal(a.Calls.Answered, 5);
    assert.equal(a.Calls.AnswerRate, 5 / 8);
    assert.equal(a.Calls.AverageDurationSeconds, 120 / 6);
    assert.deepEqual(a.Calls.ByAttempt, { "1": 5, "2": 0, "3": 1 });
    assert.equal(a.Calls.ByLocalHour["9"], 5);
    assert.equal(a.Calls.ByLocalHour["23"], 1);
    assert.equal(a.Calls.ByLocalHour["0"], 2);
  });
});
