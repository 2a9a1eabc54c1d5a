import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parse } from "csv-parse/sync";
import { CHUNK_CHARACTERS, csvCell, exportCampaignResults } from "../../src/exports/index.ts";
import {
  jobEnded,
  newCampaign,
  newJob,
  simContact,
  startDispatchingApp,
  type TestApp,
} from "../helpers/app.ts";

/** An AnalysisSchema whose property order is not alphabetical, and a property named like a column. */
const SCHEMA = {
  type: "object",
  properties: {
    household_size: { type: ["number", "null"] },
    answers: { type: ["object", "null"] },
    comment: { type: ["string", "null"] },
    State: { type: ["string", "null"] },
  },
};

describe("GET /v1/campaigns/{Id}/results.csv", () => {
  let t: TestApp;
  before(async () => {
    t = await startDispatchingApp();
  });
  after(() => t.close());

  test("csv cells: quoting, formulas neutralised, JSON for objects", () => {
    assert.equal(csvCell(null), "");
    assert.equal(csvCell(undefined), "");
    assert.equal(csvCell("plain"), "plain");
    assert.equal(csvCell('a "quoted", text'), '"a ""quoted"", text"');
    assert.equal(csvCell("two\nlines"), '"two\nlines"');
    assert.equal(csvCell('=HYPERLINK("http://x")'), '"\'=HYPERLINK(""http://x"")"');
    assert.equal(csvCell("+14155550100"), "'+14155550100");
    assert.equal(csvCell("-1+2"), "'-1+2");
    assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
    assert.equal(csvCell("\tcmd"), "'\tcmd");
    assert.equal(csvCell(-3), "-3", "a JSON number is never a formula");
    assert.equal(csvCell(2.5), "2.5");
    assert.equal(csvCell(true), "true");
    assert.equal(csvCell({ a: [1, "x"] }), '"{""a"":[1,""x""]}"');
    assert.equal(csvCell(["=1"]), '"[""=1""]"');
  });

  test("one row per job (test jobs included): fixed columns, schema properties in order, metadata keys sorted", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 1 }, { AnalysisSchema: SCHEMA });
    await simContact(t, "+14155550801", [{ Answer: "human", Replies: ["yes", "4"] }]);
    await simContact(t, "+14155550802", [{ Answer: "no_answer" }]);
    const done = await newJob(t, cmp, {
      PhoneNumber: "+14155550801",
      ExternalId: "=cmd|' /C calc'!A0",
      ContactName: "Never Exported",
      Metadata: { zip: "94110", segment: "gold" },
    });
    const testJob = await newJob(t, cmp, {
      PhoneNumber: "+14155550802",
      TestJob: true,
      ExternalId: 'ext, with "quotes"',
      Metadata: { zip: "-10", "b key": { nested: [1, 2] }, State: "CA" },
    });
    await jobEnded(t, done.Id);
    await jobEnded(t, testJob.Id);
    // Paused: this one stays pending, never called.
    await t.request("PATCH", `/v1/campaigns/${cmp}`, { Status: "paused" });
    const pending = await newJob(t, cmp, { PhoneNumber: "+14155550803", Metadata: {} });

    const r = await t.request("GET", `/v1/campaigns/${cmp}/results.csv`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/csv; charset=utf-8/);
    assert.match(r.headers.get("content-disposition") ?? "", /attachment; filename="cmp_.*-results\.csv"/);
    assert.ok((r.body as string).endsWith("\r\n"));
    const rows = parse(r.body) as string[][];
    assert.deepEqual(rows[0], [
      "JobId",
      "ExternalId",
      "State",
      "FailureReason",
      "household_size",
      "answers",
      "comment",
      "Result.State",
      "Metadata.State",
      "b key",
      "segment",
      "zip",
    ]);
    assert.equal(rows.length, 4);
    const byId = new Map(rows.slice(1).map((x) => [x[0], x]));
    assert.deepEqual(byId.get(done.Id), [
      done.Id,
      "'=cmd|' /C calc'!A0",
      "completed",
      "",
      "4",
      "",
      "",
      "",
      "",
      "",
      "gold",
      "94110",
    ]);
    assert.deepEqual(byId.get(testJob.Id), [
      testJob.Id,
      'ext, with "quotes"',
      "failed",
      "max_attempts_exceeded",
      "",
      "",
      "",
      "",
      "CA",
      '{"nested":[1,2]}',
      "",
      "'-10",
    ]);
    assert.deepEqual(byId.get(pending.Id), [pending.Id, "", "pending", "", "", "", "", "", "", "", "", ""]);
    assert.equal((r.body as string).includes("Never Exported"), false, "no contact name");
    assert.equal((r.body as string).includes("4155550801"), false, "no phone number");
  });

  test("streams a large campaign a page at a time", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    const n = 2_345;
    const jobs = Array.from({ length: n }, (_, i) => ({
      PhoneNumber: `+1212555${String(i).padStart(4, "0")}`,
      ExternalId: `e${i}`,
      Metadata: i === n - 1 ? { last: "yes" } : { i: String(i) },
    }));
    const created = await t.request("POST", `/v1/campaigns/${cmp}/jobs/batch`, { Jobs: jobs });
    assert.equal(created.body.Created, n);

    const res = await fetch(`${t.url}/v1/campaigns/${cmp}/results.csv`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), null, "not buffered: no length known up front");
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    const rows = parse(await res.text()) as string[][];
    assert.deepEqual(rows[0], [
      "JobId",
      "ExternalId",
      "State",
      "FailureReason",
      "household_size",
      "i",
      "last",
    ]);
    assert.equal(rows.length, n + 1);
    const ids = rows.slice(1).map((x) => x[0] as string);
    assert.deepEqual(ids, [...ids].sort(), "oldest first");
    assert.equal(new Set(ids).size, n);
    assert.deepEqual(rows.at(-1)?.slice(-2), ["", "yes"]);

    // The use case reads page by page: the first chunk is only the header, then pages of rows.
    const out = await exportCampaignResults({
      ctx: { deps: t.app.deps, orgId: t.orgId },
      campaignId: cmp,
      pageSize: 1000,
    });
    const chunks: string[] = [];
    for await (const c of out.chunks) chunks.push(c);
    assert.equal(chunks.length, 1 + 3);
    assert.equal(chunks[1]?.split("\r\n").length, 1000 + 1);
  });

  test("wide rows go out in bounded pieces, not a page at once", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    // 40 jobs of about 7 KB of Metadata each: one page, about 280 KB of CSV.
    const wide = (i: number) =>
      Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`k${i}_${k}`, "x".repeat(170)]));
    const jobs = Array.from({ length: 40 }, (_, i) => ({
      PhoneNumber: `+1212556${String(i).padStart(4, "0")}`,
      Metadata: wide(i),
    }));
    assert.equal(
      (await t.request("POST", `/v1/campaigns/${cmp}/jobs/batch`, { Jobs: jobs })).body.Created,
      40,
    );
    const out = await exportCampaignResults({ ctx: { deps: t.app.deps, orgId: t.orgId }, campaignId: cmp });
    const chunks: string[] = [];
    for await (const c of out.chunks) chunks.push(c);
    const rows = parse(chunks.join("")) as string[][];
    assert.equal(rows.length, 41);
    assert.equal(rows[0]?.filter((c) => /^k\d+_\d+$/.test(c)).length, 40 * 40);
    const longestRow = Math.max(
      ...chunks
        .join("")
        .split("\r\n")
        .map((x) => x.length),
    );
    for (const c of chunks.slice(1)) assert.ok(c.length < CHUNK_CHARACTERS + longestRow + 2, `${c.length}`);
    assert.ok(chunks.length > 3, `${chunks.length} pieces`);
  });

  test("another organization's campaign answers 404, like a missing one", async () => {
    const cmp = await newCampaign(t);
    const other = await t.newOrgKey("exports-other");
    const r = await t.request("GET", `/v1/campaigns/${cmp}/results.csv`, undefined, { key: other });
    assert.equal(r.status, 404);
    assert.equal(r.body.Error.Code, "not_found");
    assert.equal((await t.request("GET", "/v1/campaigns/cmp_missing/results.csv")).status, 404);
    assert.equal(
      (await t.request("GET", `/v1/campaigns/${cmp}/results.csv`, undefined, { key: null })).status,
      401,
    );
  });
});
