// End to end through the HTTP API and the simulated carrier: flow agents, their outcomes and the
// analysis rules of the contract (sections 3, 4 and 6), no LLM.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startDispatchingApp, type TestApp } from "../helpers/app.ts";
import {
  ANY_TIME,
  Api,
  assertAlternates,
  BYE,
  BYE_LATER,
  billedOf,
  INCOME_Q,
  INTRO,
  LATER_Q,
  localDate,
  nextDay,
  SIZE_Q,
  surveyCampaign,
  zonedInstant,
} from "../helpers/conversation.ts";

const NY = "America/New_York";
const texts = (call: { Transcript: Array<{ Text: string }> }) => call.Transcript.map((e) => e.Text);

describe("flow agents end to end (sim carrier)", () => {
  let t: TestApp;
  let api: Api;
  before(async () => {
    t = await startDispatchingApp();
    api = new Api(t);
  });
  after(() => t.close());

  /**
   * A call-back test's set-up: a survey campaign with `schedule`, and one call to a contact in New
   * York who says `replies`; the campaign, and the job once it has settled after that call.
   */
  const settledAfterOneCall = async (schedule: Record<string, unknown>, phone: string, replies: string[]) => {
    const cmp = await api.campaign(surveyCampaign({ schedule }));
    await api.sim(phone, [{ Answer: "human", Replies: replies }]);
    const created = await api.job(cmp.Id, { PhoneNumber: phone, TimeZone: NY });
    return { cmp, j: await api.settledAfterCalls(created.Id, 1) };
  };

  /** The MaxCallSeconds tests' call: a contact who talks on past the 10 s limit; the ended job and its call. */
  const overlongCall = async (phone: string) => {
    const cmp = await api.campaign(
      surveyCampaign({
        schedule: { MaxAttempts: 1, MaxCallSeconds: 10 },
        agent: {
          Flow: {
            Start: "talk",
            Nodes: {
              // Loops until the contact says goodbye, which the replies never do.
              talk: {
                Say: "Tell me more.",
                Expect: "choice",
                Choices: ["goodbye"],
                Next: { default: "talk", goodbye: "bye" },
              },
              bye: { Say: "Bye.", End: true },
            },
          },
        },
      }),
    );
    const replies = Array.from({ length: 60 }, (_, i) => `this is my answer number ${i} about housing`);
    await api.sim(phone, [{ Answer: "human", Replies: replies }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: phone })).Id);
    const [c] = await api.calls(j.Id);
    return { j, c };
  };

  test("a completed survey: typed Result, Summary, and a call that bills its connected seconds", async () => {
    const cmp = await api.campaign(surveyCampaign({ PhoneNumbers: ["+14155550399"] }));
    await api.sim("+14155550301", [{ Answer: "human", Replies: ["yes", "three", "30k to 60k"] }]);
    const created = await api.job(cmp.Id, { PhoneNumber: "+14155550301", ContactName: "Jane Doe" });
    const j = await api.ended(created.Id);
    assert.equal(j.State, "completed");
    assert.equal(j.FailureReason, null);
    assert.equal(j.FailureMessage, null);
    assert.deepEqual(j.Result, { household_size: 3, income_band: "30k to 60k", notes: null });
    assert.equal(typeof j.Result.household_size, "number");
    assert.equal(typeof j.Summary, "string");
    assert.ok(j.Summary.length > 0);
    assert.equal(j.ObjectiveMet, null);
    assert.equal(j.Attempts, 1);
    assert.equal(j.NextCallAt, null);
    assert.ok(j.EndedAt);

    const [c, ...more] = await api.calls(j.Id);
    assert.equal(more.length, 0);
    assert.equal(c.Direction, "outbound");
    assert.equal(c.Status, "completed");
    assert.equal(c.AnsweredBy, "human");
    assert.equal(c.EndReason, "completed");
    assert.equal(c.To, "+14155550301");
    assert.equal(c.From, "+14155550399", "caller ID: the campaign's first number");
    assert.equal(Date.parse(c.AnsweredAt) - Date.parse(c.StartedAt), 5_000, "5 s of ringing");
    assert.ok(c.BilledSeconds > 0);
    assert.equal(c.BilledSeconds, billedOf(c));
    assert.deepEqual(c.Transcript[0], {
      Role: "agent",
      Text: "Hi Jane Doe, this is Ana from Acme Housing.",
      At: c.Transcript[0].At,
    });
    assertAlternates(c.Transcript);
    assert.deepEqual(
      c.Transcript.filter((e: { Role: string }) => e.Role === "contact").map((e: { Text: string }) => e.Text),
      ["yes", "three", "30k to 60k"],
    );
    assert.deepEqual(texts(c).slice(1), [INTRO, "yes", SIZE_Q, "three", INCOME_Q, "30k to 60k", BYE]);
    // Times only move forward, within the connected part of the call.
    const ats = c.Transcript.map((e: { At: string }) => Date.parse(e.At));
    for (let i = 1; i < ats.length; i++) assert.ok(ats[i] >= ats[i - 1]);
    assert.ok(ats[0] > Date.parse(c.AnsweredAt) && ats.at(-1) <= Date.parse(c.EndedAt));
  });

  test("contact_refused and wrong_contact end the job at once, with a closing line", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 3 } }));
    await api.sim("+14155550302", [{ Answer: "human", Replies: ["no thanks, I'm not interested"] }]);
    await api.sim("+14155550303", [
      { Answer: "human", Replies: ["yes", "sorry, you have the wrong number"] },
    ]);
    const refused = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550302" })).Id);
    const wrong = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550303" })).Id);
    assert.equal(refused.State, "failed");
    assert.equal(refused.FailureReason, "contact_refused");
    assert.equal(refused.Attempts, 1);
    assert.equal(wrong.State, "failed");
    assert.equal(wrong.FailureReason, "wrong_contact");
    assert.equal(wrong.Attempts, 1);
    for (const j of [refused, wrong]) {
      assert.ok(j.FailureMessage);
      const [c] = await api.calls(j.Id);
      assert.equal(c.Transcript.at(-1).Role, "agent", "the agent says a closing line");
      assert.deepEqual(Object.keys(j.Result).sort(), ["household_size", "income_band", "notes"]);
    }
  });

  test("opted_out: the number goes on the opt-out list and its pending job in another campaign fails", async () => {
    const phone = "+14155550304";
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 3 } }));
    const other = await api.campaign(surveyCampaign({ Name: "Other survey", Status: "paused" }));
    const waiting = await api.job(other.Id, { PhoneNumber: phone });
    assert.equal(waiting.State, "pending");
    await api.sim(phone, [{ Answer: "human", Replies: ["yes", "please stop calling me"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: phone })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "opted_out");
    const list = await t.request("GET", "/v1/opt-outs");
    assert.ok(
      list.body.Items.some((o: { PhoneNumber: string }) => o.PhoneNumber === phone),
      JSON.stringify(list.body),
    );
    const w = await api.getJob(waiting.Id);
    assert.equal(w.State, "failed");
    assert.equal(w.FailureReason, "opted_out");
    assert.equal(w.Attempts, 0);
    const events = (await api.events(j.Id)).map((e) => e.event);
    assert.ok(events.includes("job.opted_out"), events.join(", "));
  });

  test("max_attempts_exceeded: never answered", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 2 } }));
    await api.sim("+14155550305", [{ Answer: "no_answer" }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550305" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    assert.equal(j.Attempts, 2);
    assert.equal(j.Summary, null, "no call was answered: nothing to summarise");
    for (const c of await api.calls(j.Id)) assert.deepEqual(c.Transcript, []);
  });

  test("max_attempts_exceeded: the last call was cut short, and the answers collected are kept", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 1 } }));
    await api.sim("+14155550306", [{ Answer: "human", Replies: ["yes", "three"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550306" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    assert.match(j.FailureMessage, /cut short/);
    assert.deepEqual(j.Result, { household_size: 3, income_band: null, notes: null });
    const [c] = await api.calls(j.Id);
    assert.equal(c.EndReason, "contact_hangup");
    assert.equal(c.AnsweredBy, "human");
    assert.equal(c.BilledSeconds, billedOf(c));
  });

  test("invalid_phone_number: the carrier says the number does not exist", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 3 } }));
    await api.sim("+14155550307", [{ Answer: "invalid" }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550307" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "invalid_phone_number");
    assert.equal(j.Attempts, 1);
    const [c] = await api.calls(j.Id);
    assert.equal(c.EndReason, "invalid_number");
    assert.equal(c.BilledSeconds, 0);
  });

  test("HangupOptOut: a hang-up mid-survey is an opt-out (the job's setting overrides the campaign's)", async () => {
    const cmp = await api.campaign(surveyCampaign({ HangupOptOut: true, schedule: { MaxAttempts: 1 } }));
    const plain = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 1 } }));
    for (const p of ["+14155550308", "+14155550309", "+14155550310"])
      await api.sim(p, [{ Answer: "human", Replies: ["yes"] }]);
    const a = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550308" })).Id);
    const b = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550309", HangupOptOut: false })).Id,
    );
    const c = await api.ended(
      (await api.job(plain.Id, { PhoneNumber: "+14155550310", HangupOptOut: true })).Id,
    );
    assert.equal(a.FailureReason, "opted_out");
    assert.equal(b.FailureReason, "max_attempts_exceeded");
    assert.equal(c.FailureReason, "opted_out");
    const listed = (await t.request("GET", "/v1/opt-outs")).body.Items.map(
      (o: { PhoneNumber: string }) => o.PhoneNumber,
    );
    assert.ok(listed.includes("+14155550308"));
    assert.ok(!listed.includes("+14155550309"));
    assert.ok(listed.includes("+14155550310"));
  });

  test("an answer that does not parse is asked again twice, then null is saved and Next.default followed", async () => {
    const cmp = await api.campaign(surveyCampaign({ flow: { sizeNext: { default: "income" } } }));
    await api.sim("+14155550311", [
      { Answer: "human", Replies: ["yes", "<silence>", "blah blah", "<silence>", "under 30k"] },
    ]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550311" })).Id);
    assert.equal(j.State, "completed");
    assert.deepEqual(j.Result, { household_size: null, income_band: "under 30k", notes: null });
    const [c] = await api.calls(j.Id);
    const asked = texts(c).filter((x) => x.includes(SIZE_Q));
    assert.equal(asked.length, 3, JSON.stringify(texts(c)));
    assert.equal(asked[0], SIZE_Q);
    // A silent turn leaves no contact entry.
    assert.deepEqual(
      c.Transcript.filter((e: { Role: string }) => e.Role === "contact").map((e: { Text: string }) => e.Text),
      ["yes", "blah blah", "under 30k"],
    );
  });

  test("without Next.default, the third unparsed answer ends the call unfinished", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 1 } }));
    await api.sim("+14155550312", [
      { Answer: "human", Replies: ["yes", "<silence>", "lots", "<silence>", "under 30k"] },
    ]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550312" })).Id);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    assert.match(j.FailureMessage, /cut short/);
    assert.deepEqual(j.Result, { household_size: null, income_band: null, notes: null });
    const [c] = await api.calls(j.Id);
    assert.equal(texts(c).filter((x) => x.includes(SIZE_Q)).length, 3);
    assert.ok(!texts(c).includes(INCOME_Q));
    assert.notEqual(c.EndReason, "completed");
  });

  test("resume: the next call starts at the first question not yet answered", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 2 } }));
    await api.sim("+14155550313", [
      { Answer: "human", Replies: ["yes", "four"] },
      { Answer: "human", Replies: ["over 60k"] },
    ]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550313", ContactName: "Bo" })).Id);
    assert.equal(j.State, "completed");
    assert.equal(j.Attempts, 2);
    assert.deepEqual(j.Result, { household_size: 4, income_band: "over 60k", notes: null });
    const [first, second] = await api.calls(j.Id);
    assert.equal(first.EndReason, "contact_hangup");
    assert.equal(second.EndReason, "completed");
    assert.deepEqual(texts(second), ["Hi Bo, this is Ana from Acme Housing.", INCOME_Q, "over 60k", BYE]);
    assert.ok(!texts(second).some((x) => x.includes(SIZE_Q) || x.includes(INTRO)));
  });

  test("resume past a greeting node: the answered question is not asked again, its answer kept", async () => {
    const cmp = await api.campaign({
      Name: "Greeting first",
      AnalysisSchema: {
        type: "object",
        properties: { size: { type: "integer" } },
      },
      Agent: {
        Type: "flow",
        Flow: {
          Start: "hello",
          Nodes: {
            hello: { Say: "Hello from Acme.", Next: "size" },
            size: { Say: "How many people live with you?", Expect: "number", Save: "size", Next: "pets" },
            pets: { Say: "How many pets do you have?", Expect: "number", Save: "pets", Next: "bye" },
            bye: { Say: "Bye.", End: true },
          },
        },
      },
      Schedule: {
        TimeZone: NY,
        Windows: ANY_TIME,
        MaxAttempts: 2,
        RetryDelaySeconds: 0,
      },
    });
    await api.sim("+14155550340", [
      { Answer: "human", Replies: ["four"] },
      { Answer: "human", Replies: ["two"] },
    ]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550340" })).Id);
    // "pets" is not a property of the AnalysisSchema: Save still writes it into Result.
    assert.deepEqual([j.State, j.Result], ["completed", { size: 4, pets: 2 }]);
    const [, second] = await api.calls(j.Id);
    assert.deepEqual(texts(second), ["Hello from Acme.", "How many pets do you have?", "two", "Bye."]);
  });

  test("the call-back call a contact asked for runs the survey from the question that led to it", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 1, MaxCallbacks: 2 } }));
    await api.sim("+14155550341", [
      { Answer: "human", Replies: ["no", "in 1 second"] },
      { Answer: "human", Replies: ["yes", "3", "under 30k"] },
    ]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550341", ContactName: "Al" })).Id,
      60_000,
    );
    assert.deepEqual([j.State, j.Callbacks], ["completed", 1]);
    assert.deepEqual(j.Result, { household_size: 3, income_band: "under 30k", notes: null });
    const [first, second] = await api.calls(j.Id);
    assert.ok(texts(first).includes(LATER_Q));
    assert.deepEqual(texts(second).slice(1, 3), [INTRO, "yes"]);
  });

  test("a call-back time answered, then a hang-up before the call ends: the call-back still stands", async () => {
    const cmp = await api.campaign(
      surveyCampaign({
        schedule: { MaxAttempts: 1, MaxCallbacks: 2 },
        flow: { start: "when" },
        agent: {
          Flow: {
            Start: "when",
            Nodes: {
              when: { Say: LATER_Q, Expect: "datetime", Action: "schedule_call", Next: "more" },
              more: { Say: "Anything else?", Expect: "text", Next: "bye" },
              bye: { Say: BYE, End: true },
            },
          },
        },
      }),
    );
    await api.sim("+14155550342", [{ Answer: "human", Replies: ["tomorrow at 10am"] }]);
    const j = await api.settledAfterCalls((await api.job(cmp.Id, { PhoneNumber: "+14155550342" })).Id, 1);
    const [c] = await api.calls(j.Id);
    assert.equal(c.EndReason, "contact_hangup");
    const said = new Date(c.Transcript.find((e: { Role: string }) => e.Role === "contact").At);
    assert.deepEqual([j.State, j.Callbacks], ["pending", 1]);
    // The number's zone (+1 415: Los Angeles) is the contact's.
    const la = "America/Los_Angeles";
    assert.equal(j.NextCallAt, zonedInstant(nextDay(localDate(said, la)), 10, la).toISOString());
    await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
  });

  test("call-back: 'call me back tomorrow at 5pm' schedules the next call then, in the contact's zone", async () => {
    const { cmp, j } = await settledAfterOneCall({ MaxAttempts: 1, MaxCallbacks: 2 }, "+14155550314", [
      "call me back tomorrow at 5pm",
    ]);
    const [c] = await api.calls(j.Id);
    assert.equal(j.State, "pending", JSON.stringify(j));
    assert.equal(j.Callbacks, 1);
    assert.equal(j.Attempts, 1);
    const said = new Date(c.Transcript.find((e: { Role: string }) => e.Role === "contact").At);
    const expected = zonedInstant(nextDay(localDate(said, NY)), 17, NY);
    assert.equal(j.NextCallAt, expected.toISOString());
    assert.equal(c.Transcript.at(-1).Role, "agent");
    await t.request("POST", `/v1/jobs/${j.Id}/cancel`);

    // Without Job.TimeZone, the zone of the number (+1 415: Los Angeles) is the contact's. A
    // toll-free number spans every US zone (Adak first by name): the campaign's zone is the one.
    const numberZones: Array<[string, string]> = [
      ["+14155550326", "America/Los_Angeles"],
      ["+18005550327", NY],
    ];
    for (const [phone, zone] of numberZones) {
      await api.sim(phone, [{ Answer: "human", Replies: ["call me back tomorrow at 5pm"] }]);
      const job = await api.settledAfterCalls((await api.job(cmp.Id, { PhoneNumber: phone })).Id, 1);
      const [call] = await api.calls(job.Id);
      const at = new Date(call.Transcript.find((e: { Role: string }) => e.Role === "contact").At);
      assert.equal(job.NextCallAt, zonedInstant(nextDay(localDate(at, zone)), 17, zone).toISOString(), phone);
      await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
    }
  });

  test("Next maps answers to nodes: a choice and yes/no pick the branch, Save keeps the typed value", async () => {
    const cmp = await api.campaign(
      surveyCampaign({
        AnalysisSchema: {
          type: "object",
          properties: { owner: { type: "boolean" }, band: { type: "string" }, rent: { type: "number" } },
        },
        agent: {
          FirstMessage: null,
          Flow: {
            Start: "own",
            Nodes: {
              own: { Say: "Do you own your home?", Expect: "yes_no", Save: "owner", Next: "band" },
              band: {
                Say: "Under 30k or over 30k?",
                Expect: "choice",
                Choices: ["under 30k", "over 30k"],
                Save: "band",
                Next: { "under 30k": "help", default: "rent" },
              },
              help: { Say: "We may be able to help.", End: true },
              rent: { Say: "How much is your rent?", Expect: "number", Save: "rent", Next: "bye" },
              bye: { Say: "Thanks.", End: true },
            },
          },
        },
      }),
    );
    await api.sim("+14155550327", [{ Answer: "human", Replies: ["no", "less than 30k"] }]);
    await api.sim("+14155550328", [{ Answer: "human", Replies: ["yes I do", "over 30k", "twelve hundred"] }]);
    const a = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550327" })).Id);
    const b = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550328" })).Id);
    assert.equal(a.State, "completed");
    assert.deepEqual(a.Result, { owner: false, band: "under 30k", rent: null });
    assert.equal(texts((await api.calls(a.Id))[0]).at(-1), "We may be able to help.");
    assert.equal(b.State, "completed");
    assert.deepEqual(b.Result, { owner: true, band: "over 30k", rent: 1200 });
  });

  test("a call-back beyond MaxCallbacks counts as an unfinished attempt", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 1, MaxCallbacks: 1 } }));
    await api.sim("+14155550315", [{ Answer: "human", Replies: ["I'm busy, call me later"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550315" })).Id);
    // The first call-back is granted past MaxAttempts; the second is one too many.
    assert.equal(j.Callbacks, 1);
    assert.equal(j.Attempts, 2);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
    assert.equal(
      j.FailureMessage,
      "2 attempts placed, call-backs the contact asked for included; MaxAttempts is 1. On the last one the contact asked to be called back again, past the campaign's MaxCallbacks.",
    );
  });

  test("a call-back time more than 30 days ahead is treated as no time: now plus RetryDelaySeconds", async () => {
    const { j } = await settledAfterOneCall({ MaxAttempts: 2, RetryDelaySeconds: 3600 }, "+14155550316", [
      "call me back in three months",
    ]);
    const [c] = await api.calls(j.Id);
    assert.equal(j.State, "pending");
    assert.equal(j.Callbacks, 1);
    const delay = Date.parse(j.NextCallAt) - Date.parse(c.StartedAt);
    assert.ok(
      delay >= 3600_000 - 1000 && delay <= 3600_000 + 60_000,
      `NextCallAt ${delay} ms after the call`,
    );
    await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
  });

  test('"Action": "schedule_call" on a datetime node schedules the next call at the answer', async () => {
    const { j } = await settledAfterOneCall({ MaxAttempts: 1 }, "+14155550317", ["no", "tomorrow at 10am"]);
    const [c] = await api.calls(j.Id);
    assert.equal(j.State, "pending", JSON.stringify(j));
    assert.equal(j.Callbacks, 1);
    assert.deepEqual(texts(c).slice(-3), [LATER_Q, "tomorrow at 10am", BYE_LATER]);
    const said = new Date(c.Transcript.at(-2).At);
    assert.equal(j.NextCallAt, zonedInstant(nextDay(localDate(said, NY)), 10, NY).toISOString());
    await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
  });

  test("voicemail: Agent.VoicemailMessage is left, and the attempt is retried", async () => {
    const cmp = await api.campaign(
      surveyCampaign({
        agent: { VoicemailMessage: "Hi {{ Job.ContactName }}, Acme Housing here, we will call again." },
        schedule: { MaxAttempts: 2 },
      }),
    );
    await api.sim("+14155550318", [
      { Answer: "voicemail" },
      { Answer: "human", Replies: ["yes", "2", "under 30k"] },
    ]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550318", ContactName: "Al" })).Id);
    assert.equal(j.State, "completed");
    assert.equal(j.Attempts, 2);
    const [vm, human] = await api.calls(j.Id);
    assert.equal(vm.AnsweredBy, "voicemail");
    assert.equal(vm.EndReason, "voicemail");
    assert.deepEqual(texts(vm), ["Hi Al, Acme Housing here, we will call again."]);
    assert.equal(vm.Transcript[0].Role, "agent");
    assert.ok(vm.BilledSeconds > 0);
    assert.equal(vm.BilledSeconds, billedOf(vm));
    assert.equal(human.AnsweredBy, "human");

    // Without a VoicemailMessage the agent hangs up at once.
    const silent = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 1 } }));
    await api.sim("+14155550319", [{ Answer: "voicemail" }]);
    const s = await api.ended((await api.job(silent.Id, { PhoneNumber: "+14155550319" })).Id);
    assert.equal(s.State, "failed");
    assert.equal(s.FailureReason, "max_attempts_exceeded");
    const [sc] = await api.calls(s.Id);
    assert.equal(sc.AnsweredBy, "voicemail");
    assert.deepEqual(sc.Transcript, []);
  });

  test("MaxCallSeconds: a call that runs too long is ended with EndReason max_duration", async () => {
    const { j, c } = await overlongCall("+14155550320");
    assert.equal(c.EndReason, "max_duration");
    assert.equal(c.BilledSeconds, billedOf(c));
    assert.ok(c.Transcript.length < 20, `${c.Transcript.length} entries`);
    assert.equal(j.State, "failed");
    assert.equal(j.FailureReason, "max_attempts_exceeded");
  });

  test("MaxCallSeconds bounds the connected time: the call is cut at the limit", {}, async () => {
    const { c } = await overlongCall("+14155550323");
    assert.equal(c.EndReason, "max_duration");
    assert.ok(c.DurationSeconds <= 10, `DurationSeconds ${c.DurationSeconds}`);
    assert.ok(c.BilledSeconds <= 10, `BilledSeconds ${c.BilledSeconds}`);
    for (const e of c.Transcript) assert.ok(Date.parse(e.At) <= Date.parse(c.EndedAt));
  });

  test("an answered outbound call emits call.answered", {}, async () => {
    const cmp = await api.campaign(surveyCampaign());
    await api.sim("+14155550324", [{ Answer: "human", Replies: ["not interested"] }]);
    const j = await api.ended((await api.job(cmp.Id, { PhoneNumber: "+14155550324" })).Id);
    const names = (await api.events(j.Id)).map((e) => e.event);
    assert.ok(names.includes("call.started"), names.join(", "));
    assert.ok(names.includes("call.answered"), names.join(", "));
    assert.ok(names.includes("call.ended"), names.join(", "));
  });

  test("'call me later' (no time) on a schedule_call datetime node is a call-back at now + RetryDelaySeconds", {}, async () => {
    const { j } = await settledAfterOneCall({ MaxAttempts: 1, RetryDelaySeconds: 3600 }, "+14155550325", [
      "no",
      "just call me later",
    ]);
    assert.equal(j.State, "pending", JSON.stringify(j));
    assert.equal(j.Callbacks, 1);
    await t.request("POST", `/v1/jobs/${j.Id}/cancel`);
  });

  test("a campaign that needs an LLM is refused when none is configured, naming the setting", async () => {
    const llm = await t.request("POST", "/v1/campaigns", {
      ...surveyCampaign(),
      Agent: { Type: "llm", Prompt: "You are Ana." },
    });
    assert.equal(llm.status, 400);
    assert.match(JSON.stringify(llm.body.Error), /COBBERY_LLM_BASE_URL/);
    const objective = await t.request(
      "POST",
      "/v1/campaigns",
      surveyCampaign({ CampaignObjectivePrompt: "The contact answered." }),
    );
    assert.equal(objective.status, 400);
    assert.ok(
      objective.body.Error.Details.some((x: { Path: string }) => x.Path === "/CampaignObjectivePrompt"),
      JSON.stringify(objective.body),
    );
  });

  test("test jobs: a call-back request ends them completed, with the time in the job.completed event", async () => {
    const cmp = await api.campaign(surveyCampaign({ schedule: { MaxAttempts: 3 } }));
    await api.sim("+14155550321", [{ Answer: "human", Replies: ["call me back tomorrow at 5pm"] }]);
    const j = await api.ended(
      (await api.job(cmp.Id, { PhoneNumber: "+14155550321", TestJob: true, TimeZone: NY })).Id,
    );
    assert.equal(j.State, "completed");
    assert.equal(j.Attempts, 1);
    // The call-back the contact asked for counts, though a test job ends on it.
    assert.equal(j.Callbacks, 1);
    assert.equal(j.FailureReason, null);
    const [c] = await api.calls(j.Id);
    const said = new Date(c.Transcript.find((e: { Role: string }) => e.Role === "contact").At);
    const events = await api.events(j.Id);
    const completed = events.find((e) => e.event === "job.completed");
    assert.ok(completed, events.map((e) => e.event).join(", "));
    assert.equal(
      completed.properties.callback_at,
      zonedInstant(nextDay(localDate(said, NY)), 17, NY).toISOString(),
    );
    // Every stored event of the test job is flagged (the events table's test_job column).
    assert.ok(events.length >= 4);
    for (const e of events) assert.equal(e.test_job, true, e.event);
    // The contract puts it in properties: GET /v1/events must show properties.test_job = true.
    const listed = await t.request("GET", `/v1/events?JobId=${j.Id}`);
    if (listed.status === 200) {
      for (const e of listed.body.Items) assert.equal(e.properties.test_job, true, e.event);
    }
  });

  test("templates: a missing variable renders empty; preview shows the first turn and what was missing", async () => {
    const cmp = await api.campaign(
      surveyCampaign({
        agent: {
          FirstMessage: "Hello{{ Job.Data.missing }} {{ Job.ContactName }} from {{ Job.Metadata.zip }}!",
        },
      }),
    );
    await api.sim("+14155550322", [{ Answer: "human", Replies: ["not interested"] }]);
    const j = await api.ended(
      (
        await api.job(cmp.Id, {
          PhoneNumber: "+14155550322",
          ContactName: "Jane",
          Metadata: { zip: "94110" },
        })
      ).Id,
    );
    assert.equal(j.FailureReason, "contact_refused");
    const [c] = await api.calls(j.Id);
    assert.deepEqual(texts(c).slice(0, 2), ["Hello Jane from 94110!", INTRO]);

    const p = await t.request("POST", `/v1/campaigns/${cmp.Id}/preview`, {
      Job: { PhoneNumber: "+14155550322", ContactName: "Jane", Metadata: { zip: "94110" } },
    });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.FirstTurn, `Hello Jane from 94110! ${INTRO}`);
    assert.deepEqual(p.body.MissingVariables, ["Job.Data.missing"]);
    const empty = await t.request("POST", `/v1/campaigns/${cmp.Id}/preview`, { Job: {} });
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    assert.equal(empty.body.FirstTurn, `Hello  from ! ${INTRO}`);
    assert.deepEqual(empty.body.MissingVariables, [
      "Job.ContactName",
      "Job.Data.missing",
      "Job.Metadata.zip",
    ]);
    const missing = await t.request("POST", "/v1/campaigns/cmp_doesnotexist/preview", { Job: {} });
    assert.equal(missing.status, 404);
  });
});
