import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ANSWERS_SURVEY,
  jobEnded,
  newCampaign,
  newJob,
  simContact,
  startDispatchingApp,
  type TestApp,
} from "../helpers/app.ts";
import { allEvents } from "./helpers.ts";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("GET /v1/events", () => {
  let t: TestApp;
  before(async () => {
    t = await startDispatchingApp();
  });
  after(() => t.close());

  test("items have the product-analytics shape, oldest first, paged on their sequence", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await newJob(t, cmp, { PhoneNumber: `+1415555060${i}` }));
    const first = await t.request("GET", `/v1/events?CampaignId=${cmp}&Limit=2`);
    assert.equal(first.status, 200);
    assert.equal(first.body.Items.length, 2);
    assert.equal(typeof first.body.NextCursor, "string");
    const e = first.body.Items[0];
    assert.deepEqual(Object.keys(e), ["uuid", "event", "timestamp", "properties"]);
    assert.match(e.uuid, UUID);
    assert.equal(e.event, "job.created");
    assert.match(e.timestamp, ISO_MS);
    assert.deepEqual(e.properties, {
      campaign_id: cmp,
      job_id: jobs[0].Id,
      test_job: false,
      state: "pending",
    });

    const all = [...first.body.Items];
    let cursor = first.body.NextCursor;
    while (cursor) {
      const r = await t.request("GET", `/v1/events?CampaignId=${cmp}&Limit=2&Cursor=${cursor}`);
      assert.equal(r.status, 200);
      all.push(...r.body.Items);
      cursor = r.body.NextCursor;
    }
    assert.equal(all.length, 5);
    assert.deepEqual(
      all.map((x) => x.properties.job_id),
      jobs.map((j) => j.Id),
    );
    assert.equal(new Set(all.map((x) => x.uuid)).size, 5);
    const times = all.map((x) => Date.parse(x.timestamp));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  test("filters: JobId, Event, Since; scoped to the organization", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    const a = await newJob(t, cmp, { PhoneNumber: "+14155550610" });
    const b = await newJob(t, cmp, { PhoneNumber: "+14155550611" });
    await t.request("POST", `/v1/jobs/${b.Id}/cancel`);

    const ofB = await allEvents(t, `JobId=${b.Id}`);
    assert.deepEqual(
      ofB.map((x) => x.event),
      ["job.created", "job.canceled"],
    );
    const canceled = await allEvents(t, `CampaignId=${cmp}&Event=job.canceled`);
    assert.deepEqual(
      canceled.map((x) => x.properties.job_id),
      [b.Id],
    );
    assert.equal(canceled[0].properties.state, "canceled");
    assert.equal(canceled[0].properties.from_state, "pending");

    const future = new Date(Date.now() + 3600_000).toISOString();
    assert.deepEqual(await allEvents(t, `CampaignId=${cmp}&Since=${future}`), []);
    const past = await allEvents(t, `CampaignId=${cmp}&Since=2020-01-01`);
    assert.equal(past.length, 3);
    // An offset's + must be %2B in a URL; a + read back as a space is understood too.
    assert.equal((await allEvents(t, `CampaignId=${cmp}&Since=2020-01-01T00:00:00%2B02:00`)).length, 3);
    assert.equal((await allEvents(t, `CampaignId=${cmp}&Since=2020-01-01T00:00:00+02:00`)).length, 3);

    const other = await t.newOrgKey("events-other");
    assert.deepEqual(await allEvents(t, `JobId=${a.Id}`, other), []);
    assert.deepEqual(await allEvents(t, "", other), []);
    assert.equal((await t.request("GET", "/v1/events", undefined, { key: null })).status, 401);
  });

  test("a cursor is opaque: it does not show how many events the server holds", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    await newJob(t, cmp, { PhoneNumber: "+14155550640" });
    await newJob(t, cmp, { PhoneNumber: "+14155550641" });
    await newJob(t, cmp, { PhoneNumber: "+14155550642" });
    const first = await t.request("GET", `/v1/events?CampaignId=${cmp}&Limit=1`);
    const cursor: string = first.body.NextCursor;
    assert.match(cursor, /^[A-Za-z0-9_-]{22}$/);
    const next = await t.request("GET", `/v1/events?CampaignId=${cmp}&Limit=1&Cursor=${cursor}`);
    assert.equal(next.body.Items.length, 1);
    assert.notEqual(next.body.Items[0].uuid, first.body.Items[0].uuid);
    // Two neighbouring places in the log: an encoding of the number would differ in a character or
    // two, an enciphered one differs almost everywhere.
    const second: string = next.body.NextCursor;
    assert.match(second, /^[A-Za-z0-9_-]{22}$/);
    const differing = [...cursor].filter((c, i) => c !== second[i]).length;
    assert.ok(differing >= 10, `${cursor} ${second}`);
    // The bare sequence number an earlier version gave as a cursor still pages on from there.
    const seq = await t.database.db.query<{ seq: string }>(
      "select seq::text as seq from events where uuid = $1",
      [first.body.Items[0].uuid],
    );
    const legacy = await t.request("GET", `/v1/events?CampaignId=${cmp}&Limit=1&Cursor=${seq.rows[0]?.seq}`);
    assert.equal(legacy.status, 200, JSON.stringify(legacy.body));
    assert.equal(legacy.body.Items[0].uuid, next.body.Items[0].uuid);
    // A cursor altered by hand is refused, not read as some other place in the log.
    const altered = `${cursor.slice(0, 5)}${cursor[5] === "A" ? "B" : "A"}${cursor.slice(6)}`;
    const r = await t.request("GET", `/v1/events?CampaignId=${cmp}&Cursor=${altered}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.Error.Details[0].Path, "/Cursor");
  });

  test("invalid filters answer 400 with the field's path", async () => {
    const cases: Array<[string, string]> = [
      ["Since=yesterday", "/Since"],
      ["Since=2026-01-31T12:00:00", "/Since"],
      ["Since=9999-12-31T23:59:59-14:00", "/Since"],
      ["Event=Job%20Created!", "/Event"],
      ["Cursor=abc", "/Cursor"],
      ["Event=job.nope", "/Event"],
      ["campaign_id=cmp_x", "/campaign_id"],
      ["Limit=0", "/Limit"],
      ["Limit=1001", "/Limit"],
    ];
    for (const [q, path] of cases) {
      const r = await t.request("GET", `/v1/events?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.Error.Code, "validation_failed", q);
      assert.ok(
        r.body.Error.Details.some((x: { Path: string }) => x.Path === path),
        `${q}: ${JSON.stringify(r.body.Error.Details)}`,
      );
    }
  });

  test("every event of a test job has properties.test_job = true, calls included", async () => {
    const cmp = await newCampaign(t);
    await simContact(t, "+14155550620", [ANSWERS_SURVEY]);
    await simContact(t, "+14155550621", [ANSWERS_SURVEY]);
    const tj = await newJob(t, cmp, { PhoneNumber: "+14155550620", TestJob: true });
    const nj = await newJob(t, cmp, { PhoneNumber: "+14155550621" });
    assert.equal((await jobEnded(t, tj.Id)).State, "completed");
    assert.equal((await jobEnded(t, nj.Id)).State, "completed");

    const ofTest = await allEvents(t, `JobId=${tj.Id}`);
    const names = ofTest.map((x) => x.event);
    for (const n of ["job.created", "job.dialing", "call.started", "call.ended", "job.completed"])
      assert.ok(names.includes(n), `${n} in ${names}`);
    for (const e of ofTest) assert.equal(e.properties.test_job, true, e.event);
    const [call] = (await t.request("GET", `/v1/jobs/${tj.Id}/calls`)).body.Items;
    const ended = ofTest.find((x) => x.event === "call.ended");
    assert.equal(ended.properties.call_id, call.Id);
    assert.equal(ended.properties.billed_seconds, call.BilledSeconds);
    assert.ok(ended.properties.billed_seconds > 0);

    for (const e of await allEvents(t, `JobId=${nj.Id}`)) assert.equal(e.properties.test_job, false, e.event);
    // The column holds it for every event row of a test job.
    const rows = await t.database.db.query<{ n: number }>(
      "select count(*)::int as n from events e join jobs j on j.id = e.job_id where j.test_job and not e.test_job",
    );
    assert.equal(rows.rows[0]?.n, 0);
  });

  test("no event holds PII, before or after PII deletion", async () => {
    const phone = "+14155550677";
    const name = "Ottoline Quillfeather";
    const secret = "canary-events-7c1d";
    const cmp = await newCampaign(t);
    await simContact(t, phone, [{ Answer: "human", Replies: ["yes", "3"] }]);
    const j = await newJob(t, cmp, {
      PhoneNumber: phone,
      ContactName: name,
      Data: { note: secret },
      Metadata: { zip: "94110" },
    });
    const ended = await jobEnded(t, j.Id);
    assert.equal(ended.State, "completed");
    // The name was spoken on the call: it is in the transcript, not in events.
    const [call] = (await t.request("GET", `/v1/jobs/${j.Id}/calls`)).body.Items;
    assert.ok(JSON.stringify(call.Transcript).includes(name), "the canary was planted");

    const digits = phone.slice(1);
    const eventsText = async () => {
      const r = await t.database.db.query<{ e: string }>("select to_jsonb(e)::text as e from events e");
      return r.rows.map((x) => x.e).join("\n");
    };
    for (const text of [await eventsText(), JSON.stringify(await allEvents(t))]) {
      for (const canary of [name, digits, secret, "Ottoline"])
        assert.equal(text.includes(canary), false, canary);
    }

    assert.equal((await t.request("DELETE", `/v1/jobs/${j.Id}/pii`)).status, 200);
    const after1 = await eventsText();
    const api = JSON.stringify(await allEvents(t));
    for (const text of [after1, api]) {
      for (const canary of [name, digits, secret, "Ottoline"])
        assert.equal(text.includes(canary), false, canary);
    }
    const deleted = await allEvents(t, `JobId=${j.Id}&Event=job.pii_deleted`);
    assert.equal(deleted.length, 1);
    assert.deepEqual(deleted[0].properties, {
      campaign_id: cmp,
      job_id: j.Id,
      test_job: false,
      state: "deleted",
      from_state: "completed",
    });
  });
});
