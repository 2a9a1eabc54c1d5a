import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import type { BackgroundTask } from "../../src/background.ts";
import { claimDueDeliveries } from "../../src/store/index.ts";
import { fanOutOnce } from "../../src/webhooks/index.ts";
import { webhookSettings } from "../../src/webhooks/settings.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";
import { hookUp, Receiver, startWebhookTask } from "./helpers.ts";

const TIMEOUT_MS = 8000;
const settings = { COBBERY_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), COBBERY_WEBHOOK_POLL_MS: "50" };

let t: TestApp;
let campaignId: string;
let task: BackgroundTask | null = null;
const receivers: Receiver[] = [];
let phone = 0;

const receiver = async () => {
  const r = await new Receiver().start();
  receivers.push(r);
  return r;
};
const createJobs = async (n: number): Promise<void> => {
  const Jobs = Array.from({ length: n }, () => ({
    PhoneNumber: `+1617555${String(phone++).padStart(4, "0")}`,
  }));
  const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, { Jobs });
  assert.equal(r.body.Created, n);
};

before(async () => {
  t = await startTestApp({ ...settings, COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" });
  campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
});
afterEach(async () => {
  // Hung requests end with their connections, so the worker stops without waiting out the timeout.
  for (const r of receivers.splice(0)) await r.close();
  await task?.stop();
  task = null;
  for (const w of (await t.request("GET", "/v1/webhooks?Limit=1000")).body.Items)
    await t.request("DELETE", `/v1/webhooks/${w.Id}`);
});
after(async () => {
  await t.close();
});

test("a claim shares its room between webhooks by the attempts each has under way", async () => {
  const c = await hookUp(t, await receiver(), ["job.created"]);
  const d = await hookUp(t, await receiver(), ["job.created"]);
  await createJobs(30);
  await waitFor(async () => (await fanOutOnce(t.app.deps.db, 500)).deliveries > 0 || undefined);
  const count = (claimed: { webhook_id: string }[], id: string) =>
    claimed.filter((x) => x.webhook_id === id).length;

  // C has 20 under way: D first rises to 20, then both share the rest (30 = C 5 + D 25).
  const { claimed: first } = await claimDueDeliveries(
    t.app.deps.db,
    { limit: 30, perWebhook: 40, inFlight: new Map([[c.Id, 20]]) },
    60,
  );
  assert.deepEqual([count(first, c.Id), count(first, d.Id)], [5, 25]);
  // C at its cap gets nothing, though its deliveries are the oldest due: D's last 5 go.
  const { claimed: second } = await claimDueDeliveries(
    t.app.deps.db,
    { limit: 10, perWebhook: 25, inFlight: new Map([[c.Id, 25]]) },
    60,
  );
  assert.deepEqual([count(second, c.Id), count(second, d.Id)], [0, 5]);
  // Nothing is claimed twice.
  assert.equal(new Set([...first, ...second].map((x) => x.id)).size, 35);
});

test(
  "a claim locks only what it takes: a worker claiming while it is still open takes the rest",
  CONCURRENT_TRANSACTIONS,
  async () => {
    await hookUp(t, await receiver(), ["job.created"]);
    await hookUp(t, await receiver(), ["job.created"]);
    await createJobs(6);
    await waitFor(async () => (await fanOutOnce(t.app.deps.db, 500)).deliveries > 0 || undefined);
    const room = (limit: number) => ({ limit, perWebhook: 40, inFlight: new Map<string, number>() });
    const { first, second } = await t.app.deps.db.tx(async (q) => {
      const { claimed: first } = await claimDueDeliveries(q, room(5), 60);
      // Another connection, while the first claim's transaction still holds its locks.
      const second = await claimDueDeliveries(t.app.deps.db, room(50), 60);
      return { first, second };
    });
    assert.equal(first.length, 5);
    assert.equal(second.claimed.length, 12 - 5, "every due delivery the first claim did not take");
    // It shared out all 12 it saw due: taking fewer tells the worker to look again at once.
    assert.equal(second.shares, 12);
    const ids = [...first, ...second.claimed].map((x) => x.id);
    assert.equal(new Set(ids).size, 12);
  },
);

/**
 * A hanging endpoint with `backlog` deliveries due; once its attempts are open, another webhook's
 * deliveries must all arrive before any hung attempt times out.
 */
async function hangingBeside(backlog: number): Promise<void> {
  const hanging = await receiver();
  hanging.hang = true;
  await hookUp(t, hanging, ["job.created"]);
  await createJobs(backlog);
  const healthy = await receiver();
  await hookUp(t, healthy, ["job.canceled"]);

  task = await startWebhookTask(t);
  const { maxInFlightPerWebhook } = webhookSettings(t.app.deps.config.webhooks);
  const open = Math.min(backlog, maxInFlightPerWebhook);
  await waitFor(async () => hanging.held >= open, 10_000, "the hanging endpoint's attempts open");
  const jobs = (await t.request("GET", `/v1/jobs?CampaignId=${campaignId}&State=pending&Limit=5`)).body.Items;
  for (const j of jobs) assert.equal((await t.request("POST", `/v1/jobs/${j.Id}/cancel`)).status, 200);
  await waitFor(
    async () => healthy.received.length >= 5,
    TIMEOUT_MS - 3000,
    "the other webhook's deliveries",
  );
  assert.equal(hanging.held, hanging.received.length, "no hung attempt had ended yet");
  assert.ok(
    hanging.maxHeld <= maxInFlightPerWebhook,
    `one webhook holds at most its cap: ${hanging.maxHeld} > ${maxInFlightPerWebhook}`,
  );
}

test("an endpoint that hangs with a backlog does not hold up another webhook's deliveries", async () => {
  await hangingBeside(150); // more than a worker's slots: it reaches its cap
});

test("nor does one that hangs below its cap, holding over half the slots", async () => {
  await hangingBeside(40); // over half of a worker's slots, under its cap
});

test("with a long poll, a timer wakes the worker to claim for the others once hung attempts turn slow", async () => {
  // Nothing else wakes it: the hung attempts never end, and the next poll is a minute away. The
  // test fans out itself, so that an event held back by another test's open transaction does
  // not wait for that poll either.
  const app = await startTestApp({
    ...settings,
    COBBERY_WEBHOOK_POLL_MS: "60000",
    COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true",
  });
  const hanging = await new Receiver().start();
  const healthy = await new Receiver().start();
  let worker: BackgroundTask | null = null;
  const fanOut = async (n: number) => {
    let made = 0;
    await waitFor(async () => {
      made += (await fanOutOnce(app.app.deps.db, 500)).deliveries;
      return made >= n;
    });
  };
  try {
    hanging.hang = true;
    await hookUp(app, hanging, ["job.created"]);
    await hookUp(app, healthy, ["job.canceled"]);
    const campaign = (await app.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    const Jobs = Array.from({ length: 150 }, (_, i) => ({
      PhoneNumber: `+1617556${String(i).padStart(4, "0")}`,
    }));
    assert.equal(
      (await app.request("POST", `/v1/campaigns/${campaign}/jobs/batch`, { Jobs })).body.Created,
      150,
    );
    await fanOut(150);
    worker = await startWebhookTask(app);
    const { maxInFlightPerWebhook } = webhookSettings(app.app.deps.config.webhooks);
    await waitFor(
      async () => hanging.held >= maxInFlightPerWebhook,
      10_000,
      "the hanging endpoint at its cap",
    );
    const jobs = (await app.request("GET", `/v1/jobs?CampaignId=${campaign}&Limit=5`)).body.Items;
    for (const j of jobs) assert.equal((await app.request("POST", `/v1/jobs/${j.Id}/cancel`)).status, 200);
    await fanOut(5);
    await waitFor(
      async () => healthy.received.length >= 5,
      TIMEOUT_MS - 3000,
      "the other webhook's deliveries",
    );
    assert.equal(hanging.held, hanging.received.length, "no hung attempt had ended yet");
  } finally {
    await hanging.close();
    await healthy.close();
    await worker?.stop();
    await app.close();
  }
});
