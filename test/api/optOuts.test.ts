import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";

describe("opt-outs", () => {
  let t: TestApp;
  let campaignId: string;
  before(async () => {
    t = await startTestApp();
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  after(() => t.close());

  test("adding a number ends its waiting jobs in every campaign; 201 then 200", async () => {
    const other = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    const a = (await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550170" }))
      .body;
    const b = (
      await t.request("POST", `/v1/campaigns/${other}/jobs`, { PhoneNumber: "+14155550170", TestJob: true })
    ).body;
    const done = (
      await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550170" })
    ).body;
    await t.request("POST", `/v1/jobs/${done.Id}/cancel`);
    const unrelated = (
      await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550171" })
    ).body;

    const r = await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550170" });
    assert.equal(r.status, 201);
    assert.equal(r.body.PhoneNumber, "+14155550170");
    for (const j of [a, b]) {
      const got = (await t.request("GET", `/v1/jobs/${j.Id}`)).body;
      assert.equal(got.State, "failed");
      assert.equal(got.FailureReason, "opted_out");
      assert.equal(got.NextCallAt, null);
    }
    assert.equal(
      (await t.request("GET", `/v1/jobs/${done.Id}`)).body.State,
      "canceled",
      "ended jobs keep their state",
    );
    assert.equal((await t.request("GET", `/v1/jobs/${unrelated.Id}`)).body.State, "pending");
    const again = await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550170" });
    assert.equal(again.status, 200);
    const events = await t.database.db.query<{ event: string; properties: { failure_reason?: string } }>(
      "select event, properties from events where job_id = $1 order by seq",
      [a.Id],
    );
    assert.deepEqual(
      events.rows.map((e) => e.event),
      ["job.created", "job.opted_out", "job.failed"],
    );
    assert.equal(events.rows[2]?.properties.failure_reason, "opted_out");
  });

  test("a job created for an opted-out number ends failed/opted_out at once with no attempts", async () => {
    await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550172" });
    const j = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550172" });
    assert.equal(j.status, 201);
    assert.equal(j.body.State, "failed");
    assert.equal(j.body.FailureReason, "opted_out");
    assert.equal(j.body.Attempts, 0);
    assert.equal(j.body.NextCallAt, null);
    assert.ok(j.body.EndedAt);
    const retry = await t.request("POST", `/v1/jobs/${j.body.Id}/retry`);
    assert.equal(retry.status, 409, "an opted-out number cannot be retried");
  });

  test("removing an opt-out reopens nothing; removing an unknown one is 404; bad numbers are 400", async () => {
    await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550173" });
    const j = (await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550173" }))
      .body;
    const del = await t.request("DELETE", "/v1/opt-outs/%2B14155550173");
    assert.equal(del.status, 204);
    assert.equal((await t.request("GET", `/v1/jobs/${j.Id}`)).body.State, "failed");
    assert.equal((await t.request("DELETE", "/v1/opt-outs/%2B14155550173")).status, 404);
    const bad = await t.request("POST", "/v1/opt-outs", { PhoneNumber: "12" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.Error.Details[0].Path, "/PhoneNumber");
    const misspelt = await t.request("POST", "/v1/opt-outs", {
      PhoneNumber: "+14155550174",
      Reason: "asked",
    });
    assert.equal(misspelt.status, 400);
    assert.equal(misspelt.body.Error.Details[0].Path, "/Reason");
    assert.equal((await t.request("DELETE", "/v1/opt-outs/%2B14155550174")).status, 404);
  });

  test("the list pages oldest first", async () => {
    const key = await t.newOrgKey("optout-paging");
    const numbers = ["+14155550181", "+14155550180", "+14155550183"];
    for (const n of numbers) await t.request("POST", "/v1/opt-outs", { PhoneNumber: n }, { key });
    const p1 = await t.request("GET", "/v1/opt-outs?Limit=2", undefined, { key });
    const p2 = await t.request("GET", `/v1/opt-outs?Limit=2&Cursor=${p1.body.NextCursor}`, undefined, {
      key,
    });
    assert.deepEqual(
      [...p1.body.Items, ...p2.body.Items].map((o: { PhoneNumber: string }) => o.PhoneNumber),
      numbers,
    );
    assert.equal(p2.body.NextCursor, null);
  });
});
