// End to end: inbound calls in the simulated carrier, routed by the campaign's InboundMode
// (contract section 7).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startDispatchingApp, type TestApp } from "../helpers/app.ts";
import {
  Api,
  assertAlternates,
  BYE,
  billedOf,
  INCOME_Q,
  INTRO,
  SIZE_Q,
  surveyCampaign,
} from "../helpers/conversation.ts";
import { CONCURRENT_TRANSACTIONS, uncommitted } from "../helpers/db.ts";

const texts = (call: { Transcript: Array<{ Text: string }> }) => call.Transcript.map((e) => e.Text);

describe("inbound calls end to end (sim carrier)", () => {
  let t: TestApp;
  let api: Api;
  before(async () => {
    t = await startDispatchingApp();
    api = new Api(t);
  });
  after(() => t.close());

  /** A paused campaign (no outbound calls) that owns `number` and routes inbound calls by `mode`. */
  const inboundCampaign = (number: string, mode: string, extra: Record<string, unknown> = {}) =>
    api.campaign(surveyCampaign({ Status: "paused", InboundMode: mode, PhoneNumbers: [number], ...extra }));

  const accepted = async (from: string, to: string, replies: string[]) => {
    const r = await api.inbound(from, to, replies);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.Direction, "inbound");
    assert.notEqual(r.body.Status, "rejected", JSON.stringify(r.body));
    assert.ok(r.body.JobId, JSON.stringify(r.body));
    return r.body;
  };
  const rejected = async (from: string, to: string, replies: string[] = ["hello"]) => {
    const r = await api.inbound(from, to, replies);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.Status, "rejected", JSON.stringify(r.body));
    assert.equal(r.body.JobId, null);
    return r.body;
  };

  test("reject: the caller hears InboundRejectMessage, the call bills nothing and is recorded", async () => {
    const cmp = await inboundCampaign("+14155550401", "reject", {
      InboundRejectMessage: "Sorry, this line takes no calls.",
    });
    const pending = await api.job(cmp.Id, { PhoneNumber: "+14155550501" });
    const c = await rejected("+14155550501", "+14155550401");
    assert.equal(c.Direction, "inbound");
    assert.equal(c.From, "+14155550501");
    assert.equal(c.To, "+14155550401");
    assert.equal(c.CampaignId, cmp.Id);
    assert.equal(c.BilledSeconds, 0);
    assert.equal(c.EndReason, "rejected");
    assert.equal(c.Transcript.length, 1);
    assert.deepEqual(
      { Role: c.Transcript[0].Role, Text: c.Transcript[0].Text },
      {
        Role: "agent",
        Text: "Sorry, this line takes no calls.",
      },
    );
    const ev = await t.database.db.query<{ event: string; job_id: string | null; campaign_id: string }>(
      "select event, job_id, campaign_id from events where call_id = $1",
      [c.Id],
    );
    assert.deepEqual(ev.rows, [{ event: "inbound.rejected", job_id: null, campaign_id: cmp.Id }]);
    // The job of that number is not touched.
    const j = await api.getJob(pending.Id);
    assert.equal(j.State, "pending");
    assert.equal(j.Attempts, 0);
    assert.equal((await api.calls(pending.Id)).length, 0);
  });

  test("reject is the default InboundMode, with a default message", async () => {
    const cmp = await api.campaign(surveyCampaign({ Status: "paused", PhoneNumbers: ["+14155550402"] }));
    assert.equal(cmp.InboundMode, "reject");
    assert.equal(typeof cmp.InboundRejectMessage, "string");
    const c = await rejected("+14155550502", "+14155550402");
    assert.equal(c.Transcript[0].Text, cmp.InboundRejectMessage);
  });

  test("404 when no campaign owns To (another organization's number included)", async () => {
    const r = await api.inbound("+14155550503", "+14155550499", ["hello"]);
    assert.equal(r.status, 404, JSON.stringify(r.body));
    assert.equal(r.body.Error.Code, "not_found");
    assert.match(r.body.Error.Message, /No campaign of this organization owns the number To/);
    assert.deepEqual(r.body.Error.Details, [{ Path: "/To", Message: "is not a number of any campaign." }]);
    await inboundCampaign("+14155550403", "create");
    const otherKey = await t.newOrgKey("other-org");
    const other = await t.request(
      "POST",
      "/v1/sim/calls",
      { From: "+14155550503", To: "+14155550403", Replies: ["hello"] },
      { key: otherKey },
    );
    assert.equal(other.status, 404, JSON.stringify(other.body));
  });

  test("lookup: a completed survey by inbound call completes a pending job, adding no attempts", async () => {
    const cmp = await inboundCampaign("+14155550404", "lookup");
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550504", ContactName: "Ivy" });
    const c = await accepted("+14155550504", "+14155550404", [
      "Hi, I missed a call from this number",
      "yes",
      "four",
      "30k to 60k",
    ]);
    assert.equal(c.JobId, job.Id);
    assert.equal(c.From, "+14155550504");
    assert.equal(c.To, "+14155550404");
    assert.equal(c.AnsweredBy, "human");
    assert.equal(c.EndReason, "completed");
    assert.ok(c.BilledSeconds > 0);
    assert.equal(c.BilledSeconds, billedOf(c));
    // The contact speaks first.
    assert.deepEqual(c.Transcript[0].Role, "contact");
    assert.equal(c.Transcript[0].Text, "Hi, I missed a call from this number");
    assert.ok(texts(c).includes(INTRO));
    assert.equal(texts(c).at(-1), BYE);
    assertAlternates(c.Transcript.slice(1));
    const j = await api.getJob(job.Id);
    assert.equal(j.State, "completed");
    assert.deepEqual(j.Result, { household_size: 4, income_band: "30k to 60k", notes: null });
    assert.equal(j.Attempts, 0);
    assert.equal(j.NextCallAt, null);
    const events = await api.events(job.Id);
    const resumed = events.find((e) => e.event === "job.resumed");
    assert.ok(resumed, events.map((e) => e.event).join(", "));
    assert.equal(resumed.properties.from_state, "pending");
    assert.ok(events.some((e) => e.event === "job.completed"));
  });

  test("a call with no outcome (the caller hangs up at once) leaves a completed job as it was", async () => {
    const cmp = await inboundCampaign("+14155550405", "lookup");
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550505" });
    await accepted("+14155550505", "+14155550405", ["hello", "yes", "2", "under 30k"]);
    const before = await api.getJob(job.Id);
    assert.equal(before.State, "completed");
    const c = await accepted("+14155550505", "+14155550405", []);
    assert.equal(c.JobId, job.Id);
    assert.deepEqual(c.Transcript, []);
    assert.equal(c.EndReason, "contact_hangup");
    const j = await api.getJob(job.Id);
    assert.equal(j.State, "completed");
    assert.deepEqual(j.Result, before.Result);
    assert.equal(j.FailureReason, null);
    assert.equal(j.EndedAt, before.EndedAt);
    assert.equal(j.Attempts, 0);
    assert.equal((await api.calls(job.Id)).length, 2);
  });

  test("a pending job that an inbound caller leaves unfinished stays pending, keeping the answers", async () => {
    const cmp = await inboundCampaign("+14155550406", "lookup");
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550506" });
    const c = await accepted("+14155550506", "+14155550406", ["hi", "yes", "five"]);
    assert.equal(c.EndReason, "contact_hangup");
    const j = await api.getJob(job.Id);
    assert.equal(j.State, "pending");
    assert.equal(j.FailureReason, null);
    assert.equal(j.Attempts, 0);
    assert.equal(j.Result?.household_size, 5);
    assert.ok(j.NextCallAt, "still due");
    // The next call resumes at the first question not answered.
    const again = await accepted("+14155550506", "+14155550406", ["me again", "over 60k"]);
    assert.ok(
      !texts(again).some((x) => x.includes(SIZE_Q) || x.includes(INTRO)),
      JSON.stringify(texts(again)),
    );
    assert.ok(texts(again).includes(INCOME_Q));
    const done = await api.getJob(job.Id);
    assert.equal(done.State, "completed");
    assert.deepEqual(done.Result, { household_size: 5, income_band: "over 60k", notes: null });
  });

  test("lookup: the latest updated job wins; failed, canceled and deleted jobs do not match", async () => {
    const cmp = await inboundCampaign("+14155550407", "lookup");
    const older = await api.job(cmp.Id, { PhoneNumber: "+14155550507" });
    const newer = await api.job(cmp.Id, { PhoneNumber: "+14155550507" });
    assert.equal((await accepted("+14155550507", "+14155550407", [])).JobId, newer.Id);
    const patched = await t.request("PATCH", `/v1/jobs/${older.Id}`, { ContactName: "Touched" });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal((await accepted("+14155550507", "+14155550407", [])).JobId, older.Id);

    // No job for the caller: rejected.
    await rejected("+14155550517", "+14155550407");
    // A failed job (the caller refuses on an inbound call) does not match under lookup.
    const refusing = await api.job(cmp.Id, { PhoneNumber: "+14155550508" });
    await accepted("+14155550508", "+14155550407", ["I'm not interested"]);
    assert.equal((await api.getJob(refusing.Id)).FailureReason, "contact_refused");
    await rejected("+14155550508", "+14155550407");
    // Canceled and deleted jobs never match.
    const canceled = await api.job(cmp.Id, { PhoneNumber: "+14155550509" });
    assert.equal((await t.request("POST", `/v1/jobs/${canceled.Id}/cancel`)).status, 200);
    await rejected("+14155550509", "+14155550407");
    const deleted = await api.job(cmp.Id, { PhoneNumber: "+14155550510" });
    assert.equal((await t.request("DELETE", `/v1/jobs/${deleted.Id}/pii`)).status, 200);
    await rejected("+14155550510", "+14155550407");
  });

  test("lookup_failed: failed jobs match too; canceled ones still do not", async () => {
    const cmp = await inboundCampaign("+14155550408", "lookup_failed");
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550511" });
    await accepted("+14155550511", "+14155550408", ["sorry, wrong number"]);
    const failed = await api.getJob(job.Id);
    assert.equal(failed.State, "failed");
    assert.equal(failed.FailureReason, "wrong_contact");
    // The failed job is resumed and can now be completed.
    const c = await accepted("+14155550511", "+14155550408", ["it's me after all", "yes", "1", "under 30k"]);
    assert.equal(c.JobId, job.Id);
    const j = await api.getJob(job.Id);
    assert.equal(j.State, "completed");
    assert.equal(j.FailureReason, null);
    assert.deepEqual(j.Result, { household_size: 1, income_band: "under 30k", notes: null });
    const events = await api.events(job.Id);
    assert.ok(events.some((e) => e.event === "job.resumed" && e.properties.from_state === "failed"));

    const canceled = await api.job(cmp.Id, { PhoneNumber: "+14155550512" });
    await t.request("POST", `/v1/jobs/${canceled.Id}/cancel`);
    await rejected("+14155550512", "+14155550408");
    await rejected("+14155550513", "+14155550408");
  });

  test("create_if_not_exists: resumes a matching job, else creates one with the caller's number", async () => {
    const cmp = await inboundCampaign("+14155550409", "create_if_not_exists");
    const existing = await api.job(cmp.Id, { PhoneNumber: "+14155550514" });
    assert.equal((await accepted("+14155550514", "+14155550409", [])).JobId, existing.Id);

    const c = await accepted("+14155550515", "+14155550409", ["hi there", "yes", "3", "over 60k"]);
    const created = await api.getJob(c.JobId);
    assert.equal(created.PhoneNumber, "+14155550515");
    assert.equal(created.CampaignId, cmp.Id);
    assert.equal(created.State, "completed");
    assert.equal(created.Attempts, 0);
    assert.deepEqual(created.Result, { household_size: 3, income_band: "over 60k", notes: null });
    // A completed job matches the next call.
    assert.equal((await accepted("+14155550515", "+14155550409", [])).JobId, created.Id);

    // A failed job does not match: a new job is created instead.
    const failing = await api.job(cmp.Id, { PhoneNumber: "+14155550516" });
    await accepted("+14155550516", "+14155550409", ["not interested"]);
    assert.equal((await api.getJob(failing.Id)).State, "failed");
    const fresh = await accepted("+14155550516", "+14155550409", []);
    assert.notEqual(fresh.JobId, failing.Id);
    assert.equal((await api.getJob(fresh.JobId)).PhoneNumber, "+14155550516");
  });

  test(
    "a matching job another transaction holds for a moment is waited for, not skipped",
    CONCURRENT_TRANSACTIONS,
    async () => {
      for (const [mode, number, phone] of [
        ["lookup", "+14155550415", "+14155550523"],
        ["create_if_not_exists", "+14155550416", "+14155550524"],
      ] as const) {
        const cmp = await inboundCampaign(number, mode);
        const existing = await api.job(cmp.Id, { PhoneNumber: phone });
        // As a claim that leaves the job waiting, or a PATCH of the job, holds its row.
        const holder = await uncommitted(t.database.url ?? "", [
          ["select 1 from jobs where id = $1 for update", [existing.Id]],
        ]);
        const calling = accepted(phone, number, []);
        await new Promise((r) => setTimeout(r, 300));
        await holder.commit();
        assert.equal((await calling).JobId, existing.Id, mode);
        const jobs = await t.request("GET", `/v1/jobs?CampaignId=${cmp.Id}`);
        assert.equal(jobs.body.Items.length, 1, mode);
      }
    },
  );

  test("create: every call creates a new job", async () => {
    const cmp = await inboundCampaign("+14155550410", "create");
    const existing = await api.job(cmp.Id, { PhoneNumber: "+14155550518" });
    const a = await accepted("+14155550518", "+14155550410", ["hello", "yes", "2", "under 30k"]);
    const b = await accepted("+14155550518", "+14155550410", []);
    assert.notEqual(a.JobId, existing.Id);
    assert.notEqual(b.JobId, existing.Id);
    assert.notEqual(a.JobId, b.JobId);
    assert.equal((await api.getJob(a.JobId)).State, "completed");
    // The second job starts from scratch: the first call's answers are not its own.
    const second = await api.getJob(b.JobId);
    assert.ok(second.Result === null || second.Result.household_size === null, JSON.stringify(second));
    assert.equal((await api.getJob(existing.Id)).State, "pending");
    const list = await t.request("GET", `/v1/jobs?CampaignId=${cmp.Id}&PhoneNumber=%2B14155550518`);
    assert.equal(list.body.Items.length, 3, JSON.stringify(list.body));
  });

  test("the caller's first words are checked for intents: 'please stop calling me' opts out", async () => {
    const cmp = await inboundCampaign("+14155550411", "lookup");
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550519" });
    const c = await accepted("+14155550519", "+14155550411", ["please stop calling me"]);
    assert.equal(c.Transcript[0].Role, "contact");
    assert.equal(c.Transcript.at(-1).Role, "agent");
    assert.ok(!texts(c).includes(INTRO), "the agent closes instead of asking");
    const j = await api.getJob(job.Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "opted_out");
    assert.equal(j.Attempts, 0);
    const list = (await t.request("GET", "/v1/opt-outs")).body.Items.map(
      (o: { PhoneNumber: string }) => o.PhoneNumber,
    );
    assert.ok(list.includes("+14155550519"));
  });

  test("a long turn is heard whole, an opt-out at its end included; turns over 2,000 characters are refused", async () => {
    await inboundCampaign("+14155550471", "create");
    const long = `${"la ".repeat(600)}please stop calling me`;
    const c = await accepted("+14155550571", "+14155550471", [long]);
    assert.equal(c.Transcript[0].Text, long);
    assert.equal((await api.getJob(c.JobId)).FailureReason, "opted_out");
    const tooLong = await api.inbound("+14155550571", "+14155550471", ["x".repeat(2001)]);
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.Error.Details[0].Path, "/Replies");
    const registered = await t.request("POST", "/v1/sim/contacts", {
      PhoneNumber: "+14155550572",
      Calls: [{ Answer: "human", Replies: Array.from({ length: 1001 }, () => "yes") }],
    });
    assert.equal(registered.status, 400);
    assert.equal(registered.body.Error.Details[0].Path, "/Calls/0/Replies");
  });

  test("Flow.InboundStart is where inbound calls start", async () => {
    await inboundCampaign("+14155550412", "create", {
      agent: { FirstMessage: null },
      flow: { inboundStart: "welcome" },
    });
    const c = await accepted("+14155550520", "+14155550412", ["hello", "two", "over 60k"]);
    assert.deepEqual(texts(c), [
      "hello",
      "Thanks for calling us back.",
      SIZE_Q,
      "two",
      INCOME_Q,
      "over 60k",
      BYE,
    ]);
    const j = await api.getJob(c.JobId);
    assert.equal(j.State, "completed");
    assert.deepEqual(j.Result, { household_size: 2, income_band: "over 60k", notes: null });
  });

  test("a paused campaign still takes inbound calls", async () => {
    const cmp = await inboundCampaign("+14155550413", "create");
    assert.equal(cmp.Status, "paused");
    const c = await accepted("+14155550521", "+14155550413", []);
    assert.equal(c.CampaignId, cmp.Id);
  });

  test("an archived campaign rejects inbound calls to its number", {}, async () => {
    const cmp = await inboundCampaign("+14155550414", "create");
    const archived = await t.request("PATCH", `/v1/campaigns/${cmp.Id}`, { Status: "archived" });
    assert.equal(archived.status, 200, JSON.stringify(archived.body));
    const r = await api.inbound("+14155550522", "+14155550414", ["hello"]);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.Status, "rejected");
    assert.equal(r.body.JobId, null);
    assert.equal(r.body.BilledSeconds, 0);
  });
});
