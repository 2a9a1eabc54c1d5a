// An LLM endpoint configured without a default model (COBBERY_LLM_MODEL unset): campaigns that
// name their model use it, those that need one and name none are refused, and flow campaigns work
// as they do with no LLM at all.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { flowCampaign, jobEnded, simContact, startDispatchingApp, type TestApp } from "../helpers/app.ts";

let t: TestApp;
before(async () => {
  // Nothing listens there: no request may be made.
  t = await startDispatchingApp({ COBBERY_LLM_BASE_URL: "http://127.0.0.1:9/v1" });
});
after(() => t.close());

const paths = (r: { body: any }): string[] => r.body.Error.Details.map((d: { Path: string }) => d.Path);

test("an llm agent must name its model, and an objective prompt needs one", async () => {
  const unnamed = await t.request("POST", "/v1/campaigns", {
    Name: "x",
    Agent: { Type: "llm", Prompt: "You are Ana" },
  });
  assert.equal(unnamed.status, 400);
  assert.deepEqual(paths(unnamed), ["/Agent/Model"]);
  assert.match(JSON.stringify(unnamed.body), /COBBERY_LLM_MODEL/);
  const named = await t.request("POST", "/v1/campaigns", {
    Name: "x",
    Agent: { Type: "llm", Prompt: "You are Ana", Model: "some-model" },
  });
  assert.equal(named.status, 201, JSON.stringify(named.body));

  const objective = await t.request(
    "POST",
    "/v1/campaigns",
    flowCampaign({ CampaignObjectivePrompt: "Got the size" }),
  );
  assert.equal(objective.status, 400);
  assert.deepEqual(paths(objective), ["/CampaignObjectivePrompt"]);
});

test("a flow campaign's answered call is analysed without the LLM, not failed for want of a model", async () => {
  const campaign = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
  await simContact(t, "+14155550131", [{ Answer: "human", Replies: ["yes", "3"] }]);
  const job = (await t.request("POST", `/v1/campaigns/${campaign.Id}/jobs`, { PhoneNumber: "+14155550131" }))
    .body;
  const ended = await jobEnded(t, job.Id);
  assert.equal(ended.State, "completed", JSON.stringify(ended));
  assert.deepEqual(ended.Result, { household_size: 3 });
  assert.equal((await t.request("GET", `/v1/campaigns/${campaign.Id}`)).body.Status, "active");
});

test("a campaign stored with an objective before the default model was unset: renamed and archived, its jobs failed configuration_error, not completed unjudged", async () => {
  const campaign = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
  // As if created while COBBERY_LLM_MODEL was set.
  await t.database.db.query("update campaigns set objective_prompt = 'Got the size' where id = $1", [
    campaign.Id,
  ]);
  const renamed = await t.request("PATCH", `/v1/campaigns/${campaign.Id}`, { Name: "Renamed" });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));

  await simContact(t, "+14155550132", [{ Answer: "human", Replies: ["yes", "3"] }]);
  const job = (await t.request("POST", `/v1/campaigns/${campaign.Id}/jobs`, { PhoneNumber: "+14155550132" }))
    .body;
  const ended = await jobEnded(t, job.Id);
  assert.deepEqual([ended.State, ended.FailureReason], ["failed", "configuration_error"]);
  assert.match(ended.FailureMessage, /COBBERY_LLM_MODEL/);
  assert.equal((await t.request("GET", `/v1/campaigns/${campaign.Id}`)).body.Status, "paused");

  const archived = await t.request("PATCH", `/v1/campaigns/${campaign.Id}`, { Status: "archived" });
  assert.equal(archived.status, 200, JSON.stringify(archived.body));
});
