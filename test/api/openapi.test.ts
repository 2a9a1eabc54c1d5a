import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";

// The OpenAPI document is what clients are generated from: what it requires and bounds must be what
// the API requires and bounds, and what it says a response holds must be there.
describe("the OpenAPI document matches the API", () => {
  let t: TestApp;
  let doc: any;
  before(async () => {
    t = await startTestApp();
    doc = await (await fetch(`${t.url}/openapi.json`)).json();
  });
  after(() => t.close());

  const schema = (name: string) => doc.components.schemas[name];
  const bodyRef = (path: string, method: string) =>
    doc.paths[path][method].requestBody.content["application/json"].schema;

  test("a campaign's create requires Name and Agent, as the API does; PATCH requires nothing", async () => {
    assert.deepEqual(bodyRef("/v1/campaigns", "post").$ref, "#/components/schemas/CampaignCreate");
    assert.deepEqual([...schema("CampaignCreate").required].sort(), ["Agent", "Name"]);
    const r = await t.request("POST", "/v1/campaigns", {});
    assert.equal(r.status, 400);
    // Both at once, not one per try.
    assert.deepEqual(r.body.Error.Details.map((d: { Path: string }) => d.Path).sort(), ["/Agent", "/Name"]);
    assert.equal(schema("CampaignInput").required, undefined);
    assert.equal(bodyRef("/v1/campaigns/{Id}", "patch").$ref, "#/components/schemas/CampaignInput");
  });

  test("the preview's Job requires no field, as the API does", async () => {
    const job = bodyRef("/v1/campaigns/{Id}/preview", "post").properties.Job;
    assert.equal(job.$ref, "#/components/schemas/JobPreviewInput");
    assert.equal(schema("JobPreviewInput").required, undefined);
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
    const r = await t.request("POST", `/v1/campaigns/${c.Id}/preview`, { Job: { ContactName: "Jane" } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  test("every POST documents Idempotency-Key", () => {
    let posts = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      if (!ops.post) continue;
      posts++;
      const names = (ops.post.parameters ?? [])
        .filter((p: any) => p.in === "header")
        .map((p: any) => p.name.toLowerCase());
      assert.ok(names.includes("idempotency-key"), path);
    }
    assert.ok(posts >= 8, `${posts} POST operations`);
  });

  test("resources carry every field the document requires, and the bounds are the API's", async () => {
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
    const j = (await t.request("POST", `/v1/campaigns/${c.Id}/jobs`, { PhoneNumber: "+14155550199" })).body;
    const o = (await t.request("POST", "/v1/opt-outs", { PhoneNumber: "+14155550198" })).body;
    for (const [name, body] of [
      ["Campaign", c],
      ["Job", j],
      ["OptOut", o],
    ] as const) {
      const required: string[] = schema(name).required;
      assert.deepEqual(
        required.filter((k) => !(k in body)),
        [],
        name,
      );
      assert.deepEqual(
        Object.keys(body).filter((k) => !required.includes(k)),
        [],
        `${name}: undocumented`,
      );
    }
    assert.deepEqual(schema("Call").required.sort(), Object.keys(schema("Call").properties).sort());

    const max = schema("CampaignCreate").properties.Schedule.properties.MaxAttempts;
    assert.deepEqual([max.minimum, max.maximum, max.default], [1, 100, c.Schedule.MaxAttempts]);
    // A PATCH keeps what it leaves out: its body shows the bounds and no default.
    const patched = schema("CampaignInput").properties.Schedule.properties.MaxAttempts;
    assert.deepEqual([patched.minimum, patched.maximum, patched.default], [1, 100, undefined]);
    for (const [value, status] of [
      [max.maximum, 200],
      [max.maximum + 1, 400],
      [max.minimum - 1, 400],
    ] as const) {
      const r = await t.request("PATCH", `/v1/campaigns/${c.Id}`, { Schedule: { MaxAttempts: value } });
      assert.equal(r.status, status, String(value));
    }
    const end = new RegExp(
      schema("CampaignInput").properties.Schedule.properties.Windows.items.properties.End.pattern,
    );
    assert.equal(end.test("24:00"), true);
    assert.equal(end.test("24:01"), false);
  });
});
