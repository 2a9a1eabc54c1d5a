// End to end: llm agents and LLM analysis against a fake OpenAI-compatible server (contract
// section 8), through the HTTP API and the simulated carrier.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startDispatchingApp, type TestApp, waitFor } from "../helpers/app.ts";
import {
  ANY_TIME,
  Api,
  assertAlternates,
  localDate,
  nextDay,
  SURVEY_SCHEMA,
  surveyCampaign,
  zonedInstant,
} from "../helpers/conversation.ts";
import { type FakeLlm, type FakeReply, fakeLlmEnv, startFakeLlm } from "../helpers/fakeLlm.ts";

const NY = "America/New_York";
const TOOLS = ["end_call", "schedule_call", "opt_out", "wrong_contact", "contact_refused", "save_answer"];
const PROMPT = "You are Ana from Acme Housing, calling {{ Job.ContactName }} about {{ Job.Metadata.topic }}.";

/** How the fake answers one job's requests. */
interface Script {
  /** The agent's reply at each step (step = assistant messages so far). */
  agent?: (step: number, body: any) => FakeReply;
  /** The extraction's values (every field null when absent). */
  extraction?: Record<string, unknown>;
  objective?: boolean;
  summary?: string;
}

const kind = (body: any): "agent" | "extraction" | "objective" | "summary" => {
  if (Array.isArray(body?.tools) && body.tools.length > 0) return "agent";
  const name = body?.response_format?.json_schema?.name;
  if (body?.response_format?.type === "json_schema" && name === "objective") return "objective";
  if (body?.response_format?.type === "json_schema") return "extraction";
  return "summary";
};

/** Null unless the schema lets null through (type, type list, anyOf/oneOf). */
function nullable(s: any): boolean {
  if (!s || typeof s !== "object") return false;
  if (s.type === "null" || (Array.isArray(s.type) && s.type.includes("null"))) return true;
  return [...(s.anyOf ?? []), ...(s.oneOf ?? [])].some(nullable);
}

