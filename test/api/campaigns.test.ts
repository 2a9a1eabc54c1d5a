import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { renderTemplate } from "../../src/templates/index.ts";
import { RESCHEDULE_TASK_NAME, resumeReschedules } from "../../src/usecases/campaigns/rescheduleJobs.ts";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";

describe("campaigns", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test("create fills defaults and answers 201 with a cmp_ id", async () => {
    const r = await t.request("POST", "/v1/campaigns", flowCampaign());
    assert.equal(r.status, 201);
    assert.match(r.body.Id, /^cmp_[0-9A-Z]{26}$/);
    assert.equal(r.body.Status, "active");
    assert.equal(r.body.InboundMode, "reject");
    assert.equal(r.body.Schedule.MaxAttempts, 3);
    assert.equal(r.body.Schedule.TimeZone, "America/New_York");
    assert.match(r.body.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // AnalysisSchema keeps the user's property order (export columns follow it).
    const ordered = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ AnalysisSchema: { type: "object", properties: { zeta: {}, alpha: {}, mid: {} } } }),
    );
    assert.deepEqual(Object.keys(ordered.body.AnalysisSchema.properties), ["zeta", "alpha", "mid"]);
  });

  test("validation names each field and says how to fix it", async () => {
    const r = await t.request("POST", "/v1/campaigns", {
      Name: "",
      Agent: { Type: "flow", Flow: { Start: "nope", Nodes: { a: { Say: "Hi", Next: "b" } } } },
      AnalysisSchema: { type: "array" },
      Schedule: { Windows: [{ Days: ["mon"], Start: "21:00", End: "09:00" }], MaxAttempts: 0 },
      InboundMode: "sometimes",
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.Error.Code, "validation_failed");
    const paths = r.body.Error.Details.map((d: { Path: string }) => d.Path);
    for (const p of [
      "/Name",
      "/Agent/Flow/Start",
      "/Agent/Flow/Nodes/a/Next",
      "/AnalysisSchema/type",
      "/Schedule/MaxAttempts",
      "/InboundMode",
    ]) {
      assert.ok(paths.includes(p), `expected a detail at ${p}, got ${paths.join(", ")}`);
    }
    assert.ok(
      paths.some((p: string) => p.startsWith("/Schedule/Windows/0")),
      "window error",
    );
    for (const d of r.body.Error.Details) assert.ok(d.Message.length > 5);
  });

  test("a Save into an AnalysisSchema property whose type cannot hold the answer is refused, on create and PATCH", async () => {
    const schema = (type: unknown) => ({ type: "object", properties: { household_size: { type } } });
    const r = await t.request("POST", "/v1/campaigns", flowCampaign({ AnalysisSchema: schema("string") }));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.Error.Details.map((d: { Path: string }) => d.Path),
      ["/Agent/Flow/Nodes/size/Save"],
    );
    assert.match(r.body.Error.Details[0].Message, /number.*"household_size"/);
    for (const fits of ["integer", ["number", "null"], undefined]) {
      const ok = await t.request("POST", "/v1/campaigns", flowCampaign({ AnalysisSchema: schema(fits) }));
      assert.equal(ok.status, 201, `${JSON.stringify(fits)}: ${JSON.stringify(ok.body)}`);
    }
    const created = await t.request("POST", "/v1/campaigns", flowCampaign());
    const patched = await t.request("PATCH", `/v1/campaigns/${created.body.Id}`, {
      AnalysisSchema: schema("boolean"),
    });
    assert.equal(patched.status, 400, JSON.stringify(patched.body));
    assert.equal(patched.body.Error.Details[0].Path, "/Agent/Flow/Nodes/size/Save");

    // A campaign stored before this check keeps taking PATCHes that leave its flow and schema alone.
    await t.database.db.query("update campaigns set analysis_schema = $1 where id = $2", [
      JSON.stringify(schema("string")),
      created.body.Id,
    ]);
    const firstMessage = await t.request("PATCH", `/v1/campaigns/${created.body.Id}`, {
      Agent: { FirstMessage: "Hello there." },
    });
    assert.equal(firstMessage.status, 200, JSON.stringify(firstMessage.body));
    // So does one whose stored schema has a pattern patterns can no longer use (a backreference).
    await t.database.db.query("update campaigns set analysis_schema = $1 where id = $2", [
      JSON.stringify({
        type: "object",
        properties: { household_size: { type: "number" }, code: { type: "string", pattern: "(x)\\1" } },
      }),
      created.body.Id,
    ]);
    const renamed = await t.request("PATCH", `/v1/campaigns/${created.body.Id}`, { Name: "Renamed" });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));

    // A choice is saved as written: each must be in the property's enum.
    const choiceFlow = (choices: string[]) =>
      flowCampaign({
        Agent: {
          Type: "flow",
          Flow: {
            Start: "q",
            Nodes: {
              q: { Say: "Rent or own?", Expect: "choice", Choices: choices, Save: "tenure", Next: "bye" },
              bye: { Say: "Bye.", End: true },
            },
          },
        },
        AnalysisSchema: { type: "object", properties: { tenure: { type: "string", enum: ["rent", "own"] } } },
      });
    const outside = await t.request("POST", "/v1/campaigns", choiceFlow(["Rent", "Own"]));
    assert.equal(outside.status, 400, JSON.stringify(outside.body));
    assert.equal(outside.body.Error.Details[0].Path, "/Agent/Flow/Nodes/q/Save");
    assert.match(outside.body.Error.Details[0].Message, /"Rent".*enum/);
    assert.equal((await t.request("POST", "/v1/campaigns", choiceFlow(["rent", "own"]))).status, 201);
  });

  test("a misspelt field of a window is refused, not stored and ignored", async () => {
    const s = flowCampaign().Schedule as Record<string, unknown>;
    const windows = [{ Days: ["mon"], Start: "09:00", End: "11:00", Strat: "08:00" }];
    const r = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ Schedule: { ...s, Windows: windows } }),
    );
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.Error.Details.map((d: { Path: string }) => d.Path),
      ["/Schedule/Windows/0/Strat"],
    );
    assert.match(r.body.Error.Details[0].Message, /Days, Start, End/);
  });

  test("a blank Model or CampaignObjectivePrompt is refused: null says none", async () => {
    const agent = flowCampaign().Agent as Record<string, unknown>;
    const model = await t.request("POST", "/v1/campaigns", flowCampaign({ Agent: { ...agent, Model: "" } }));
    assert.equal(model.status, 400);
    assert.deepEqual(
      model.body.Error.Details.map((d: { Path: string; Message: string }) => [
        d.Path,
        /blank/.test(d.Message),
      ]),
      [["/Agent/Model", true]],
    );
    const objective = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ CampaignObjectivePrompt: " " }),
    );
    assert.equal(objective.status, 400);
    assert.ok(
      objective.body.Error.Details.some(
        (d: { Path: string; Message: string }) =>
          d.Path === "/CampaignObjectivePrompt" && /blank/.test(d.Message),
      ),
      JSON.stringify(objective.body),
    );
  });

  test("time zones are stored as IANA spells them, whatever the letter case given", async () => {
    const s = flowCampaign().Schedule as Record<string, unknown>;
    const r = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ Schedule: { ...s, TimeZone: "america/los_angeles" } }),
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.Schedule.TimeZone, "America/Los_Angeles");
    const job = await t.request("POST", `/v1/campaigns/${r.body.Id}/jobs`, {
      PhoneNumber: "+14155550190",
      TimeZone: "asia/tokyo",
    });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    assert.equal(job.body.TimeZone, "Asia/Tokyo");
    const patched = await t.request("PATCH", `/v1/jobs/${job.body.Id}`, { TimeZone: "utc" });
    assert.equal(patched.body.TimeZone, "UTC");
    // A link keeps its own name.
    const link = await t.request("PATCH", `/v1/jobs/${job.body.Id}`, { TimeZone: "US/Eastern" });
    assert.equal(link.body.TimeZone, "US/Eastern");
  });

  test("a map from answer to node names answers the node can get, and leaves none without a branch", async () => {
    const refused = async (node: Record<string, unknown>, paths: string[]) => {
      const Flow = {
        Start: "q",
        Nodes: { q: { Say: "Q?", ...node }, a: { Say: "A.", End: true }, b: { Say: "B.", End: true } },
      };
      const r = await t.request("POST", "/v1/campaigns", flowCampaign({ Agent: { Type: "flow", Flow } }));
      assert.equal(r.status, 400, JSON.stringify(node));
      assert.deepEqual(
        r.body.Error.Details.map((d: { Path: string }) => d.Path).sort(),
        paths.sort(),
        JSON.stringify(r.body),
      );
      return r.body.Error.Details.map((d: { Message: string }) => d.Message).join(" ");
    };
    const choice = { Expect: "choice", Choices: ["Green", "Red"] };
    assert.match(
      await refused({ ...choice, Next: { green: "a", Red: "b" } }, [
        "/Agent/Flow/Nodes/q/Next/green",
        "/Agent/Flow/Nodes/q/Next",
      ]),
      /"Green"/,
    );
    await refused({ ...choice, Next: { purple: "a", default: "b" } }, ["/Agent/Flow/Nodes/q/Next/purple"]);
    assert.match(await refused({ ...choice, Next: { Green: "a" } }, ["/Agent/Flow/Nodes/q/Next"]), /"Red"/);
    await refused({ Expect: "yes_no", Next: { yes: "a" } }, ["/Agent/Flow/Nodes/q/Next"]);
    await refused({ Expect: "yes_no", Next: { yes: "a", nope: "b", default: "b" } }, [
      "/Agent/Flow/Nodes/q/Next/nope",
    ]);
    await refused({ Expect: "number", Next: { "3": "a" } }, ["/Agent/Flow/Nodes/q/Next"]);
    await refused({ Expect: "number", Next: { "03": "a", default: "b" } }, ["/Agent/Flow/Nodes/q/Next/03"]);
    await refused({ Expect: "text", Next: { done: "a", default: "b" } }, ["/Agent/Flow/Nodes/q/Next/done"]);
    // Names every object inherits are no node ids.
    await refused({ Expect: "yes_no", Next: { yes: "toString", no: "b" } }, ["/Agent/Flow/Nodes/q/Next/yes"]);
    await refused({ Next: "__proto__" }, ["/Agent/Flow/Nodes/q/Next"]);
    const ok = {
      Start: "q",
      Nodes: {
        q: { Say: "Q?", ...choice, Next: { Green: "a", default: "b" } },
        a: { Say: "A.", End: true },
        b: { Say: "B.", End: true },
      },
    };
    assert.equal(
      (await t.request("POST", "/v1/campaigns", flowCampaign({ Agent: { Type: "flow", Flow: ok } }))).status,
      201,
    );
  });

  test("a flow whose End cannot be reached is refused", async () => {
    const r = await t.request("POST", "/v1/campaigns", {
      Name: "loop",
      Agent: {
        Type: "flow",
        Flow: {
          Start: "a",
          Nodes: { a: { Say: "A", Next: "b" }, b: { Say: "B", Next: "a" }, c: { Say: "C", End: true } },
        },
      },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.Error.Details[0].Message, /End/);
  });

  test("an llm agent or an objective prompt without an LLM configured is refused, naming the setting", async () => {
    const llm = await t.request("POST", "/v1/campaigns", {
      Name: "x",
      Agent: { Type: "llm", Prompt: "You are Ana" },
    });
    assert.equal(llm.status, 400);
    assert.match(JSON.stringify(llm.body), /COBBERY_LLM_BASE_URL/);
    const obj = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ CampaignObjectivePrompt: "Got the size" }),
    );
    assert.equal(obj.status, 400);
    assert.match(JSON.stringify(obj.body), /COBBERY_LLM_BASE_URL/);
  });

  test("a phone number belongs to one non-archived campaign across organizations", async () => {
    const a = await t.request("POST", "/v1/campaigns", flowCampaign({ PhoneNumbers: ["+14155550100"] }));
    assert.equal(a.status, 201);
    const otherKey = await t.newOrgKey("other-org-numbers");
    const b = await t.request("POST", "/v1/campaigns", flowCampaign({ PhoneNumbers: ["+14155550100"] }), {
      key: otherKey,
    });
    assert.equal(b.status, 409);
    assert.equal(b.body.Error.Code, "conflict");
    // A paused campaign keeps its number; an archived one releases it.
    const paused = await t.request("POST", `/v1/campaigns/${a.body.Id}/pause`);
    assert.equal(paused.body.Status, "paused");
    const c = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({ PhoneNumbers: ["+14155550109", "+14155550100"] }),
      { key: otherKey },
    );
    assert.equal(c.status, 409);
    // Which number is taken, by its place in the request.
    assert.deepEqual(
      c.body.Error.Details.map((x: { Path: string }) => x.Path),
      ["/PhoneNumbers/1"],
    );
    const archived = await t.request("PATCH", `/v1/campaigns/${a.body.Id}`, { Status: "archived" });
    assert.equal(archived.body.Status, "archived");
    const d = await t.request("POST", "/v1/campaigns", flowCampaign({ PhoneNumbers: ["+14155550100"] }), {
      key: otherKey,
    });
    assert.equal(d.status, 201);
    const unarchive = await t.request("PATCH", `/v1/campaigns/${a.body.Id}`, { Status: "active" });
    assert.equal(unarchive.status, 409);
  });

  test("campaign numbers are stored in the one E.164 form, so a number written two ways is one number", async () => {
    // A UK number with its trunk 0 kept after the country code is the same line as without it.
    const a = await t.request("POST", "/v1/campaigns", flowCampaign({ PhoneNumbers: ["+4402079460958"] }));
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.deepEqual(a.body.PhoneNumbers, ["+442079460958"]);
    const b = await t.request("POST", "/v1/campaigns", flowCampaign({ PhoneNumbers: ["+442079460958"] }));
    assert.equal(b.status, 409);
    const twice = await t.request("PATCH", `/v1/campaigns/${a.body.Id}`, {
      PhoneNumbers: ["+442079460958", "+4402079460958"],
    });
    assert.equal(twice.status, 400);
    assert.equal(twice.body.Error.Details[0].Path, "/PhoneNumbers/1");
    // Inbound calls to the number, as the carrier reports it, reach the campaign.
    const call = await t.request("POST", "/v1/sim/calls", { From: "+14155550162", To: "+442079460958" });
    assert.deepEqual([call.status, call.body.CampaignId], [201, a.body.Id]);
  });

  test("PATCH replaces top-level fields and merges Schedule and Agent field by field", async () => {
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
    const r = await t.request("PATCH", `/v1/campaigns/${c.Id}`, {
      Name: "Renamed",
      Schedule: { MaxAttempts: 5 },
      Agent: { FirstMessage: "Hello" },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.Name, "Renamed");
    assert.equal(r.body.Schedule.MaxAttempts, 5);
    assert.equal(r.body.Schedule.TimeZone, "America/New_York");
    assert.equal(r.body.Agent.FirstMessage, "Hello");
    assert.equal(r.body.Agent.Flow.Start, "intro");
    const bad = await t.request("PATCH", `/v1/campaigns/${c.Id}`, { Schedule: { RetryDelaySeconds: -1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.Error.Details[0].Path, "/Schedule/RetryDelaySeconds");
  });

  test("pause and resume; StatusReason cleared on resume", async () => {
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
    const p = await t.request("POST", `/v1/campaigns/${c.Id}/pause`);
    assert.equal(p.status, 200);
    assert.equal(p.body.Status, "paused");
    // Paused by Cobbery with the reason to fix: pausing again (or PATCH) keeps it; resuming clears it.
    const why = "Paused after a configuration error: The LLM endpoint rejected the API key (401).";
    await t.database.db.query("update campaigns set status_reason = $2 where id = $1", [c.Id, why]);
    assert.equal((await t.request("POST", `/v1/campaigns/${c.Id}/pause`)).body.StatusReason, why);
    assert.equal(
      (await t.request("PATCH", `/v1/campaigns/${c.Id}`, { Status: "paused" })).body.StatusReason,
      why,
    );
    const r = await t.request("POST", `/v1/campaigns/${c.Id}/resume`);
    assert.equal(r.body.Status, "active");
    assert.equal(r.body.StatusReason, null);
  });

  test("an archived campaign takes no new jobs", async () => {
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign({ Status: "archived" }))).body;
    assert.equal(c.Status, "archived");
    const j = await t.request("POST", `/v1/campaigns/${c.Id}/jobs`, { PhoneNumber: "+14155550123" });
    assert.equal(j.status, 409);
    const resume = await t.request("POST", `/v1/campaigns/${c.Id}/resume`);
    assert.equal(resume.status, 409);
  });

  test("archived, a campaign's waiting jobs show no next call, and its ended jobs cannot be retried", async () => {
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign())).body;
    const add = async (body: object) => (await t.request("POST", `/v1/campaigns/${c.Id}/jobs`, body)).body;
    const waiting = await add({ PhoneNumber: "+14155550124" });
    const test = await add({ PhoneNumber: "+14155550125", TestJob: true });
    const canceled = await add({ PhoneNumber: "+14155550126" });
    assert.ok(waiting.NextCallAt && test.NextCallAt);
    assert.equal((await t.request("POST", `/v1/jobs/${canceled.Id}/cancel`)).status, 200);

    const archived = await t.request("PATCH", `/v1/campaigns/${c.Id}`, { Status: "archived" });
    assert.equal(archived.body.Status, "archived");
    for (const j of [waiting, test]) {
      const now = (await t.request("GET", `/v1/jobs/${j.Id}`)).body;
      assert.deepEqual([now.State, now.NextCallAt], ["pending", null], j.Id);
    }
    const retry = await t.request("POST", `/v1/jobs/${canceled.Id}/retry`);
    assert.equal(retry.status, 409);
    assert.match(retry.body.Error.Message, /archived/);
    // Cancel still ends a waiting job.
    assert.equal((await t.request("POST", `/v1/jobs/${waiting.Id}/cancel`)).body.State, "canceled");
  });

  test("preview renders the first turn and lists missing variables", async () => {
    const c = (
      await t.request(
        "POST",
        "/v1/campaigns",
        flowCampaign({
          Agent: {
            Type: "flow",
            FirstMessage: "Hi {{ Job.ContactName }}, about invoice {{ Job.Data.invoice_id }}.",
            Flow: { Start: "a", Nodes: { a: { Say: "Zip {{ Job.Metadata.zip }}?", End: true } } },
          },
        }),
      )
    ).body;
    const r = await t.request("POST", `/v1/campaigns/${c.Id}/preview`, {
      Job: { ContactName: "Jane", Metadata: { zip: "94110" } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.FirstTurn, "Hi Jane, about invoice . Zip 94110?");
    assert.deepEqual(r.body.MissingVariables, ["Job.Data.invoice_id"]);
  });

  test("templates read no file, run within bounds and use known filters; they see the campaign's numbers", async () => {
    const agent = flowCampaign().Agent as Record<string, unknown>;
    const started = Date.now();
    for (const FirstMessage of [
      '{% include "package.json" %}',
      '{% render "README.md" %}',
      "{% for i in (1..100000000) %}x{% endfor %}",
      "{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}",
      "Hi {{ Job.ContactName | nofilter }}",
    ]) {
      const r = await t.request("POST", "/v1/campaigns", flowCampaign({ Agent: { ...agent, FirstMessage } }));
      assert.equal(r.status, 400, `${FirstMessage}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(
        r.body.Error.Details.map((d: { Path: string }) => d.Path),
        ["/Agent/FirstMessage"],
      );
    }
    assert.ok(Date.now() - started < 20_000, "each refusal is quick");
    const c = await t.request(
      "POST",
      "/v1/campaigns",
      flowCampaign({
        PhoneNumbers: ["+14155550199"],
        Agent: { ...agent, FirstMessage: "Call us back at {{ Campaign.PhoneNumbers[0] }}." },
      }),
    );
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const p = await t.request("POST", `/v1/campaigns/${c.body.Id}/preview`, { Job: {} });
    assert.match(p.body.FirstTurn, /^Call us back at \+14155550199\./);
  });

  test("preview of a flow stored with an inherited name as Start says no inherited function", async () => {
    const c = await t.request("POST", "/v1/campaigns", flowCampaign());
    await t.database.db.query(
      `update campaigns set agent = jsonb_set(agent::jsonb, '{Flow,Start}', '"toString"')::json where id = $1`,
      [c.body.Id],
    );
    const p = await t.request("POST", `/v1/campaigns/${c.body.Id}/preview`, { Job: { ContactName: "Jo" } });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.FirstTurn, "Hi Jo");
  });

  test("a loop over a job's Data as large as Data may be renders whole at call time", () => {
    const items = Array.from({ length: 400 }, (_, i) => ({ name: `item${i}`, due: "2026-12-01" }));
    const src =
      '{% for i in Job.Data.items %}{{ i.name | capitalize }} {{ i.due | date: "%B %-d" }}; {% endfor %}';
    for (let k = 0; k < 3; k++) {
      const text = renderTemplate(src, { Job: { Data: { items } } }).text;
      assert.ok(
        text.startsWith("Item0 December 1; ") && text.includes("Item399 December 1;"),
        text.slice(0, 80),
      );
    }
  });

  test("a template that cannot render (saved before the checks) says its plain words, never its markup", () => {
    assert.equal(renderTemplate('Hi {{ Job.ContactName }}, {% include "package.json" %}', {}).text, "Hi ,");
    assert.equal(renderTemplate("Hello {% for i in (1..100000000) %}x{% endfor %}", {}).text, "Hello x");
  });

  test("lists page oldest first with a cursor", async () => {
    const key = await t.newOrgKey("paging-campaigns");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await t.request("POST", "/v1/campaigns", flowCampaign({ Name: `c${i}` }), { key })).body.Id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&Cursor=${cursor}` : "";
      const page = await t.request("GET", `/v1/campaigns?Limit=2${q}`, undefined, { key });
      assert.equal(page.status, 200);
      assert.ok(page.body.Items.length <= 2);
      seen.push(...page.body.Items.map((c: { Id: string }) => c.Id));
      cursor = page.body.NextCursor;
    } while (cursor);
    assert.deepEqual(seen, ids);
    const bad = await t.request("GET", "/v1/campaigns?Limit=0", undefined, { key });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.Error.Details[0].Path, "/Limit");
  });

  test("integer query parameters are decimal digits: hex, exponents and spaces are refused", async () => {
    for (const limit of ["0x10", "1e2", "%207", "2.0", ""]) {
      const r = await t.request("GET", `/v1/campaigns?Limit=${limit}`);
      assert.equal(r.status, 400, `Limit=${limit}`);
      assert.equal(r.body.Error.Code, "validation_failed");
      assert.deepEqual(
        r.body.Error.Details.map((d: { Path: string }) => d.Path),
        ["/Limit"],
      );
    }
    assert.equal((await t.request("GET", "/v1/campaigns?Limit=07")).status, 200);
    const both = await t.request("GET", "/v1/campaigns?Limit=0x10&Colour=red");
    assert.deepEqual(both.body.Error.Details.map((d: { Path: string }) => d.Path).sort(), [
      "/Colour",
      "/Limit",
    ]);
  });

  test("changing the windows recomputes waiting jobs' NextCallAt", async () => {
    const h = (new Date().getUTCHours() + 12) % 24;
    const hh = String(h).padStart(2, "0");
    const closed = {
      TimeZone: "UTC",
      Windows: [
        { Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: `${hh}:00`, End: `${hh}:30` },
      ],
    };
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign({ Schedule: closed }))).body;
    const j = (
      await t.request("POST", `/v1/campaigns/${c.Id}/jobs`, { PhoneNumber: "+14155550123", TimeZone: "UTC" })
    ).body;
    assert.ok(Date.parse(j.NextCallAt) > Date.now() + 3600_000, "closed now: due later");
    const open = {
      Windows: [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: "00:00", End: "24:00" }],
    };
    assert.equal((await t.request("PATCH", `/v1/campaigns/${c.Id}`, { Schedule: open })).status, 200);
    const after = (await t.request("GET", `/v1/jobs/${j.Id}`)).body;
    assert.ok(Date.parse(after.NextCallAt) <= Date.now(), `open now: due at once, got ${after.NextCallAt}`);
    assert.ok(Date.parse(after.NextCallAt) >= Date.parse(j.CreatedAt) - 1);
    // The work was recorded with the change and is done: nothing is left for a later run.
    const left = await t.database.db.query<{ from: string | null }>(
      "select reschedule_from as from from campaigns where id = $1",
      [c.Id],
    );
    assert.equal(left.rows[0]?.from, null);
  });

  test("a change whose re-placing of jobs a stopped process left undone is finished later", async () => {
    const c = (await t.request("POST", "/v1/campaigns", flowCampaign({ Status: "paused" }))).body;
    const jobs = [];
    for (let i = 0; i < 3; i++)
      jobs.push(
        (await t.request("POST", `/v1/campaigns/${c.Id}/jobs`, { PhoneNumber: `+1415555014${i}` })).body,
      );
    // What a PATCH that closes every window commits before its process stops: the new windows, and
    // the work still to do; none of the jobs re-placed yet.
    await t.database.db.query(
      `update campaigns set schedule = (schedule::jsonb || '{"Windows": []}')::json,
         schedule_version = schedule_version + 1, reschedule_from = '', reschedule_at = now() - interval '1 hour'
       where id = $1`,
      [c.Id],
    );
    for (const j of jobs) assert.notEqual((await t.request("GET", `/v1/jobs/${j.Id}`)).body.NextCallAt, null);
    assert.equal(await resumeReschedules(t.app.deps, 30), 1);
    for (const j of jobs) assert.equal((await t.request("GET", `/v1/jobs/${j.Id}`)).body.NextCallAt, null);
    assert.equal(await resumeReschedules(t.app.deps, 30), 0, "nothing left");
    const names = t.app.newBackgroundTasks().map((x) => x.name);
    assert.ok(names.includes(RESCHEDULE_TASK_NAME), names.join());
  });
});
