import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { BackgroundTask } from "../../src/background.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { deliveriesOf, fanOutDeliveries, hookUp, Receiver, startWebhookTask } from "./helpers.ts";

// A poll far longer than the wait below: the backlog must drain on the worker's own wake-ups.
const LONG_POLL = { COBBERY_WEBHOOK_POLL_MS: "60000", COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" };
const JOBS = 300;

let t: TestApp;
let rx: Receiver;
let task: BackgroundTask | null = null;

before(async () => {
  t = await startTestApp(LONG_POLL);
  rx = await new Receiver().start();
});
after(async () => {
  await task?.stop();
  await rx.close();
  await t.close();
});

test("a backlog of deliveries drains without waiting for the poll, over reused connections", async () => {
  const hook = await hookUp(t, rx, ["job.created"]);
  const campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  const jobs = Array.from({ length: JOBS }, (_, i) => ({
    PhoneNumber: `+1617555${String(i).padStart(4, "0")}`,
  }));
  const created = await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, { Jobs: jobs });
  assert.equal(created.body.Created, JOBS);

  // The deliveries are made first: a fan-out round can find new events held back by a transaction
  // still open elsewhere on the server (another test's), and this worker's next round is a poll away.
  await fanOutDeliveries(t.app.deps.db, JOBS);
  // Several times the in-flight limit: the worker must claim again as attempts finish.
  task = await startWebhookTask(t);
  await waitFor(async () => rx.received.length >= JOBS, 30_000, `${JOBS} deliveries well before the poll`);
  const ids = new Set(rx.received.map((r) => r.event?.data?.Id));
  assert.equal(ids.size, JOBS, "each job's job.created once");
  assert.ok(
    rx.received.every((r) => r.verifyError === null),
    "every delivery is signed",
  );
  await waitFor(
    async () => (await deliveriesOf(t, hook.Id)).filter((d) => d.Status === "delivered").length === JOBS,
    10_000,
    "every outcome recorded",
  );
  assert.ok(
    rx.connections <= JOBS / 3,
    `connections are reused: ${rx.connections} connections for ${JOBS} deliveries`,
  );
});
