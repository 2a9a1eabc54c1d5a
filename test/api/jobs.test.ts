import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";
import { archiveUncommitted, CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";

describe("jobs", () => {
  let t: TestApp;
  let campaignId: string;
  before(async () => {
    t = await startTestApp();
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  after(() => t.close());
  const create = (body: unknown) => t.request("POST", `/v1/campaigns/${campaignId}/jobs`, body);

  test("only PhoneNumber is required; the job is pending and due in an open window", async () => {
    const r = await create({ PhoneNumber: "+14155550123" });
    assert.equal(r.status, 201);
    assert.match(r.body.Id, /^job_/);
    assert.equal(r.body.State, "pending");
    assert.equal(r.body.Attempts, 0);
    assert.deepEqual(r.body.Metadata, {});
    assert.equal(r.body.Data, null);
    assert.equal(r.body.TestJob, false);
    assert.ok(r.body.NextCallAt, "an always-open campaign has a next call time");
    const got = await t.request("GET", `/v1/jobs/${r.body.Id}`);
    assert.deepEqual(got.body, r.body);
  });

  test("input errors name the field: phone numbers, emergency numbers, metadata limits, unknown fields", async () => {
    const cases: Array<[unknown, string]> = [
      [{}, "/PhoneNumber"],
      [{ PhoneNumber: "4155550123" }, "/PhoneNumber"],
      [{ PhoneNumber: "+1911" }, "/PhoneNumber"],
      [{ PhoneNumber: "+112" }, "/PhoneNumber"],
      [{ PhoneNumber: "+11234567890" }, "/PhoneNumber"],
      [{ PhoneNumber: "+14155550123", Metadata: { zip: "x".repeat(501) } }, "/Metadata/zip"],
      [
        {
          PhoneNumber: "+14155550123",
          Metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
        },
        "/Metadata",
      ],
      [{ PhoneNumber: "+14155550123", Metadata: { ["k".repeat(41)]: 1 } }, `/Metadata/${"k".repeat(41)}`],
      [{ PhoneNumber: "+14155550123", Data: { blob: "x".repeat(17 * 1024) } }, "/Data"],
      [{ PhoneNumber: "+14155550123", TimeZone: "Mars/Olympus" }, "/TimeZone"],
      [{ PhoneNumber: "+14155550123", Phone: "x" }, "/Phone"],
      [{ PhoneNumber: "+14155550123", TestJob: "yes" }, "/TestJob"],
    ];
    for (const [body, path] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(r.body.Error.Code, "validation_failed");
      assert.ok(
        r.body.Error.Details.some((d: { Path: string }) => d.Path === path),
        `${path} in ${JSON.stringify(r.body.Error.Details)}`,
      );
    }
    const metadata8k = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "x".repeat(450)]));
    const big = await create({ PhoneNumber: "+14155550123", Metadata: metadata8k });
    assert.equal(big.status, 400);
    assert.match(big.body.Error.Details[0].Message, /8 KiB/);
  });

  test("Metadata limits count characters, not UTF-16 code units: 500 emoji fit, 501 do not", async () => {
    const emoji = "\u{1F600}";
    const key = emoji.repeat(40);
    const fits = await create({ PhoneNumber: "+14155550127", Metadata: { [key]: emoji.repeat(500) } });
    assert.equal(fits.status, 201, JSON.stringify(fits.body));
    assert.equal(fits.body.Metadata[key], emoji.repeat(500));
    const over = await create({ PhoneNumber: "+14155550128", Metadata: { a: emoji.repeat(501) } });
    assert.equal(over.status, 400);
    assert.deepEqual(
      over.body.Error.Details.map((d: { Path: string; Message: string }) => [d.Path, d.Message]),
      [["/Metadata/a", "is 501 characters long; string values are limited to 500."]],
    );
  });

  test("a body that is not JSON, or too large, gets the error format", async () => {
    const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, "{not json");
    assert.equal(r.status, 400);
    assert.equal(r.body.Error.Code, "validation_failed");
    // The whole body is the JSON pointer "" (RFC 6901; "/" would name a member called "").
    assert.deepEqual(
      r.body.Error.Details.map((d: { Path: string }) => d.Path),
      [""],
    );
    for (const [path, body] of [
      [`/v1/campaigns/${campaignId}/jobs`, [1]],
      ["/v1/campaigns", null],
      ["/v1/opt-outs", "x"],
      ["/v1/webhooks", [1]],
    ] as const) {
      const w = await t.request("POST", path, body);
      assert.equal(w.status, 400, path);
      assert.equal(w.body.Error.Details[0]?.Path, "", `${path}: ${JSON.stringify(w.body)}`);
    }
    const huge = await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, {
      Jobs: [{ PhoneNumber: "+14155550123", ContactName: "x".repeat(11 * 1024 * 1024) }],
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.Error.Code, "payload_too_large");
  });

  test("ExternalId is unique per campaign", async () => {
    const a = await create({ PhoneNumber: "+14155550123", ExternalId: "crm-1" });
    assert.equal(a.status, 201);
    const b = await create({ PhoneNumber: "+14155550124", ExternalId: "crm-1" });
    assert.equal(b.status, 409);
    assert.equal(b.body.Error.Details[0].Path, "/ExternalId");
    const other = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    const c = await t.request("POST", `/v1/campaigns/${other}/jobs`, {
      PhoneNumber: "+14155550124",
      ExternalId: "crm-1",
    });
    assert.equal(c.status, 201);
    const list = await t.request("GET", `/v1/jobs?ExternalId=crm-1&CampaignId=${campaignId}`);
    assert.deepEqual(
      list.body.Items.map((j: { Id: string }) => j.Id),
      [a.body.Id],
    );
  });

  test("batch creates the valid rows and reports the others by index", async () => {
    const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, {
      Jobs: [
        { PhoneNumber: "+14155550130", ExternalId: "b-1" },
        { PhoneNumber: "bad" },
        { PhoneNumber: "+14155550131", ExternalId: "b-1" },
        { PhoneNumber: "+14155550132", Metadata: { zip: "10001" } },
      ],
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.Created, 2);
    assert.deepEqual(
      r.body.Errors.map((e: { Index: number; Error: { Code: string } }) => [e.Index, e.Error.Code]),
      [
        [1, "validation_failed"],
        [2, "conflict"],
      ],
    );
    assert.equal(r.body.Errors[0].Error.Details[0].Path, "/Jobs/1/PhoneNumber");
    assert.deepEqual(
      r.body.Items.map((j: { ExternalId: string | null }) => j.ExternalId),
      ["b-1", null],
    );
    const tooMany = await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, {
      Jobs: Array.from({ length: 10_001 }, () => ({ PhoneNumber: "+14155550123" })),
    });
    assert.equal(tooMany.status, 400);
    // A field beside Jobs is not dropped unseen: a TestJob meant for every job would place real calls.
    const beside = await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, {
      Jobs: [{ PhoneNumber: "+14155550402" }],
      TestJob: true,
    });
    assert.equal(beside.status, 400);
    assert.deepEqual(
      beside.body.Error.Details.map((d: { Path: string }) => d.Path),
      ["/TestJob"],
    );
    const listed = await t.request("GET", `/v1/jobs?CampaignId=${campaignId}&Limit=1000`);
    assert.equal(
      listed.body.Items.some((j: { PhoneNumber: string }) => j.PhoneNumber === "+14155550402"),
      false,
    );
  });

  test(
    "a campaign archived while jobs wait to be inserted takes none of them",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
      const archive = await archiveUncommitted(t.database.url ?? "", cmp);
      const one = t.request("POST", `/v1/campaigns/${cmp}/jobs`, { PhoneNumber: "+14155550410" });
      const batch = t.request("POST", `/v1/campaigns/${cmp}/jobs/batch`, {
        Jobs: [{ PhoneNumber: "+14155550411" }],
      });
      await new Promise((r) => setTimeout(r, 300));
      await archive.commit();
      for (const r of [await one, await batch]) {
        assert.equal(r.status, 409, JSON.stringify(r.body));
        assert.match(r.body.Error.Message, /archived/);
      }
      assert.deepEqual((await t.request("GET", `/v1/jobs?CampaignId=${cmp}`)).body.Items, []);
    },
  );

  test("nested Metadata strings are limited too; a blank ExternalId is refused", async () => {
    const nested = await create({
      PhoneNumber: "+14155550400",
      Metadata: { ok: "x", nested: { note: "x".repeat(501) }, list: ["y".repeat(501)] },
    });
    assert.equal(nested.status, 400);
    assert.deepEqual(nested.body.Error.Details.map((d: { Path: string }) => d.Path).sort(), [
      "/Metadata/list/0",
      "/Metadata/nested/note",
    ]);
    const fits = await create({
      PhoneNumber: "+14155550400",
      Metadata: { nested: { note: "x".repeat(500) } },
    });
    assert.equal(fits.status, 201, JSON.stringify(fits.body));
    const blank = await create({ PhoneNumber: "+14155550401", ExternalId: "" });
    assert.equal(blank.status, 400);
    assert.equal(blank.body.Error.Details[0].Path, "/ExternalId");
  });

  test("list filters and paginates oldest first", async () => {
    const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await t.request("POST", `/v1/campaigns/${cmp}/jobs`, {
        PhoneNumber: `+1415555020${i}`,
        TestJob: i % 2 === 0,
      });
      made.push(r.body.Id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { Items: Array<{ Id: string }>; NextCursor: string | null } } = await t.request(
        "GET",
        `/v1/jobs?CampaignId=${cmp}&Limit=3${cursor ? `&Cursor=${cursor}` : ""}`,
      );
      seen.push(...page.body.Items.map((j) => j.Id));
      cursor = page.body.NextCursor;
    } while (cursor);
    assert.deepEqual(seen, made);
    const tests = await t.request("GET", `/v1/jobs?CampaignId=${cmp}&TestJob=true`);
    assert.equal(tests.body.Items.length, 4);
    const notBoolean = await t.request("GET", `/v1/jobs?CampaignId=${cmp}&TestJob=yes`);
    assert.equal(notBoolean.status, 400);
    assert.deepEqual(notBoolean.body.Error.Details, [
      { Path: "/TestJob", Message: 'must be one of "true", "false" (query parameter).' },
    ]);
    const byPhone = await t.request("GET", `/v1/jobs?PhoneNumber=%2B14155550203`);
    assert.deepEqual(
      byPhone.body.Items.map((j: { Id: string }) => j.Id),
      [made[3]],
    );
    const pending = await t.request("GET", `/v1/jobs?CampaignId=${cmp}&State=pending&Limit=1000`);
    assert.equal(pending.body.Items.length, 7);
    const future = await t.request("GET", `/v1/jobs?CampaignId=${cmp}&UpdatedSince=2999-01-01T00:00:00Z`);
    assert.equal(future.body.Items.length, 0);
    for (const far of ["9999-12-31T23:59:59-14:00", "0000-01-01T00:00:00Z"]) {
      const r = await t.request("GET", `/v1/jobs?UpdatedSince=${encodeURIComponent(far)}`);
      assert.equal(r.status, 400, far);
      assert.equal(r.body.Error.Details[0].Path, "/UpdatedSince");
    }
    const bad = await t.request("GET", "/v1/jobs?State=done");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.Error.Details[0].Path, "/State");
  });

  test("PATCH replaces Metadata and Data whole; PhoneNumber cannot be patched", async () => {
    const j = (await create({ PhoneNumber: "+14155550140", Metadata: { a: 1, b: 2 }, Data: { x: 1 } })).body;
    const r = await t.request("PATCH", `/v1/jobs/${j.Id}`, {
      Metadata: { c: 3 },
      ContactName: "Ann",
      TimeZone: "Europe/London",
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.Metadata, { c: 3 });
    assert.deepEqual(r.body.Data, { x: 1 });
    assert.equal(r.body.ContactName, "Ann");
    assert.equal(r.body.TimeZone, "Europe/London");
    const bad = await t.request("PATCH", `/v1/jobs/${j.Id}`, { PhoneNumber: "+14155550141" });
    assert.equal(bad.status, 400);
  });

  test("state machine: cancel, cancel again 409, retry, retry of pending 409", async () => {
    const j = (await create({ PhoneNumber: "+14155550150" })).body;
    const c = await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
    assert.equal(c.status, 200);
    assert.equal(c.body.State, "canceled");
    assert.equal(c.body.NextCallAt, null);
    assert.ok(c.body.EndedAt);
    const again = await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
    assert.equal(again.status, 409);
    const retried = await t.request("POST", `/v1/jobs/${j.Id}/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.body.State, "pending");
    assert.equal(retried.body.EndedAt, null);
    assert.ok(retried.body.NextCallAt);
    const retryPending = await t.request("POST", `/v1/jobs/${j.Id}/retry`);
    assert.equal(retryPending.status, 409);
    const events = await t.database.db.query<{ event: string }>(
      "select event from events where job_id = $1 order by seq",
      [j.Id],
    );
    assert.deepEqual(
      events.rows.map((e) => e.event),
      ["job.created", "job.canceled", "job.retried"],
    );
  });

  test("bulk cancel cancels only the campaign's waiting jobs", async () => {
    const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    for (let i = 0; i < 3; i++)
      await t.request("POST", `/v1/campaigns/${cmp}/jobs`, { PhoneNumber: `+1415555030${i}` });
    const other = (await create({ PhoneNumber: "+14155550310" })).body;
    const r = await t.request("POST", `/v1/campaigns/${cmp}/jobs/cancel`);
    assert.deepEqual(r.body, { Canceled: 3 });
    const again = await t.request("POST", `/v1/campaigns/${cmp}/jobs/cancel`);
    assert.deepEqual(again.body, { Canceled: 0 });
    assert.equal((await t.request("GET", `/v1/jobs/${other.Id}`)).body.State, "pending");
  });

  test("text PostgreSQL cannot store and JSON nested too deep are refused per field, never a 500", async () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    const batch = await t.request(
      "POST",
      `/v1/campaigns/${campaignId}/jobs/batch`,
      `{"Jobs": [{"PhoneNumber": "+14155550170"}, {"PhoneNumber": "+14155550171", "ContactName": "a\\u0000b"},
        {"PhoneNumber": "+14155550172", "Data": {"a": ${deep}}}, {"PhoneNumber": "+14155550173", "Metadata": {"\\ud800": "x"}},
        {"PhoneNumber": "+14155550174"}]}`,
      // Hashed for the key before its jobs are checked one by one.
      { headers: { "idempotency-key": "deep-batch" } },
    );
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    assert.equal(batch.body.Created, 2);
    assert.deepEqual(
      batch.body.Errors.map((e: { Index: number; Error: { Details: Array<{ Path: string }> } }) => [
        e.Index,
        e.Error.Details[0]?.Path,
      ]),
      [
        [1, "/Jobs/1/ContactName"],
        [2, `/Jobs/2/Data/a${"/0".repeat(62)}`],
        [3, "/Jobs/3/Metadata/\ud800"],
      ],
    );
    const job = (await create({ PhoneNumber: "+14155550175" })).body;
    const patch = await t.request("PATCH", `/v1/jobs/${job.Id}`, '{"ContactName": "\\ud800"}');
    assert.deepEqual([patch.status, patch.body.Error.Details[0].Path], [400, "/ContactName"]);
    // Ids and filters in the path and the query string.
    for (const path of ["/v1/jobs/job_a%00b", "/v1/jobs?ExternalId=a%00b"]) {
      const r = await t.request("GET", path);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    }
    // Every other body too: a campaign's name.
    const cmp = await t.request("POST", "/v1/campaigns", JSON.stringify(flowCampaign({ Name: "a\u0000" })));
    assert.deepEqual([cmp.status, cmp.body.Error.Details[0].Path], [400, "/Name"]);
  });

  test("a cursor a list did not give, a very long id and a body that is not JSON answer in the API's error format", async () => {
    const j = (await create({ PhoneNumber: "+14155550161" })).body;
    for (const path of [
      `/v1/jobs/${j.Id}/calls?Cursor=garbage`,
      `/v1/jobs/${j.Id}/calls?Cursor=aaa`,
      "/v1/jobs?Cursor=cmp_01M86WJP7Q5SQAVYWVWER3H7Q8",
      "/v1/campaigns?Cursor=zzz",
      "/v1/webhooks?Cursor=zzz",
    ]) {
      const r = await t.request("GET", path);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(
        r.body.Error.Details.map((d: { Path: string }) => d.Path),
        ["/Cursor"],
      );
    }
    // A path that is not valid percent-encoded UTF-8 is refused by the router itself.
    const badPath = await t.request("GET", "/v1/campaigns/%ED%A0%80/analytics");
    assert.deepEqual(
      [badPath.status, badPath.body.Error?.Code],
      [400, "validation_failed"],
      JSON.stringify(badPath.body),
    );
    const long = await t.request("GET", `/v1/calls/call_${"a".repeat(300)}`);
    assert.deepEqual([long.status, long.body.Error?.Code], [404, "not_found"], JSON.stringify(long.body));
    const plain = await fetch(`${t.url}/v1/opt-outs`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.key}`, "content-type": "text/plain" },
      body: JSON.stringify({ PhoneNumber: "+14155550162" }),
    });
    assert.equal(plain.status, 400);
    assert.match(
      ((await plain.json()) as { Error: { Message: string } }).Error.Message,
      /Content-Type: application\/json/,
    );
    // An empty body is no body, whatever its type: fetch sends text/plain for body "".
    const cancel = await fetch(`${t.url}/v1/jobs/${j.Id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.key}` },
      body: "",
    });
    assert.equal(cancel.status, 200, await cancel.text());
    // An empty JSON body too (curl -X POST -H 'Content-Type: application/json'); a poisoned one is refused.
    const retry = await fetch(`${t.url}/v1/jobs/${j.Id}/retry`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
    });
    assert.equal(retry.status, 200, await retry.text());
    const poisoned = await t.request(
      "POST",
      "/v1/opt-outs",
      '{"PhoneNumber": "+14155550163", "__proto__": {"x": 1}}',
    );
    assert.equal(poisoned.status, 400);
    const emptyCreate = await fetch(`${t.url}/v1/campaigns`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
    });
    assert.equal(emptyCreate.status, 400, "a route that needs a body still says so");
    // A client's cache-buster passes.
    assert.equal((await t.request("GET", "/v1/jobs?_=1700000000")).status, 200);
    const misspelt = await t.request("GET", "/v1/jobs?campaignid=cmp_x");
    assert.equal(misspelt.status, 400);
    assert.equal(misspelt.body.Error.Details[0].Path, "/campaignid");
    assert.match(misspelt.body.Error.Details[0].Message, /CampaignId/);
  });

  test("a job's calls list is empty before any call, and 404 for unknown jobs", async () => {
    const j = (await create({ PhoneNumber: "+14155550160" })).body;
    const r = await t.request("GET", `/v1/jobs/${j.Id}/calls`);
    assert.deepEqual(r.body, { Items: [], NextCursor: null });
    const missing = await t.request("GET", "/v1/jobs/job_nope/calls");
    assert.equal(missing.status, 404);
  });

  test("GET /v1/calls/{Id} answers one call, and 404 for unknown calls and other organizations' calls", async () => {
    const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign({ PhoneNumbers: ["+14155550981"] })))
      .body.Id;
    assert.ok(cmp);
    // The simulated carrier's inbound call (rejected: the campaign's InboundMode is reject) is a Call.
    const made = await t.request("POST", "/v1/sim/calls", { From: "+14155550161", To: "+14155550981" });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const r = await t.request("GET", `/v1/calls/${made.body.Id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, made.body);
    assert.deepEqual([r.body.Direction, r.body.Status, r.body.CampaignId], ["inbound", "rejected", cmp]);
    const missing = await t.request("GET", "/v1/calls/call_nope");
    assert.deepEqual([missing.status, missing.body.Error.Code], [404, "not_found"]);
    const other = await t.request("GET", `/v1/calls/${made.body.Id}`, undefined, {
      key: await t.newOrgKey("other"),
    });
    assert.equal(other.status, 404);
  });
});
