import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import type { BackgroundTask } from "../../src/background.ts";
import { claimDueDeliveries } from "../../src/store/index.ts";
import { webhookSettings } from "../../src/webhooks/settings.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";
import { deleteWebhooks, fanOutDeliveries, hookUp, Receiver, startWebhookTask } from "./helpers.ts";

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
const createJobs = async (n: number, app = t, campaign = campaignId): Promise<void> => {
  const Jobs = Array.from({ length: n }, () => ({
    PhoneNumber: `+1617555${String(phone++).padStart(4, "0")}`,
  }));
  const r = await app.request("POST", `/v1/campaigns/${campaign}/jobs/batch`, { Jobs });
  assert.equal(r.body.Created, n);
};
/** Stops the test's webhook task; hung requests end with their receivers' connections, so it does not wait out the timeout. */
const stopTask = async () => {
  for (const r of receivers.splice(0)) await r.close();
  await task?.stop();
  task = null;
};

before(async () => {
  t = await startTestApp({ ...settings, COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" });
  campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
});
afterEach(async () => {
  await stopTask();
  await deleteWebhooks(t);
});
after(async () => {
  await t.close();
});

test("a claim shares its room between webhooks by the attempts each has under way", async () => {
  const c = await hookUp(t, await receiver(), ["job.created"]);
  const d = await hookUp(t, await receiver(), ["job.created"]);
  await createJobs(30);
  await fanOutDeliveries(t.app.deps.db, 60);
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
    await fanOutDeliveries(t.app.deps.db, 12);
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
 * deliveries must all arrive before any hung attempt times out. With `fanOutByTest`, the test makes
 * the deliveries itself, so that only the worker's own wake-ups can get them sent.
 */
async function hangingBeside(backlog: number, app = t, fanOutByTest = false): Promise<void> {
  const hanging = await receiver();
  hanging.hang = true;
  await hookUp(app, hanging, ["job.created"]);
  const healthy = await receiver();
  await hookUp(app, healthy, ["job.canceled"]);
  const campaign = (await app.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  await createJobs(backlog, app, campaign);
  if (fanOutByTest) await fanOutDeliveries(app.app.deps.db, backlog);

  task = await startWebhookTask(app);
  const { maxInFlightPerWebhook } = webhookSettings(app.app.deps.config.webhooks);
  const open = Math.min(backlog, maxInFlightPerWebhook);
  await waitFor(async () => hanging.held >= open, 10_000, "the hanging endpoint's attempts open");
  const jobs = (await app.request("GET", `/v1/jobs?CampaignId=${campaign}&Limit=5`)).body.Items;
  for (const j of jobs) assert.equal((await app.request("POST", `/v1/jobs/${j.Id}/cancel`)).status, 200);
  if (fanOutByTest) await fanOutDeliveries(app.app.deps.db, 5);
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
  // Nothing else wakes it: the hung attempts never end, and the next poll is a minute away.
  const app = await startTestApp({
    ...settings,
    COBBERY_WEBHOOK_POLL_MS: "60000",
    COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true",
  });
  try {
    await hangingBeside(150, app, true);
  } finally {
    await stopTask();
    await app.close();
  }
});
