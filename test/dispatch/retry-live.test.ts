// A job canceled during a call and retried before that call has ended is not dialed again until the
// call is over: the contact never gets a second call from one job while the first still rings.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Dispatcher } from "../../src/dispatcher/index.ts";
import { newCampaign, newJob, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { RecordingCarrier, testDispatcher } from "../helpers/carriers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a job retried while its canceled call is still ending", () => {
  let t: TestApp;
  let d: Dispatcher | undefined;
  // Its calls ring until the test ends them; a hang-up does not end them (a carrier takes a moment to).
  const carrier = new RecordingCarrier();
  before(async () => {
    t = await startTestApp();
    d = testDispatcher(t, carrier);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await t.close();
  });

  test("is dialed again only once that call has ended", async () => {
    const campaign = await newCampaign(t);
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550501" });
    await waitFor(async () => carrier.placed.length === 1);
    const first = carrier.placed[0]!.callId;

    assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
    const retried = await t.request("POST", `/v1/jobs/${job.Id}/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.State, "pending");

    // Many claim rounds while the first call still rings: none dials the job.
    await sleep(400);
    assert.equal(carrier.placed.length, 1, "the job was dialed again while its first call was live");

    carrier.release(first);
    await waitFor(async () => carrier.placed.length === 2);
    const ended = (await t.request("GET", `/v1/calls/${first}`)).body;
    assert.ok(ended.EndedAt, "the second dial came before the first call was closed");
    carrier.release(carrier.placed[1]!.callId);
  });
});
