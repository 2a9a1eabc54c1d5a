// An inbound call's lease is renewed while the call and its analysis run: a reaper only recovers
// the calls of a process that died, never a slow one that is alive.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { reapExpiredLeases } from "../../src/dispatcher/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { Api, surveyCampaign } from "../helpers/conversation.ts";
import { type FakeLlm, fakeLlmEnv, startFakeLlm } from "../helpers/fakeLlm.ts";

describe("the lease of an inbound call", () => {
  let fake: FakeLlm;
  let t: TestApp;
  before(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      ...fakeLlmEnv(fake),
      // Leases of a second: the call below outlasts several of them.
      COBBERY_DISPATCH_LEASE_SECONDS: "1",
    });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  test("is renewed while the agent takes longer than the lease, so no reaper takes the call", async () => {
    const api = new Api(t);
    const cmp = await api.campaign(
      surveyCampaign({
        Status: "paused",
        InboundMode: "lookup",
        PhoneNumbers: ["+14155550420"],
        agent: { Type: "llm", Prompt: "You are Ana from Acme Housing.", Flow: null },
      }),
    );
    const job = await api.job(cmp.Id, { PhoneNumber: "+14155550620" });
    // The agent's first answer takes 3 s; then it ends the call.
    fake.queue({ content: "Hello, thanks for calling.", delayMs: 3_000 });
    fake.reply(() => ({ content: "Goodbye.", toolCalls: [{ name: "end_call", arguments: {} }] }));

    let reaped = 0;
    let reaping = true;
    const reaper = (async () => {
      while (reaping) {
        reaped += await reapExpiredLeases(t.database.db);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const call = await api.inbound("+14155550620", "+14155550420", ["hello", "bye"]);
    reaping = false;
    await reaper;

    assert.equal(call.status, 201, JSON.stringify(call.body));
    assert.equal(reaped, 0, "a reaper took the live inbound call");
    assert.notEqual(call.body.EndReason, "worker_lost");
    assert.equal(call.body.JobId, job.Id);
    const j = await api.getJob(job.Id);
    // The call's own ending decided (the agent ended it); a reaper would have put the job back pending.
    assert.equal(j.State, "completed");
    const lease = await t.database.db.query("select 1 from jobs where id = $1 and lease_owner is not null", [
      job.Id,
    ]);
    assert.equal(lease.rowCount, 0, "the lease was left behind");
  });
});