describe("llm agents and LLM analysis end to end (fake LLM, sim carrier)", () => {
  let fake: FakeLlm;
  let t: TestApp;
  let api: Api;
  /** Scripts by the contact name rendered in the system prompt (the analysis uses `fallback`). */
  let scripts: Record<string, Script> = {};
  let fallback: Script = {};

  const scriptOf = (body: any): Script => {
    const system = String(body?.messages?.[0]?.content ?? "");
    for (const [name, s] of Object.entries(scripts)) if (system.includes(`calling ${name} `)) return s;
    return fallback;
  };
  const handler = (body: any): FakeReply => {
    const s = scriptOf(body);
    switch (kind(body)) {
      case "agent": {
        const step = body.messages.filter((m: { role: string }) => m.role === "assistant").length;
        return (
          s.agent?.(step, body) ?? { content: "Goodbye.", toolCalls: [{ name: "end_call", arguments: {} }] }
        );
      }
      case "extraction": {
        const props = Object.keys(body.response_format.json_schema.schema.properties ?? {});
        const e = fallback.extraction ?? {};
        return { json: Object.fromEntries(props.map((p) => [p, e[p] ?? null])) };
      }
      case "objective":
        return { json: { ObjectiveMet: fallback.objective ?? true, Reason: "judged by the fake" } };
      case "summary":
        return { content: fallback.summary ?? "Summary by the fake." };
    }
  };

  before(async () => {
    fake = await startFakeLlm();
    t = await startDispatchingApp(fakeLlmEnv(fake));
    api = new Api(t);
  });
  after(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    scripts = {};
    fallback = {};
    fake.reply(handler);
  });

  const llmCampaign = (extra: Record<string, unknown> = {}) =>
    api.campaign({
      Name: "Housing survey (llm)",
      Agent: { Type: "llm", Prompt: PROMPT },
      AnalysisSchema: SURVEY_SCHEMA,
      Schedule: { TimeZone: NY, Windows: ANY_TIME, MaxAttempts: 1, RetryDelaySeconds: 0 },
      ...extra,
    });
  const requestsOf = (k: ReturnType<typeof kind>): any[] => fake.requests.filter((r) => kind(r.body) === k);

  /** Opening line, then save_answer after the contact's reply, then goodbye and end_call. */
  const surveyScript = (name: string): Script => ({
    agent: (step) =>
      [
        { content: `Hi ${name}, how many people live in your household?` },
        {
          toolCalls: [
            { name: "save_answer", arguments: { Field: "household_size", Value: 3 }, id: "call_save_1" },
          ],
        },
        { content: "Thank you, goodbye.", toolCalls: [{ name: "end_call", arguments: {} }] },
      ][step] ?? { content: "Goodbye.", toolCalls: [{ name: "end_call", arguments: {} }] },
  });

  test("an llm agent: opening line, save_answer, end_call → completed with the answer; the requests", async () => {
    const cmp = await llmCampaign();
    scripts.Jane = surveyScript("Jane");
    await api.sim("+14155550601", [{ Answer: "human", Replies: ["Three of us"] }]);
    const created = await api.job(cmp.Id, {
      PhoneNumber: "+14155550601",
      ContactName: "Jane",
      Metadata: { topic: "housing" },
    });
    const j = await api.ended(created.Id);
    assert.equal(j.State, "completed", JSON.stringify(j));
    assert.deepEqual(j.Result, { household_size: 3, income_band: null, notes: null });
    assert.equal(j.Summary, "Summary by the fake.");
    assert.equal(j.ObjectiveMet, null);
    const [c] = await api.calls(j.Id);
    assert.equal(c.EndReason, "completed");
    assert.deepEqual(
      c.Transcript.map((e: { Role: string; Text: string }) => [e.Role, e.Text]),
      [
        ["agent", "Hi Jane, how many people live in your household?"],
        ["contact", "Three of us"],
        ["agent", "Thank you, goodbye."],
      ],
    );
    assertAlternates(c.Transcript);

    const agentReqs = requestsOf("agent");
    assert.equal(agentReqs.length, 3);
    const rendered = "You are Ana from Acme Housing, calling Jane about housing.";
    for (const r of agentReqs) {
      assert.equal(r.path, "/v1/chat/completions");
      assert.equal(r.headers.authorization, "Bearer k");
      assert.equal(r.body.model, "m");
      assert.equal(r.body.messages[0].role, "system");
      // The rendered Prompt is the system message; Cobbery's call context follows as a second one.
      assert.equal(r.body.messages[0].content, rendered);
      assert.equal(r.body.messages[1].role, "system");
      assert.deepEqual(r.body.tools.map((x: any) => x.function.name).sort(), [...TOOLS].sort());
      for (const tool of r.body.tools) assert.equal(tool.type, "function");
    }
    const tools = Object.fromEntries(agentReqs[0].body.tools.map((x: any) => [x.function.name, x.function]));
    assert.ok(tools.schedule_call.parameters.properties.At);
    assert.ok(tools.save_answer.parameters.properties.Field);
    assert.ok("Value" in tools.save_answer.parameters.properties);
    // The conversation so far as user/assistant messages, tool results as tool messages.
    const roles = (r: any) => r.body.messages.map((m: { role: string }) => m.role);
    assert.deepEqual(roles(agentReqs[0]), ["system", "system"]);
    assert.deepEqual(roles(agentReqs[1]), ["system", "system", "assistant", "user"]);
    assert.equal(agentReqs[1].body.messages[2].content, "Hi Jane, how many people live in your household?");
    assert.equal(agentReqs[1].body.messages[3].content, "Three of us");
    assert.deepEqual(roles(agentReqs[2]), ["system", "system", "assistant", "user", "assistant", "tool"]);
    const toolCall = agentReqs[2].body.messages[4].tool_calls[0];
    assert.equal(toolCall.function.name, "save_answer");
    assert.deepEqual(JSON.parse(toolCall.function.arguments), { Field: "household_size", Value: 3 });
    assert.equal(agentReqs[2].body.messages[5].tool_call_id, "call_save_1");

    // The analysis: one json_schema extraction with every property nullable, over the transcript.
    const [extraction, ...moreExtractions] = requestsOf("extraction");
    assert.equal(moreExtractions.length, 0);
    assert.equal(extraction.body.response_format.type, "json_schema");
    const schema = extraction.body.response_format.json_schema.schema;
    assert.deepEqual(Object.keys(schema.properties).sort(), ["household_size", "income_band", "notes"]);
    for (const [k, s] of Object.entries(schema.properties)) assert.ok(nullable(s), `${k} is nullable`);
    assert.ok(JSON.stringify(extraction.body.messages).includes("Three of us"));
    assert.equal(requestsOf("objective").length, 0, "no objective prompt, no judgement");
  });

  test("an extraction's non-null value overrides a save_answer value; nulls keep it", async () => {
    const cmp = await llmCampaign();
    scripts.Omar = surveyScript("Omar");
    fallback.extraction = { household_size: 4, income_band: "over 60k", notes: null };
    await api.sim("+14155550602", [{ Answer: "human", Replies: ["Four, and we earn over 60k"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550602", ContactName: "Omar" })).Id,
    );
    assert.equal(j.State, "completed");
    assert.deepEqual(j.Result, { household_size: 4, income_band: "over 60k", notes: null });
  });

  test("objective met → completed with ObjectiveMet true", async () => {
    const cmp = await llmCampaign({ CampaignObjectivePrompt: "The contact gave their household size." });
    scripts.Mia = surveyScript("Mia");
    fallback.objective = true;
    await api.sim("+14155550603", [{ Answer: "human", Replies: ["Three"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550603", ContactName: "Mia" })).Id,
    );
    assert.equal(j.State, "completed");
    assert.equal(j.ObjectiveMet, true);
    assert.equal(j.FailureReason, null);
    const [judge, ...more] = requestsOf("objective");
    assert.equal(more.length, 0);
    const schema = judge.body.response_format.json_schema.schema;
    assert.equal(schema.properties.ObjectiveMet.type, "boolean");
    assert.equal(schema.properties.Reason.type, "string");
    assert.ok(JSON.stringify(judge.body.messages).includes("The contact gave their household size."));
  });

  test("objective not met → failed/campaign_objective_missed, ObjectiveMet false, Result kept", async () => {
    const cmp = await api.campaign(
      surveyCampaign({
        CampaignObjectivePrompt: "The contact earns under 30k.",
        schedule: { MaxAttempts: 1 },
      }),
    );
    fallback.objective = false;
    await api.sim("+14155550604", [{ Answer: "human", Replies: ["yes", "two", "over 60k"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550604" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "campaign_objective_missed");
    assert.ok(j.FailureMessage);
    assert.equal(j.ObjectiveMet, false);
    assert.deepEqual(j.Result, { household_size: 2, income_band: "over 60k", notes: null });
    assert.equal(requestsOf("objective").length, 1);
  });

  test("a job failing for another reason keeps ObjectiveMet null, and the objective is not asked", async () => {
    const cmp = await api.campaign(
      surveyCampaign({ CampaignObjectivePrompt: "The contact answered.", schedule: { MaxAttempts: 1 } }),
    );
    await api.sim("+14155550605", [{ Answer: "human", Replies: ["yes", "3", "not interested"] }]);
    await api.sim("+14155550606", [{ Answer: "human", Replies: ["yes", "3"] }]);
    const refused = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550605" })).Id);
    const cut = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550606" })).Id);
    assert.equal(refused.FailureReason, "contact_refused");
    assert.equal(cut.FailureReason, "max_attempts_exceeded");
    for (const j of [refused, cut]) {
      assert.equal(j.State, "failed");
      assert.equal(j.ObjectiveMet, null);
      assert.equal(j.Result.household_size, 3, "a failed job keeps what was collected");
    }
    assert.equal(requestsOf("objective").length, 0);
  });

  test("a 401 fails the job configuration_error naming COBBERY_LLM_API_KEY and pauses the campaign", async () => {
    const cmp = await llmCampaign();
    fake.queue({ status: 401 });
    await api.sim("+14155550607", [{ Answer: "human", Replies: ["hello"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550607", ContactName: "Kai" })).Id,
    );
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "configuration_error");
    assert.match(j.FailureMessage, /COBBERY_LLM_API_KEY/);
    const c = (await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body;
    assert.equal(c.Status, "paused");
    assert.equal(typeof c.StatusReason, "string");
    assert.match(c.StatusReason, /COBBERY_LLM_API_KEY/);
    // The campaign's other jobs wait instead of failing.
    const waiting = await api.job(cmp.Id, { PhoneNumber: "+14155550608" });
    await new Promise((r) => setTimeout(r, 300));
    const w = await api.getJob(waiting.Id);
    assert.equal(w.State, "pending");
    assert.equal(w.Attempts, 0);
    // Resuming clears the reason.
    const resumed = await t.request("POST", `/v1/campaigns/${cmp.Id}/resume`);
    assert.equal(resumed.body.StatusReason, null);
    await t.request("POST", `/v1/jobs/${waiting.Id}/cancel`);
  });

  test("calls that hit the configuration error after it paused the campaign leave their jobs waiting", async () => {
    const cmp = await llmCampaign({
      Schedule: { TimeZone: NY, Windows: ANY_TIME, MaxAttempts: 2, RetryDelaySeconds: 0 },
    });
    const slow = ["Slow0", "Slow1", "Slow2"];
    for (const name of slow) scripts[name] = { agent: () => ({ status: 401, delayMs: 3000 }) };
    scripts.First = { agent: () => ({ status: 401 }) };
    const ids: string[] = [];
    for (const [i, name] of slow.entries()) {
      await api.sim(`+1415555095${i}`, [{ Answer: "human", Replies: ["hello"] }]);
      ids.push((await api.job(cmp.Id, { PhoneNumber: `+1415555095${i}`, ContactName: name })).Id);
    }
    await waitFor(
      async () => requestsOf("agent").length >= slow.length || undefined,
      10_000,
      "the slow calls",
    );
    await api.sim("+14155550959", [{ Answer: "human", Replies: ["hello"] }]);
    const first = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550959", ContactName: "First" })).Id,
    );
    assert.deepEqual([first.State, first.FailureReason], ["failed", "configuration_error"]);
    for (const id of ids) {
      const j = await api.settledAfterCalls(id, 1);
      assert.deepEqual([j.State, j.FailureReason, j.Attempts], ["pending", null, 1], JSON.stringify(j));
    }
    const c = (await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body;
    assert.equal(c.Status, "paused");
    for (const id of ids) await t.request("POST", `/v1/jobs/${id}/cancel`);
  });

  test("a finished conversation whose analysis hits the error after the pause still fails: no call again", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 2 } }));
    const mentions = (body: any, text: string) => JSON.stringify(body.messages).includes(text);
    fake.reply((body) =>
      kind(body) !== "extraction"
        ? handler(body)
        : mentions(body, "under 30k")
          ? { status: 401, delayMs: 3000 }
          : { status: 401 },
    );
    await api.sim("+14155550960", [{ Answer: "human", Replies: ["yes", "3", "under 30k"] }]);
    const finished = await api.job(cmp.Id, { PhoneNumber: "+14155550960" });
    await waitFor(
      async () => requestsOf("extraction").some((r) => mentions(r.body, "under 30k")) || undefined,
      10_000,
      "the slow analysis",
    );
    await api.sim("+14155550961", [{ Answer: "human", Replies: ["yes", "4", "over 60k"] }]);
    const first = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550961" })).Id);
    assert.equal(first.FailureReason, "configuration_error");
    const j = await api.ended(finished.Id);
    assert.deepEqual([j.State, j.FailureReason, j.Attempts], ["failed", "configuration_error", 1]);
  });

  test("a 401 during the analysis of a flow campaign is a configuration error too", async () => {
    const cmp = await api.campaign(surveyCampaign());
    fake.queue({ status: 401 });
    await api.sim("+14155550609", [{ Answer: "human", Replies: ["yes", "3", "under 30k"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550609" })).Id);
    assert.equal(j.FailureReason, "configuration_error");
    assert.match(j.FailureMessage, /COBBERY_LLM_API_KEY/);
    assert.equal((await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body.Status, "paused");
    // A failed job keeps what was collected.
    assert.deepEqual(j.Result, { household_size: 3, income_band: "under 30k", notes: null });
  });

  test("a configuration error in the objective's judgement keeps what the extraction found, and how the call ended", async () => {
    const cmp = await api.campaign(
      surveyCampaign({ CampaignObjectivePrompt: "The contact answered.", schedule: { MaxAttempts: 1 } }),
    );
    fallback.extraction = { notes: "lives with two cats" };
    fake.reply((body) => (kind(body) === "objective" ? { status: 401 } : handler(body)));
    await api.sim("+14155550697", [{ Answer: "human", Replies: ["yes", "3", "under 30k"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550697" })).Id);
    assert.deepEqual([j.State, j.FailureReason], ["failed", "configuration_error"]);
    assert.deepEqual(j.Result, { household_size: 3, income_band: "under 30k", notes: "lives with two cats" });
    const [c] = await api.calls(j.Id);
    assert.equal(c.EndReason, "completed", "the conversation ended as it should; its judgement failed");
  });

  test("a judge that cannot answer (5xx past the retries) leaves the job as the call decided, ObjectiveMet null", async () => {
    const cmp = await api.campaign(
      surveyCampaign({ CampaignObjectivePrompt: "The contact answered.", schedule: { MaxAttempts: 1 } }),
    );
    fake.reply((body) => (kind(body) === "objective" ? { status: 500 } : handler(body)));
    await api.sim("+14155550696", [{ Answer: "human", Replies: ["yes", "3", "under 30k"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550696" })).Id);
    assert.deepEqual([j.State, j.ObjectiveMet, j.FailureReason], ["completed", null, null]);
    assert.equal(j.Result.household_size, 3);
    assert.ok(requestsOf("objective").length >= 2, "the judgement was retried");
  });

  test("an opt-out said on a call whose analysis then hits a configuration error is still an opt-out", async () => {
    const cmp = await api.campaign(surveyCampaign());
    fake.queue({ status: 401 });
    await api.sim("+14155550698", [{ Answer: "human", Replies: ["please stop calling me"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550698" })).Id);
    assert.deepEqual([j.State, j.FailureReason], ["failed", "opted_out"]);
    const listed = (await t.request("GET", "/v1/opt-outs")).body.Items.map(
      (o: { PhoneNumber: string }) => o.PhoneNumber,
    );
    assert.ok(listed.includes("+14155550698"), "the number is not on the opt-out list");
    // The configuration error still pauses the campaign, naming what to fix.
    const c = (await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body;
    assert.equal(c.Status, "paused");
    assert.match(c.StatusReason, /COBBERY_LLM_API_KEY/);
  });

  test("a model the endpoint does not know (404) is a configuration error", async () => {
    const cmp = await llmCampaign({ Agent: { Type: "llm", Prompt: PROMPT, Model: "no-such-model" } });
    fake.reply((body) => (body.model === "no-such-model" ? { status: 404 } : handler(body)));
    await api.sim("+14155550610", [{ Answer: "human", Replies: ["hello"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550610", ContactName: "Lu" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "configuration_error");
    assert.match(j.FailureMessage, /no-such-model/);
    assert.ok(
      fake.requests.every((r) => r.body.model === "no-such-model"),
      "Agent.Model overrides",
    );
    assert.equal((await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body.Status, "paused");
  });

  test("a 429 with Retry-After is waited out, and the call goes on", async () => {
    const cmp = await llmCampaign();
    scripts.Rae = surveyScript("Rae");
    fake.queue({ status: 429, retryAfter: 1 });
    await api.sim("+14155550611", [{ Answer: "human", Replies: ["Three of us"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550611", ContactName: "Rae" })).Id,
    );
    assert.equal(j.State, "completed", JSON.stringify(j));
    assert.equal(j.Result.household_size, 3);
    const agentReqs = requestsOf("agent");
    assert.equal(agentReqs.length, 4, "the first request was tried again");
    assert.deepEqual(agentReqs[0].body, agentReqs[1].body);
  });

  test("5xx answers are retried; when the retries run out the attempt is unfinished, not a configuration error", async () => {
    const cmp = await llmCampaign();
    scripts.Sol = surveyScript("Sol");
    fake.queue({ status: 503 }, { status: 502 });
    await api.sim("+14155550616", [{ Answer: "human", Replies: ["Three of us"] }]);
    const ok = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550616", ContactName: "Sol" })).Id,
    );
    assert.equal(ok.State, "completed", JSON.stringify(ok));

    fake.queue(
      { status: 500, retryAfter: 0 },
      { status: 500, retryAfter: 0 },
      { status: 500, retryAfter: 0 },
    );
    await api.sim("+14155550617", [{ Answer: "human", Replies: ["hello"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550617", ContactName: "Ty" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    const c = (await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body;
    assert.equal(c.Status, "active");
    assert.equal(c.StatusReason, null);
  });

  test("the analysis reads the transcripts of every call of the job", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 2 } }));
    await api.sim("+14155550618", [
      { Answer: "human", Replies: ["yes", "four"] },
      { Answer: "human", Replies: ["over 60k"] },
    ]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550618" })).Id);
    assert.equal(j.State, "completed");
    assert.deepEqual(j.Result, { household_size: 4, income_band: "over 60k", notes: null });
    const extractions = requestsOf("extraction");
    assert.equal(extractions.length, 2);
    const last = JSON.stringify(extractions[1].body.messages);
    assert.ok(last.includes("four") && last.includes("over 60k"), last);
  });

  test("preview renders an llm agent's Prompt", async () => {
    const cmp = await llmCampaign();
    const p = await t.request("POST", `/v1/campaigns/${cmp.Id}/preview`, {
      Job: { PhoneNumber: "+14155550619", ContactName: "Jane" },
    });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.SystemPrompt, "You are Ana from Acme Housing, calling Jane about .");
    assert.deepEqual(p.body.MissingVariables, ["Job.Metadata.topic"]);
  });

  test("inbound routing skips a job on a live call; canceling the job ends that call", async () => {
    const cmp = await llmCampaign({ InboundMode: "lookup", PhoneNumbers: ["+14155550690"] });
    scripts.Liv = {
      agent: (step) =>
        step === 0
          ? { content: "Hello there, do you have a minute?", delayMs: 1500 }
          : { content: "Bye.", toolCalls: [{ name: "end_call", arguments: {} }] },
    };
    await api.sim("+14155550620", [{ Answer: "human", Replies: ["sure"] }]);
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550620", ContactName: "Liv" });
    await waitFor(async () => requestsOf("agent").length > 0 || undefined, 10_000, "the call to be live");
    assert.equal((await api.getJob(job.Id)).State, "in_progress");
    const r = await api.inbound("+14155550620", "+14155550690", ["hello"]);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.Status, "rejected", "the only job is on a live call");
    assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
    const j = await api.ended(job.Id);
    assert.equal(j.State, "canceled");
    const [c] = await api.calls(job.Id);
    await waitFor(async () => (await api.calls(job.Id))[0]?.EndedAt || undefined, 10_000, "the call to end");
    const ended = (await api.calls(job.Id))[0];
    assert.equal(c.Id, ended.Id);
    assert.equal(ended.EndReason, "canceled");
    assert.equal(ended.AnsweredBy, "human");
    assert.equal(
      ended.BilledSeconds,
      Math.ceil((Date.parse(ended.EndedAt) - Date.parse(ended.AnsweredAt)) / 1000),
    );
    assert.equal(requestsOf("agent").length, 1, "nothing more is asked of the model once the call is ended");
  });

  test("an outbound call reads in_progress with its AnsweredAt while it is live", {}, async () => {
    const cmp = await llmCampaign();
    scripts.Ned = {
      agent: (step) =>
        step === 0
          ? { content: "Hello there.", delayMs: 1000 }
          : { content: "Bye.", toolCalls: [{ name: "end_call", arguments: {} }] },
    };
    await api.sim("+14155550621", [{ Answer: "human", Replies: ["hi"] }]);
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550621", ContactName: "Ned" });
    await waitFor(async () => requestsOf("agent").length > 0 || undefined, 10_000, "the call to be live");
    const [live] = await api.calls(job.Id);
    await api.ended(job.Id);
    assert.equal(live.Status, "in_progress", JSON.stringify(live));
    assert.equal(live.AnsweredBy, "human");
    assert.ok(live.AnsweredAt);
  });

  test("a cancel during the agent's turn cuts the LLM request: the call ends at once, canceled", async () => {
    const cmp = await llmCampaign();
    scripts.Slow = {
      agent: (step) =>
        step === 0 ? { content: "Hello, do you have a minute?" } : { content: "Hm.", delayMs: 8_000 },
    };
    await api.sim("+14155550699", [{ Answer: "human", Replies: ["sure", "go on"] }]);
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550699", ContactName: "Slow" });
    const slowTurns = () => requestsOf("agent").filter((r) => scriptOf(r.body) === scripts.Slow).length;
    await waitFor(async () => slowTurns() >= 2, 10_000, "the agent's slow turn");
    const t0 = Date.now();
    assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
    const [call] = await waitFor(async () => {
      const calls = await api.calls(job.Id);
      return calls[0]?.EndedAt ? calls : undefined;
    }, 10_000);
    const took = Date.now() - t0;
    assert.equal(call.EndReason, "canceled");
    assert.ok(took < 4_000, `the call ended ${took} ms after the cancel`);
  });

  test("a canceled call sends nothing more to the LLM: no extraction, summary or judgement", async () => {
    const cmp = await llmCampaign({ CampaignObjectivePrompt: "The contact answered." });
    scripts.Late = {
      agent: (step) =>
        step === 0 ? { content: "Hello, do you have a minute?" } : { content: "Hm.", delayMs: 8_000 },
    };
    await api.sim("+14155550693", [{ Answer: "human", Replies: ["sure", "go on"] }]);
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550693", ContactName: "Late" });
    const lateTurns = () => requestsOf("agent").filter((r) => scriptOf(r.body) === scripts.Late).length;
    await waitFor(async () => lateTurns() >= 2, 10_000, "the agent's slow turn");
    assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
    const [call] = await waitFor(async () => {
      const calls = await api.calls(job.Id);
      return calls[0]?.EndedAt ? calls : undefined;
    }, 20_000);
    assert.deepEqual([call.Status, call.EndReason], ["canceled", "canceled"]);
    // The close is the last write: whatever the analysis asked came before it.
    const asked = fake.requests.filter((r) => kind(r.body) !== "agent").map((r) => kind(r.body));
    assert.deepEqual(asked, [], "the canceled call's words were sent on");
  });

  test("a save_answer whose Value does not fit its field is refused to the model, which can ask again", async () => {
    const cmp = await llmCampaign();
    scripts.Rex = {
      agent: (step) =>
        [
          { content: "How many people live in your household?" },
          {
            toolCalls: [
              { name: "save_answer", arguments: { Field: "household_size", Value: "many" }, id: "c1" },
            ],
          },
          {
            toolCalls: [{ name: "save_answer", arguments: { Field: "household_size", Value: 4 }, id: "c2" }],
          },
        ][step] ?? { content: "Thanks, goodbye.", toolCalls: [{ name: "end_call", arguments: {} }] },
    };
    await api.sim("+14155550694", [{ Answer: "human", Replies: ["lots of us, four"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550694", ContactName: "Rex" })).Id,
    );
    const replies = requestsOf("agent")
      .flatMap((r) => r.body.messages)
      .filter((m: { role: string }) => m.role === "tool")
      .map((m: { tool_call_id: string; content: string }): [string, string] => [m.tool_call_id, m.content]);
    assert.match(new Map(replies).get("c1") ?? "", /^error: this Value does not fit household_size, /);
    assert.equal(new Map(replies).get("c2"), "ok: saved");
    assert.equal(j.Result.household_size, 4);
  });

  test("an opt-out the model lets pass is still an opt-out: the call ends and the number is listed", async () => {
    const cmp = await llmCampaign();
    // The model goes on with its survey whatever the contact says.
    scripts.Ivy = { agent: () => ({ content: "How many people live in your household?" }) };
    await api.sim("+14155550695", [{ Answer: "human", Replies: ["please stop calling me", "three"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550695", ContactName: "Ivy" })).Id,
    );
    assert.deepEqual([j.State, j.FailureReason], ["failed", "opted_out"]);
    const listed = (await t.request("GET", "/v1/opt-outs")).body.Items.map(
      (o: { PhoneNumber: string }) => o.PhoneNumber,
    );
    assert.ok(listed.includes("+14155550695"), "the number is not on the opt-out list");
    const [c] = await api.calls(j.Id);
    const contact = c.Transcript.filter((e: { Role: string }) => e.Role === "contact").map(
      (e: { Text: string }) => e.Text,
    );
    assert.deepEqual(contact, ["please stop calling me"], "the call ended at the request");
  });

  test("opt_out, wrong_contact, contact_refused and schedule_call tools end jobs like the flow intents", async () => {
    const cmp = await llmCampaign({
      Schedule: { TimeZone: NY, Windows: ANY_TIME, MaxAttempts: 1, RetryDelaySeconds: 0, MaxCallbacks: 2 },
    });
    const toolScript = (tool: string, args: Record<string, unknown> = {}): Script => ({
      agent: (step) =>
        step === 0
          ? { content: "Hello, do you have a minute?" }
          : { toolCalls: [{ name: tool, arguments: args }] },
    });
    scripts.Opt = toolScript("opt_out");
    // Models often end the call in the same answer: the intent still decides.
    scripts.OptEnd = {
      agent: (step) =>
        step === 0
          ? { content: "Hello, do you have a minute?" }
          : {
              toolCalls: [
                { name: "opt_out", arguments: {} },
                { name: "end_call", arguments: {} },
              ],
            },
    };
    scripts.Wrong = toolScript("wrong_contact");
    scripts.Refuse = toolScript("contact_refused");
    scripts.Later = toolScript("schedule_call", { At: "tomorrow at 5pm" });
    // An ISO time without an offset, as the context's local time reads: the contact's wall clock.
    let isoAt = "";
    let isoDay = { year: 0, month: 0, day: 0 };
    scripts.LaterIso = {
      agent: (step) => {
        if (step === 0) return { content: "Hello, do you have a minute?" };
        isoDay = nextDay(localDate(new Date(), NY));
        const pad = (n: number) => String(n).padStart(2, "0");
        isoAt = `${isoDay.year}-${pad(isoDay.month)}-${pad(isoDay.day)}T17:00:00`;
        return { toolCalls: [{ name: "schedule_call", arguments: { At: isoAt } }] };
      },
    };
    const phones = {
      Opt: "+14155550612",
      OptEnd: "+14155550697",
      Wrong: "+14155550613",
      Refuse: "+14155550614",
      Later: "+14155550615",
      LaterIso: "+14155550616",
    };
    const jobs: Record<string, string> = {};
    for (const [name, phone] of Object.entries(phones)) {
      await api.sim(phone, [{ Answer: "human", Replies: ["something"] }]);
      jobs[name] = (await api.job(cmp.Id, { PhoneNumber: phone, ContactName: name, TimeZone: NY })).Id;
    }
    const opt = await api.ended(jobs.Opt!);
    assert.equal((await api.ended(jobs.OptEnd!)).FailureReason, "opted_out");
    const wrong = await api.ended(jobs.Wrong!);
    const refuse = await api.ended(jobs.Refuse!);
    assert.equal(opt.FailureReason, "opted_out");
    assert.equal(wrong.FailureReason, "wrong_contact");
    assert.equal(refuse.FailureReason, "contact_refused");
    const listed = (await t.request("GET", "/v1/opt-outs")).body.Items.map(
      (o: { PhoneNumber: string }) => o.PhoneNumber,
    );
    assert.ok(listed.includes(phones.Opt));
    assert.ok(listed.includes(phones.OptEnd));
    for (const j of [opt, wrong, refuse]) {
      const [c] = await api.calls(j.Id);
      assert.equal(c.Transcript.at(-1).Role, "agent", "a closing line");
    }
    const later = await api.settledAfterCalls(jobs.Later!, 1);
    assert.equal(later.State, "pending", JSON.stringify(later));
    assert.equal(later.Callbacks, 1);
    const [c] = await api.calls(later.Id);
    const said = new Date(c.Transcript.find((e: { Role: string }) => e.Role === "contact").At);
    assert.equal(later.NextCallAt, zonedInstant(nextDay(localDate(said, NY)), 17, NY).toISOString());
    await t.request("POST", `/v1/jobs/${later.Id}/cancel`);

    const laterIso = await api.settledAfterCalls(jobs.LaterIso!, 1);
    assert.equal(laterIso.State, "pending", JSON.stringify(laterIso));
    assert.ok(isoAt, "the model was asked");
    assert.equal(laterIso.NextCallAt, zonedInstant(isoDay, 17, NY).toISOString(), `At ${isoAt}`);
    await t.request("POST", `/v1/jobs/${laterIso.Id}/cancel`);

    // The call context gives the contact's wall-clock time with its offset: the same instant as the
    // request's, in the job's zone.
    const first = requestsOf("agent").find((r) =>
      String(r.body.messages[0].content).includes("calling LaterIso "),
    );
    const context = String(first?.body.messages[1].content);
    const m =
      /The contact's local time is (\d{4}-\d\d-\d\dT(\d\d):\d\d:\d\d([+-]\d\d:\d\d)), a (\w+day) \(America\/New_York\)/.exec(
        context,
      );
    assert.ok(m, context);
    const stated = new Date(m[1]!);
    assert.ok(Math.abs(stated.getTime() - Date.now()) < 120_000, `${m[1]} is about now`);
    const nyHour = Number(
      new Intl.DateTimeFormat("en-US", { timeZone: NY, hour: "numeric", hourCycle: "h23" }).format(stated),
    );
    assert.equal(Number(m[2]), nyHour, "the hour is New York's");
    assert.ok(m[3] === "-05:00" || m[3] === "-04:00", m[3]);
    assert.equal(
      m[4],
      new Intl.DateTimeFormat("en-US", { timeZone: NY, weekday: "long" }).format(stated),
      "the weekday is New York's",
    );
  });

  test("an LLM failure during the call keeps the answers saved before it in Result", async () => {
    for (const [i, failure] of [{ status: 500 }, { status: 401 }].entries()) {
      const cmp = await llmCampaign();
      const name = `Broke${i}`;
      scripts[name] = {
        agent: (step) =>
          step === 0
            ? { content: "Hi, how many people live in your household?" }
            : step === 1
              ? { toolCalls: [{ name: "save_answer", arguments: { Field: "household_size", Value: 4 } }] }
              : (failure as FakeReply),
      };
      const phone = `+1415555093${i}`;
      await api.sim(phone, [{ Answer: "human", Replies: ["Four of us", "and what else?"] }]);
      const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: phone, ContactName: name })).Id);
      assert.equal(j.State, "failed");
      assert.equal(j.FailureReason, failure.status === 401 ? "configuration_error" : "max_attempts_exceeded");
      assert.deepEqual(j.Result, { household_size: 4, income_band: null, notes: null }, JSON.stringify(j));
      if (failure.status === 401) await t.request("POST", `/v1/campaigns/${cmp.Id}/resume`);
    }
  });

  test("an opt-out said on the turn the LLM fails on still opts the contact out", async () => {
    for (const [i, failure] of [{ status: 500 }, { status: 401 }].entries()) {
      const cmp = await llmCampaign({
        Schedule: { TimeZone: NY, Windows: ANY_TIME, MaxAttempts: 3, RetryDelaySeconds: 0 },
      });
      const name = `Quit${i}`;
      scripts[name] = {
        agent: (step) => (step === 0 ? { content: "Hi, do you have a minute?" } : (failure as FakeReply)),
      };
      const phone = `+1415555094${i}`;
      await api.sim(phone, [{ Answer: "human", Replies: ["Stop calling me. Do not call me again."] }]);
      const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: phone, ContactName: name })).Id);
      assert.deepEqual([j.State, j.FailureReason, j.Attempts], ["failed", "opted_out", 1], JSON.stringify(j));
      const listed = (await t.request("GET", "/v1/opt-outs")).body.Items.map(
        (o: { PhoneNumber: string }) => o.PhoneNumber,
      );
      assert.ok(listed.includes(phone), "the number is on the opt-out list");
    }
  });

  test("a test job's call-back whose judgement hits a configuration error fails configuration_error", async () => {
    const cmp = await api.campaign(surveyCampaign({ CampaignObjectivePrompt: "The contact answered." }));
    fake.reply((body) => (kind(body) === "objective" ? { status: 401 } : handler(body)));
    await api.sim("+14155550942", [{ Answer: "human", Replies: ["call me back tomorrow at 5pm"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550942", TestJob: true })).Id);
    assert.deepEqual([j.State, j.FailureReason, j.ObjectiveMet], ["failed", "configuration_error", null]);
    assert.equal((await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body.Status, "paused");
  });

  test("a configuration error on an inbound call pauses the campaign and leaves its completed job as it was", async () => {
    const cmp = await llmCampaign({
      InboundMode: "lookup",
      PhoneNumbers: ["+14155550934"],
      CampaignObjectivePrompt: "The contact gave their household size.",
    });
    scripts.Ines = surveyScript("Ines");
    fallback.objective = true;
    await api.sim("+14155550935", [{ Answer: "human", Replies: ["Three"] }]);
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550935", ContactName: "Ines" });
    const done = await api.ended(job.Id);
    assert.deepEqual([done.State, done.ObjectiveMet], ["completed", true]);
    fake.reply(() => ({ status: 401 }));
    const r = await api.inbound("+14155550935", "+14155550934", ["hello, you called me"]);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.JobId, job.Id);
    const after = await api.getJob(job.Id);
    assert.deepEqual(
      [after.State, after.ObjectiveMet, after.FailureReason, after.Result.household_size],
      ["completed", true, null, 3],
    );
    const c = (await t.request("GET", `/v1/campaigns/${cmp.Id}`)).body;
    assert.equal(c.Status, "paused");
    assert.match(c.StatusReason, /COBBERY_LLM_API_KEY/);
  });

  test("a test job's call-back is judged against the objective, as a job that would complete", async () => {
    const cmp = await api.campaign(surveyCampaign({ CampaignObjectivePrompt: "The contact answered." }));
    fallback.objective = false;
    await api.sim("+14155550936", [{ Answer: "human", Replies: ["call me back tomorrow at 5pm"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550936", TestJob: true })).Id);
    assert.deepEqual(
      [j.State, j.FailureReason, j.ObjectiveMet],
      ["failed", "campaign_objective_missed", false],
    );
    assert.equal(requestsOf("objective").length, 1);
  });

  test("an AnalysisSchema with $defs: the extraction is asked with them and its values checked against them", async () => {
    const schema = {
      type: "object",
      $defs: { band: { type: "string", enum: ["low", "mid", "high"] } },
      properties: { size: { type: "integer" }, band: { $ref: "#/$defs/band" } },
    };
    const cmp = await llmCampaign({ AnalysisSchema: schema });
    scripts.Defs = {
      agent: (step) =>
        step === 0
          ? { content: "Hi, what is your band?" }
          : step === 1
            ? { toolCalls: [{ name: "save_answer", arguments: { Field: "band", Value: "banana" } }] }
            : { content: "Bye.", toolCalls: [{ name: "end_call", arguments: {} }] },
    };
    fallback.extraction = { size: 2, band: "mid" };
    await api.sim("+14155550937", [{ Answer: "human", Replies: ["mid, two of us", "ok"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550937", ContactName: "Defs" })).Id,
    );
    assert.deepEqual(j.Result, { size: 2, band: "mid" });
    const [extraction] = requestsOf("extraction");
    assert.ok(extraction, "the extraction was asked");
    assert.deepEqual(extraction.body.response_format.json_schema.schema.$defs, schema.$defs);
    const refused = requestsOf("agent")
      .flatMap((r) => r.body.messages)
      .find((m: { role: string }) => m.role === "tool");
    assert.match(String(refused?.content), /not|fit|invalid/i, "banana was refused to the model");
  });

  test("an extraction schema with an open object is asked without strict; a closed one with strict", async () => {
    const open = {
      type: "object",
      properties: { address: { type: "object", properties: { city: { type: "string" } } } },
    };
    for (const [phone, schema, strict] of [
      ["+14155550938", SURVEY_SCHEMA, true],
      ["+14155550939", open, false],
    ] as const) {
      fake.reset();
      fake.reply(handler);
      const cmp = await llmCampaign({ AnalysisSchema: schema });
      await api.sim(phone, [{ Answer: "human", Replies: ["hello"] }]);
      await api.ended((await api.job(cmp.Id, { PhoneNumber: phone, ContactName: `S${phone.slice(-1)}` })).Id);
      const [extraction] = requestsOf("extraction");
      assert.equal(extraction?.body.response_format.json_schema.strict, strict, JSON.stringify(schema));
    }
  });
});
