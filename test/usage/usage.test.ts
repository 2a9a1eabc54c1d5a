import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parse } from "csv-parse/sync";
import {
  ANSWERS_SURVEY,
  jobEnded,
  newCampaign,
  newJob,
  simContact,
  startDispatchingApp,
  type TestApp,
} from "../helpers/app.ts";

const ceilSeconds = (fromIso: string, toIso: string) =>
  Math.ceil((Date.parse(toIso) - Date.parse(fromIso)) / 1000);

describe("usage and billing", () => {
  let t: TestApp;
  let start: string;
  let cmpA: string;
  let cmpB: string;
  const calls: any[] = [];
  before(async () => {
    t = await startDispatchingApp();
    start = (
      await t.database.db.query<{ now: Date }>("select now() - interval '1 second' as now")
    ).rows[0]!.now.toISOString();

    // Campaign A: a completed call, a completed test-job call, an unanswered call; no retries.
    cmpA = await newCampaign(t, { MaxAttempts: 1 });
    await simContact(t, "+14155550701", [ANSWERS_SURVEY]);
    await simContact(t, "+14155550702", [ANSWERS_SURVEY]);
    await simContact(t, "+14155550703", [{ Answer: "no_answer" }]);
    const jobs = [
      await newJob(t, cmpA, { PhoneNumber: "+14155550701" }),
      await newJob(t, cmpA, { PhoneNumber: "+14155550702", TestJob: true }),
      await newJob(t, cmpA, { PhoneNumber: "+14155550703" }),
    ];
    for (const j of jobs) {
      await jobEnded(t, j.Id);
      calls.push(...(await t.request("GET", `/v1/jobs/${j.Id}/calls`)).body.Items);
    }
    // Campaign B rejects inbound calls: a rejected call counts and bills nothing.
    cmpB = await newCampaign(t, {}, { InboundMode: "reject", PhoneNumbers: ["+14155550790"] });
    const rejected = await t.request("POST", "/v1/sim/calls", {
      From: "+14155550791",
      To: "+14155550790",
      Replies: ["hello?"],
    });
    assert.equal(rejected.status, 201, JSON.stringify(rejected.body));
    assert.equal(rejected.body.Status, "rejected");
    calls.push(rejected.body);
    // A claimed attempt that was never handed to the carrier is not usage.
    await t.database.db.query(
      `insert into calls (id, org_id, campaign_id, direction, status, started_at, ended_at, end_reason)
       values ('call_never_dialed', $1, $2, 'outbound', 'canceled', now(), now(), 'canceled')`,
      [t.orgId, cmpA],
    );
  });
  after(() => t.close());

  test("billing on real sim calls: connected seconds rounded up; ring time, unanswered and rejected bill 0", () => {
    assert.equal(calls.length, 4);
    const [human, testHuman, unanswered, rejected] = calls;
    for (const c of [human, testHuman]) {
      assert.equal(c.AnsweredBy, "human");
      assert.ok(c.BilledSeconds > 0, "an answered call bills its connected seconds");
      assert.equal(c.BilledSeconds, ceilSeconds(c.AnsweredAt, c.EndedAt));
      // 5 s of ringing before the answer are not billed.
      assert.equal(Date.parse(c.AnsweredAt) - Date.parse(c.StartedAt), 5000);
      assert.ok(c.BilledSeconds < ceilSeconds(c.StartedAt, c.EndedAt));
    }
    assert.equal(unanswered.Status, "no_answer");
    assert.equal(unanswered.BilledSeconds, 0);
    assert.equal(rejected.BilledSeconds, 0);
  });

  test("totals include test-job calls; TestJob* is their share", async () => {
    const [human, testHuman] = calls;
    const r = await t.request("GET", "/v1/usage");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      Calls: 4,
      BilledSeconds: human.BilledSeconds + testHuman.BilledSeconds,
      TestJobCalls: 1,
      TestJobBilledSeconds: testHuman.BilledSeconds,
      Groups: [],
    });
    // The same numbers straight from the calls' rows.
    const sum = await t.database.db.query<{ n: number; s: number }>(
      "select count(*)::int as n, sum(billed_seconds)::int as s from calls where dialed_at is not null or direction = 'inbound'",
    );
    assert.equal(r.body.Calls, sum.rows[0]?.n);
    assert.equal(r.body.BilledSeconds, sum.rows[0]?.s);
  });

  test("GroupBy=CampaignId, CampaignId, From and To", async () => {
    const [human, testHuman] = calls;
    const grouped = await t.request("GET", "/v1/usage?GroupBy=CampaignId");
    assert.equal(grouped.status, 200);
    assert.equal(grouped.body.Calls, 4);
    const groups = [
      {
        CampaignId: cmpA,
        Calls: 3,
        BilledSeconds: human.BilledSeconds + testHuman.BilledSeconds,
        TestJobCalls: 1,
        TestJobBilledSeconds: testHuman.BilledSeconds,
      },
      { CampaignId: cmpB, Calls: 1, BilledSeconds: 0, TestJobCalls: 0, TestJobBilledSeconds: 0 },
    ].sort((a, b) => (a.CampaignId < b.CampaignId ? -1 : 1));
    assert.deepEqual(grouped.body.Groups, groups);

    const onlyB = await t.request("GET", `/v1/usage?CampaignId=${cmpB}`);
    assert.deepEqual(onlyB.body, {
      Calls: 1,
      BilledSeconds: 0,
      TestJobCalls: 0,
      TestJobBilledSeconds: 0,
      Groups: [],
    });

    const later = new Date(Date.now() + 3600_000).toISOString();
    const inRange = await t.request("GET", `/v1/usage?From=${start}&To=${later}`);
    assert.equal(inRange.body.Calls, 4);
    const none = await t.request("GET", `/v1/usage?From=${later}`);
    assert.equal(none.body.Calls, 0);
    assert.equal(none.body.BilledSeconds, 0);
    const before = await t.request("GET", `/v1/usage?To=${start}`);
    assert.equal(before.body.Calls, 0);
    // [From, To): the first call, started exactly at `at`, counts from From=at and not up to To=at.
    const at = calls[0].StartedAt;
    const fromAt = await t.request("GET", `/v1/usage?CampaignId=${cmpA}&From=${at}`);
    assert.equal(fromAt.body.Calls, 3);
    const upTo = await t.request("GET", `/v1/usage?CampaignId=${cmpA}&To=${at}`);
    assert.equal(upTo.body.Calls, 0);
    assert.equal((await t.request("GET", `/v1/usage?From=${at}&To=${at}`)).status, 400);
  });

  test("usage.csv: a header, one total row, or one row per campaign", async () => {
    const [human, testHuman] = calls;
    const billed = human.BilledSeconds + testHuman.BilledSeconds;
    const total = await t.request("GET", "/v1/usage.csv");
    assert.equal(total.status, 200);
    assert.match(total.headers.get("content-type") ?? "", /^text\/csv/);
    assert.deepEqual(parse(total.body), [
      ["CampaignId", "Calls", "BilledSeconds", "TestJobCalls", "TestJobBilledSeconds"],
      ["", "4", String(billed), "1", String(testHuman.BilledSeconds)],
    ]);
    const grouped = parse((await t.request("GET", "/v1/usage.csv?GroupBy=CampaignId")).body) as string[][];
    assert.equal(grouped.length, 3);
    const byId = new Map(grouped.slice(1).map((r) => [r[0], r]));
    assert.deepEqual(byId.get(cmpA), [cmpA, "3", String(billed), "1", String(testHuman.BilledSeconds)]);
    assert.deepEqual(byId.get(cmpB), [cmpB, "1", "0", "0", "0"]);
    const one = parse((await t.request("GET", `/v1/usage.csv?CampaignId=${cmpB}`)).body);
    assert.deepEqual(one[1], [cmpB, "1", "0", "0", "0"]);
    const bad = await t.request("GET", "/v1/usage.csv?From=soon");
    assert.equal(bad.status, 400);
  });

  test("invalid queries answer 400; another organization sees none of it", async () => {
    for (const [q, path] of [
      ["From=yesterday", "/From"],
      ["To=2026-13-45T00:00:00Z", "/To"],
      // A day that does not exist is refused, not read as March 2.
      ["From=2026-02-30T00:00:00Z", "/From"],
      ["GroupBy=State", "/GroupBy"],
      ["From=2026-02-01T00:00:00Z&To=2026-01-01T00:00:00Z", "/To"],
      // Year 10000 in UTC: out of range, not a 500.
      ["To=9999-12-31T23:59:59-14:00", "/To"],
    ] as const) {
      const r = await t.request("GET", `/v1/usage?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(
        r.body.Error.Details.some((x: { Path: string }) => x.Path === path),
        `${q}: ${JSON.stringify(r.body)}`,
      );
    }
    const other = await t.newOrgKey("usage-other");
    const r = await t.request("GET", `/v1/usage?GroupBy=CampaignId&CampaignId=${cmpA}`, undefined, {
      key: other,
    });
    assert.deepEqual(r.body, {
      Calls: 0,
      BilledSeconds: 0,
      TestJobCalls: 0,
      TestJobBilledSeconds: 0,
      Groups: [],
    });
    assert.equal((await t.request("GET", "/v1/usage", undefined, { key: null })).status, 401);
  });
});
