import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { canonicalJson } from "../../src/api/idempotency.ts";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";

describe("Idempotency-Key", () => {
  let t: TestApp;
  let campaignId: string;
  before(async () => {
    t = await startTestApp();
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  after(() => t.close());
  const post = (body: unknown, key: string, apiKey?: string) =>
    t.request("POST", `/v1/campaigns/${campaignId}/jobs`, body, {
      headers: { "idempotency-key": key },
      ...(apiKey ? { key: apiKey } : {}),
    });

  test("the same key and body returns the first response and creates nothing new; key order is ignored", async () => {
    const a = await post({ PhoneNumber: "+14155550123", Metadata: { a: 1, b: 2 } }, "k1");
    const b = await post({ Metadata: { b: 2, a: 1 }, PhoneNumber: "+14155550123" }, "k1");
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.deepEqual(b.body, a.body);
    const list = await t.request("GET", `/v1/jobs?CampaignId=${campaignId}`);
    assert.equal(list.body.Items.length, 1);
  });

  test("the same key with another body answers 422", async () => {
    await post({ PhoneNumber: "+14155550124" }, "k2");
    const r = await post({ PhoneNumber: "+14155550125" }, "k2");
    assert.equal(r.status, 422);
    assert.equal(r.body.Error.Code, "idempotency_mismatch");
  });

  test("keys are per organization", async () => {
    const other = await t.newOrgKey("idem-other");
    const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign(), { key: other })).body.Id;
    const r = await t.request(
      "POST",
      `/v1/campaigns/${cmp}/jobs`,
      { PhoneNumber: "+14155550124" },
      { key: other, headers: { "idempotency-key": "k2" } },
    );
    assert.equal(r.status, 201);
  });

  test("while the first request is still running, a repeat answers 409 and does nothing", async () => {
    const body = { PhoneNumber: "+14155550126" };
    // The record a request in flight leaves: claimed, no response yet.
    const hash = createHash("sha256")
      .update(`/v1/campaigns/${campaignId}/jobs\n${canonicalJson(body)}`)
      .digest("hex");
    await t.database.db.query(
      "insert into idempotency_keys (org_id, key, method, path, request_hash, state) values ($1, 'k3', 'POST', '/v1/campaigns/:CampaignId/jobs', $2, 'running')",
      [t.orgId, hash],
    );
    const r = await post(body, "k3");
    assert.equal(r.status, 409);
    assert.equal(r.body.Error.Code, "conflict");
    assert.match(r.body.Error.Message, /still running/);
    const list = await t.request("GET", `/v1/jobs?PhoneNumber=%2B14155550126`);
    assert.equal(list.body.Items.length, 0);
    // Still "running" an hour later: its server stopped during it. The answer says so, and what to do.
    await t.database.db.query(
      "update idempotency_keys set created_at = now() - interval '1 hour' where org_id = $1 and key = 'k3'",
      [t.orgId],
    );
    const late = await post(body, "k3");
    assert.equal(late.status, 409);
    assert.match(late.body.Error.Message, /began 60 minutes ago and never finished.*new key/);
  });

  test("a request that failed validation is replayed as it was", async () => {
    const a = await post({ PhoneNumber: "nope" }, "k4");
    const b = await post({ PhoneNumber: "nope" }, "k4");
    assert.equal(a.status, 400);
    assert.equal(b.status, 400);
    assert.equal(b.headers.get("idempotent-replayed"), "true");
  });
});
