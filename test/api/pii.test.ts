import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  erasePii,
  openPostgres,
} from "../../src/store/index.ts";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";
import { CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";

/** Every table's rows as text, to search for planted values. */
async function dumpEverything(t: TestApp): Promise<string> {
  const tables = await t.database.db.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
  );
  assert.ok(tables.rows.length >= 8, "all tables are searched");
  const parts: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await t.database.db.query(`select * from ${table_name}`);
    parts.push(`${table_name}: ${JSON.stringify(rows.rows)}`);
  }
  return parts.join("\n");
}

describe("PII deletion", () => {
  let t: TestApp;
  let campaignId: string;
  before(async () => {
    t = await startTestApp();
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  after(() => t.close());

  test("erases every planted canary from every column of every table", async () => {
    const phone = "+16175550177";
    const name = "Zebulon Canaryfield";
    const secret = "canary-data-9f3b1c";
    const createCanary = () =>
      t.request(
        "POST",
        `/v1/campaigns/${campaignId}/jobs`,
        {
          PhoneNumber: phone,
          ContactName: name,
          Data: { invoice: secret },
          Metadata: { zip: "02139", segment: "gold" },
        },
        { headers: { "idempotency-key": "canary-create-1" } },
      );
    const created = await createCanary();
    assert.equal(created.status, 201);
    const id = created.body.Id;
    // A second idempotent request that echoes the job (the batch endpoint).
    const batch = await t.request(
      "POST",
      `/v1/campaigns/${campaignId}/jobs/batch`,
      { Jobs: [{ PhoneNumber: "+16175550178" }] },
      { headers: { "idempotency-key": "unrelated" } },
    );
    assert.equal(batch.status, 200);
    const before = await dumpEverything(t);
    for (const canary of [phone, name, secret]) assert.ok(before.includes(canary), `${canary} planted`);

    const del = await t.request("DELETE", `/v1/jobs/${id}/pii`);
    assert.equal(del.status, 200);
    assert.equal(del.body.State, "deleted");
    for (const f of ["PhoneNumber", "ContactName", "Data", "Result", "Summary"])
      assert.equal(del.body[f], null, f);
    assert.deepEqual(del.body.Metadata, { zip: "02139", segment: "gold" });

    const afterDump = await dumpEverything(t);
    for (const canary of [phone, name, secret])
      assert.equal(afterDump.includes(canary), false, `${canary} still stored`);
    assert.ok(afterDump.includes("+16175550178"), "other jobs are untouched");

    // The stored response was scrubbed, not forgotten: a replay of its key creates nothing new.
    const replay = await createCanary();
    assert.equal(replay.status, 201);
    assert.equal(replay.body.Id, id);
    for (const f of ["PhoneNumber", "ContactName", "Data"]) assert.equal(replay.body[f], null, f);
    assert.equal((await dumpEverything(t)).includes(name), false, "the replay stored the name again");

    // Stays deleted: PATCH 409, a second deletion 200, retry and cancel 409.
    assert.equal((await t.request("PATCH", `/v1/jobs/${id}`, { ContactName: "x" })).status, 409);
    const second = await t.request("DELETE", `/v1/jobs/${id}/pii`);
    assert.equal(second.status, 200);
    assert.equal(second.body.State, "deleted");
    assert.equal((await t.request("POST", `/v1/jobs/${id}/retry`)).status, 409);
    assert.equal((await t.request("POST", `/v1/jobs/${id}/cancel`)).status, 409);
    // A pending job is canceled first; analytics keep its earlier state.
    const events = await t.database.db.query<{ event: string }>(
      "select event from events where job_id = $1 order by seq",
      [id],
    );
    assert.deepEqual(
      events.rows.map((e) => e.event),
      ["job.created", "job.canceled", "job.pii_deleted"],
    );
    const row = await t.database.db.query<{ state_before_deletion: string }>(
      "select state_before_deletion from jobs where id = $1",
      [id],
    );
    assert.equal(row.rows[0]?.state_before_deletion, "canceled");
  });

  test("a stored inbound call's answer is scrubbed too: its replay shows the call as the API now does", async () => {
    const cmp = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ InboundMode: "create", PhoneNumbers: ["+16175550999"] }),
    );
    assert.equal(cmp.status, 201, JSON.stringify(cmp.body));
    const body = { From: "+16175550191", To: "+16175550999", Replies: ["yes, canary-words-7d2e", "3"] };
    const call = await t.request("POST", "/v1/sim/calls", body, {
      headers: { "idempotency-key": "canary-call" },
    });
    assert.equal(call.status, 201, JSON.stringify(call.body));
    assert.equal((await t.request("DELETE", `/v1/jobs/${call.body.JobId}/pii`)).status, 200);

    const replay = await t.request("POST", "/v1/sim/calls", body, {
      headers: { "idempotency-key": "canary-call" },
    });
    const now = (await t.request("GET", `/v1/calls/${call.body.Id}`)).body;
    assert.deepEqual([now.From, now.Transcript], [null, []]);
    assert.deepEqual(replay.body, now);
    const dump = await dumpEverything(t);
    for (const canary of ["+16175550191", "canary-words-7d2e"])
      assert.equal(dump.includes(canary), false, canary);
  });

  test(
    "a response stored as a deletion of its job commits keeps none of the job's PII",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const name = "Racey McRace";
      // A request with a key created its job; its response is not stored yet (the key is running).
      const claim = await claimIdempotencyKey(t.database.db, t.orgId, "race-1", "POST", "/v1/x", "h");
      assert.equal(claim.kind, "new");
      const job = (
        await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, {
          PhoneNumber: "+16175550188",
          ContactName: name,
        })
      ).body;
      // Meanwhile a deletion of that job has scrubbed what was stored, and is about to commit.
      const other = await openPostgres(t.database.url as string, 1);
      let commit!: () => void;
      const held = new Promise<void>((r) => {
        commit = r;
      });
      let scrubbed!: () => void;
      const reached = new Promise<void>((r) => {
        scrubbed = r;
      });
      const deletion = other.tx(async (q) => {
        await erasePii(q, t.orgId, [job.Id]);
        scrubbed();
        await held;
      });
      try {
        await reached;
        const storing = completeIdempotencyKey(t.database.db, t.orgId, "race-1", 201, JSON.stringify(job), [
          job.Id,
        ]);
        await new Promise((r) => setTimeout(r, 200));
        commit();
        await deletion;
        await storing;
      } finally {
        commit();
        await other.close();
      }
      const stored = await t.database.db.query<{ response_body: string }>(
        "select response_body from idempotency_keys where org_id = $1 and key = 'race-1'",
        [t.orgId],
      );
      const body = stored.rows[0]?.response_body ?? "";
      assert.equal(JSON.parse(body).Id, job.Id);
      for (const canary of [name, "6175550188"]) assert.equal(body.includes(canary), false, canary);
    },
  );

  test("the opt-out list is not touched by PII deletion", async () => {
    const phone = "+16175550190";
    assert.equal((await t.request("POST", "/v1/opt-outs", { PhoneNumber: phone })).status, 201);
    const j = (await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: phone })).body;
    assert.equal(j.State, "failed");
    assert.equal((await t.request("DELETE", `/v1/jobs/${j.Id}/pii`)).status, 200);
    const list = await t.request("GET", "/v1/opt-outs");
    assert.ok(list.body.Items.some((o: { PhoneNumber: string }) => o.PhoneNumber === phone));
  });

  test("campaign-wide deletion erases every job and counts them", async () => {
    const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    for (let i = 0; i < 4; i++)
      await t.request("POST", `/v1/campaigns/${cmp}/jobs`, {
        PhoneNumber: `+1617555021${i}`,
        ContactName: `Name${i}`,
      });
    const r = await t.request("DELETE", `/v1/campaigns/${cmp}/pii`);
    assert.deepEqual(r.body, { Deleted: 4 });
    const jobs = await t.request("GET", `/v1/jobs?CampaignId=${cmp}`);
    assert.ok(
      jobs.body.Items.every(
        (j: { State: string; PhoneNumber: null; ContactName: null }) =>
          j.State === "deleted" && j.PhoneNumber === null && j.ContactName === null,
      ),
    );
    assert.deepEqual((await t.request("DELETE", `/v1/campaigns/${cmp}/pii`)).body, { Deleted: 0 });
  });
});
