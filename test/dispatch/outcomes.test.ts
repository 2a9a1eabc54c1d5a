import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jobEnded, newCampaign, startDispatchingApp, type TestApp, waitFor } from "../helpers/app.ts";

describe("dispatcher outcomes (sim carrier, unanswered calls)", () => {
  let t: TestApp;
  before(async () => {
    t = await startDispatchingApp();
  });
  after(() => t.close());

  const sim = (phone: string, answers: string[]) =>
    t.request("POST", "/v1/sim/contacts", {
      PhoneNumber: phone,
      Calls: answers.map((Answer) => ({ Answer })),
    });
  const job = async (cmp: string, body: Record<string, unknown>) =>
    (await t.request("POST", `/v1/campaigns/${cmp}/jobs`, body)).body;
  const ended = (id: string) => jobEnded(t, id, 20_000);
  const calls = async (id: string) => (await t.request("GET", `/v1/jobs/${id}/calls`)).body.Items;

  test("no answer is retried until MaxAttempts, then failed/max_attempts_exceeded", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 3 });
    await sim("+14155550201", ["no_answer", "busy", "failed"]);
    const j = await ended((await job(cmp, { PhoneNumber: "+14155550201" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    assert.equal(j.Attempts, 3);
    assert.equal(j.NextCallAt, null);
    const cs = await calls(j.Id);
    assert.deepEqual(
      cs.map((c: { Status: string }) => c.Status),
      ["no_answer", "busy", "failed"],
    );
    assert.deepEqual(
      cs.map((c: { EndReason: string }) => c.EndReason),
      ["no_answer", "busy", "carrier_failed"],
    );
    for (const c of cs) {
      assert.equal(c.BilledSeconds, 0);
      assert.equal(c.Direction, "outbound");
      assert.equal(c.To, "+14155550201");
      assert.equal(c.AnsweredBy, null);
    }
    // No answer rings 30 simulated seconds.
    assert.equal(Date.parse(cs[0].EndedAt) - Date.parse(cs[0].StartedAt), 30_000);
    assert.equal(
      j.FailureMessage,
      "3 attempts placed; MaxAttempts is 3. On the last one the carrier failed to connect it.",
    );
  });

  test("after a retry, the failure message counts the attempts since the retry and in all", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 1 });
    await sim("+14155550209", ["no_answer"]);
    const first = await ended((await job(cmp, { PhoneNumber: "+14155550209" })).Id);
    assert.equal(
      first.FailureMessage,
      "1 attempt placed; MaxAttempts is 1. On the last one nobody answered.",
    );
    assert.equal((await t.request("POST", `/v1/jobs/${first.Id}/retry`)).status, 200);
    await waitFor(async () => (await t.request("GET", `/v1/jobs/${first.Id}`)).body.State === "failed");
    const again = (await t.request("GET", `/v1/jobs/${first.Id}`)).body;
    assert.equal(again.Attempts, 2);
    assert.equal(
      again.FailureMessage,
      "1 attempt placed since the job was last retried (2 in all); MaxAttempts is 1. On the last one nobody answered.",
    );
  });

  test("misspelt fields of the simulated carrier's bodies are refused, not ignored", async () => {
    const contact = await t.request("POST", "/v1/sim/contacts", {
      PhoneNumber: "+14155550210",
      Calls: [{ Answer: "human", Reply: ["yes"] }],
    });
    assert.equal(contact.status, 400);
    assert.deepEqual(
      contact.body.Error.Details.map((d: { Path: string }) => d.Path),
      ["/Calls/0/Reply"],
    );
    const top = await t.request("POST", "/v1/sim/contacts", { Phone: "+14155550210", Calls: [] });
    assert.equal(top.status, 400);
    assert.ok(top.body.Error.Details.some((d: { Path: string }) => d.Path === "/Phone"));
    const inbound = await t.request("POST", "/v1/sim/calls", {
      From: "+14155550210",
      To: "+14155550211",
      Reply: ["hi"],
    });
    assert.equal(inbound.status, 400);
    assert.deepEqual(
      inbound.body.Error.Details.map((d: { Path: string }) => d.Path),
      ["/Reply"],
    );
  });

  test("an unanswered call the sim ends at once is written dialed and ended together, its events in order", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 2, RetryDelaySeconds: 0 });
    await sim("+14155550205", ["busy", "no_answer"]);
    const j = await ended((await job(cmp, { PhoneNumber: "+14155550205" })).Id);
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    const events = (await t.request("GET", `/v1/events?JobId=${j.Id}`)).body.Items;
    assert.deepEqual(
      events.map((e: { event: string }) => e.event),
      [
        "job.created",
        ...["job.dialing", "call.started", "call.ended", "job.scheduled"],
        ...["job.dialing", "call.started", "call.ended", "job.failed"],
      ],
    );
    const rows = await t.database.db.query<{
      dialed: boolean;
      ended: boolean;
      carrier: string;
      hour: number;
    }>(
      `select dialed_at is not null as dialed, ended_at is not null as ended, carrier_call_id as carrier,
         local_hour as hour
       from calls where job_id = $1 order by attempt`,
      [j.Id],
    );
    assert.equal(rows.rows.length, 2);
    for (const r of rows.rows) {
      assert.ok(r.dialed && r.ended);
      assert.match(r.carrier, /^sim-call_/);
      assert.ok(r.hour >= 0 && r.hour < 24);
    }
    // Both attempts count as placed calls in the analytics, the busy one at attempt 1.
    const a = (await t.request("GET", `/v1/campaigns/${cmp}/analytics`)).body;
    assert.equal(a.Calls.Total, 2);
    assert.deepEqual([a.Calls.ByAttempt["1"], a.Calls.ByAttempt["2"]], [1, 1]);
  });

  test("a number that does not exist fails the job at once", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 3 });
    await sim("+14155550202", ["invalid"]);
    const j = await ended((await job(cmp, { PhoneNumber: "+14155550202" })).Id);
    assert.equal(j.FailureReason, "invalid_phone_number");
    assert.equal(j.Attempts, 1);
    assert.equal((await calls(j.Id)).length, 1);
  });

  test("retries wait RetryDelaySeconds, moved into an open window", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 2, RetryDelaySeconds: 3600 });
    await sim("+14155550203", ["no_answer"]);
    const created = await job(cmp, { PhoneNumber: "+14155550203" });
    const j = await waitFor(async () => {
      const x = (await t.request("GET", `/v1/jobs/${created.Id}`)).body;
      return x.Attempts === 1 && x.State === "pending" ? x : undefined;
    });
    const delay = Date.parse(j.NextCallAt) - Date.parse((await calls(j.Id))[0].StartedAt);
    assert.ok(delay >= 3600_000 - 5_000 && delay <= 3600_000 + 60_000, `delay ${delay}`);
  });

  test("test jobs are called at once even when the campaign is paused, and never retried", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 5 });
    await t.request("POST", `/v1/campaigns/${cmp}/pause`);
    await sim("+14155550204", ["no_answer"]);
    const tj = await ended((await job(cmp, { PhoneNumber: "+14155550204", TestJob: true })).Id);
    assert.equal(tj.State, "failed");
    assert.equal(tj.FailureReason, "max_attempts_exceeded");
    assert.equal(tj.Attempts, 1);
    // A normal job of the paused campaign waits.
    const normal = await job(cmp, { PhoneNumber: "+14155550205" });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await t.request("GET", `/v1/jobs/${normal.Id}`)).body.Attempts, 0);
    await t.request("POST", `/v1/campaigns/${cmp}/resume`);
    const resumed = await waitFor(async () => {
      const x = (await t.request("GET", `/v1/jobs/${normal.Id}`)).body;
      return x.Attempts >= 1 ? x : undefined;
    });
    assert.ok(resumed.Attempts >= 1);
  });

  test("a job outside its calling window is not dialed, and its NextCallAt is the window's opening", async () => {
    const now = new Date();
    // A window that excludes the current UTC hour: open only 12 hours away.
    const h = (now.getUTCHours() + 12) % 24;
    const pad = (n: number) => String(n).padStart(2, "0");
    const cmp = await newCampaign(t, {
      TimeZone: "UTC",
      Windows: [
        {
          Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
          Start: `${pad(h)}:00`,
          End: `${pad(h)}:30`,
        },
      ],
    });
    const j = await job(cmp, { PhoneNumber: "+14155550206", TimeZone: "UTC" });
    const next = new Date(j.NextCallAt);
    assert.equal(next.getUTCHours(), h);
    assert.equal(next.getUTCMinutes(), 0);
    // Even if it is made due by hand, the claim checks the window and moves it back.
    await t.database.db.query("update jobs set next_call_at = now() - interval '1 minute' where id = $1", [
      j.Id,
    ]);
    const moved = await waitFor(async () => {
      const x = (await t.request("GET", `/v1/jobs/${j.Id}`)).body;
      return Date.parse(x.NextCallAt) > Date.now() ? x : undefined;
    });
    assert.equal(moved.Attempts, 0);
    assert.equal((await calls(j.Id)).length, 0);
  });

  test("cancel stops further calls; an opted-out number is never dialed", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 1 });
    await sim("+14155550207", ["no_answer"]);
    const j = await job(cmp, { PhoneNumber: "+14155550207" });
    await waitFor(async () =>
      (await t.request("GET", `/v1/jobs/${j.Id}`)).body.Attempts === 1 ? true : undefined,
    );
    await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
    await new Promise((r) => setTimeout(r, 1500));
    const after1 = (await t.request("GET", `/v1/jobs/${j.Id}`)).body;
    assert.equal(after1.State, "canceled");
    assert.equal(after1.Attempts, 1);
    await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550208" });
    const o = await job(cmp, { PhoneNumber: "+14155550208" });
    assert.equal(o.State, "failed");
    assert.equal((await calls(o.Id)).length, 0);
  });
});
