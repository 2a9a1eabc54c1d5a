import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";

describe("tenancy and auth", () => {
  let t: TestApp;
  let otherKey: string;
  let campaignId: string;
  let jobId: string;
  before(async () => {
    t = await startTestApp({ COBBERY_API_KEY: "bootstrap-key-for-tests" });
    otherKey = await t.newOrgKey("globex");
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    jobId = (await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550123" }))
      .body.Id;
  });
  after(() => t.close());

  test("requests without a valid key answer 401", async () => {
    for (const key of [null, "wrong"]) {
      const r = await t.request("GET", "/v1/campaigns", undefined, { key });
      assert.equal(r.status, 401);
      assert.equal(r.body.Error.Code, "unauthorized");
    }
  });

  test("COBBERY_API_KEY works for organization default", async () => {
    const r = await t.request("GET", "/v1/campaigns", undefined, { key: "bootstrap-key-for-tests" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.Items, []);
  });

  test("another organization's ids answer 404 on every endpoint", async () => {
    const calls: Array<[string, string, unknown?]> = [
      ["GET", `/v1/campaigns/${campaignId}`],
      ["PATCH", `/v1/campaigns/${campaignId}`, { Name: "x" }],
      ["POST", `/v1/campaigns/${campaignId}/pause`],
      ["POST", `/v1/campaigns/${campaignId}/resume`],
      ["POST", `/v1/campaigns/${campaignId}/preview`, {}],
      ["POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550123" }],
      ["POST", `/v1/campaigns/${campaignId}/jobs/batch`, { Jobs: [] }],
      ["POST", `/v1/campaigns/${campaignId}/jobs/cancel`],
      ["DELETE", `/v1/campaigns/${campaignId}/pii`],
      ["GET", `/v1/jobs/${jobId}`],
      ["PATCH", `/v1/jobs/${jobId}`, { ContactName: "x" }],
      ["POST", `/v1/jobs/${jobId}/cancel`],
      ["POST", `/v1/jobs/${jobId}/retry`],
      ["DELETE", `/v1/jobs/${jobId}/pii`],
      ["GET", `/v1/jobs/${jobId}/calls`],
    ];
    for (const [method, path, body] of calls) {
      const r = await t.request(method, path, body, { key: otherKey });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.Error.Code, "not_found");
    }
    const list = await t.request("GET", "/v1/jobs", undefined, { key: otherKey });
    assert.deepEqual(list.body.Items, []);
    const job = await t.request("GET", `/v1/jobs/${jobId}`);
    assert.equal(job.body.State, "pending", "nothing changed");
  });

  test("opt-outs are per organization", async () => {
    await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550199" }, { key: otherKey });
    const mine = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, { PhoneNumber: "+14155550199" });
    assert.equal(mine.body.State, "pending");
  });

  test("the OpenAPI document and docs are served", async () => {
    const r = await fetch(`${t.url}/openapi.json`);
    const doc = (await r.json()) as any;
    assert.equal(doc.openapi.startsWith("3."), true);
    for (const p of ["/v1/campaigns", "/v1/campaigns/{CampaignId}/jobs", "/v1/jobs/{Id}/pii", "/v1/opt-outs"])
      assert.ok(doc.paths[p], p);
    assert.ok(doc.components.schemas.Job);
    const docs = await fetch(`${t.url}/docs`);
    assert.equal(docs.status, 200);
    const health = await fetch(`${t.url}/healthz`);
    assert.deepEqual(await health.json(), { Status: "ok" });
    // Another application's migrations table, in its own schema of the same database, is not ours.
    await t.database.db.query("create schema otherapp");
    await t.database.db.query("create table otherapp.schema_migrations (version bigint primary key)");
    try {
      const shared = await fetch(`${t.url}/healthz`);
      assert.equal(shared.status, 200);
    } finally {
      await t.database.db.query("drop schema otherapp cascade");
    }
  });
});
