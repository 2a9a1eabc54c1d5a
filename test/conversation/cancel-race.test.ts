// A cancel that commits after the dial but before the conversation starts (while the worker marks
// the call answered and loads the job) must end the call as canceled: it is not the contact hanging
// up, so it never counts as a HangupOptOut opt-out.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Dispatcher } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import {
  jobEnded,
  newCampaign,
  newJob,
  simContact,
  startTestApp,
  type TestApp,
  waitFor,
} from "../helpers/app.ts";
import { QUICK_DISPATCH } from "../helpers/carriers.ts";

describe("a cancel between the dial and the conversation's start", () => {
  let t: TestApp;
  let d: Dispatcher | undefined;
  before(async () => {
    t = await startTestApp({ COBBERY_DISPATCH_POLL_MS: "20" });
  });
  after(async () => {
    await d?.stop();
    await t.close();
  });

  test("ends the call canceled, with no conversation and no opt-out", async () => {
    const phone = "+14155550301";
    const campaign = await newCampaign(t, {}, { HangupOptOut: true });
    // The same contact waits in another (paused) campaign: an opt-out would fail that job too.
    const other = await newCampaign(t, {}, { PhoneNumbers: ["+14155550999"] });
    await t.request("POST", `/v1/campaigns/${other}/pause`);
    const waiting = await newJob(t, other, { PhoneNumber: phone });
    await simContact(t, phone, [{ Answer: "human", Replies: ["yes", "3"] }]);
    const conversations = t.app.deps.conversations;
    assert.ok(conversations);
    d = new Dispatcher(
      {
        db: t.database.db,
        telephony: t.app.telephony,
        logger: createLogger("silent"),
        onHangup: (id) => conversations.hangup(id),
        // The real handler, run once the cancel (and its hang-up notice) went through: the window
        // between the dial and the conversation's start, made wide.
        onAnswered: async (call, outcome, closer) => {
          const r = await t.request("POST", `/v1/jobs/${call.claim.job.id}/cancel`);
          assert.equal(r.status, 200);
          await new Promise((res) => setTimeout(res, 200));
          return conversations.onAnswered(call, outcome, closer);
        },
      },
      QUICK_DISPATCH,
    );
    await d.start();
    const jobId = (await newJob(t, campaign, { PhoneNumber: phone })).Id;

    const job = await jobEnded(t, jobId);
    assert.equal(job.State, "canceled");
    const call = await waitFor(async () => {
      const c = (await t.request("GET", `/v1/jobs/${jobId}/calls`)).body.Items[0];
      return c?.EndedAt ? c : undefined;
    });
    assert.deepEqual([call.Status, call.EndReason, call.Transcript], ["canceled", "canceled", []]);
    assert.deepEqual((await t.request("GET", "/v1/opt-outs")).body.Items, []);
    const w = (await t.request("GET", `/v1/jobs/${waiting.Id}`)).body;
    assert.deepEqual([w.State, w.FailureReason], ["pending", null]);
  });
});
