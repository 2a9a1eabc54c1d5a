import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { BackgroundTask } from "../../src/background.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import {
  pruneWebhookDeliveries,
  WEBHOOK_PRUNING_TASK_NAME,
  webhookPruningTask,
} from "../../src/webhooks/index.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { deliveriesOf, hookUp, Receiver, startWebhookTask } from "./helpers.ts";

const DAY = 86_400_000;

describe("webhook delivery retention", () => {
  let t: TestApp;
  let rx: Receiver;
  let campaignId: string;
  let phone = 100;
  const tasks: BackgroundTask[] = [];

  before(async () => {
    t = await startTestApp({ COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true", COBBERY_WEBHOOK_POLL_MS: "20" });
    rx = await new Receiver().start();
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  after(async () => {
    for (const task of tasks) await task.stop();
    await rx.close();
    await t.close();
  });

  /** A webhook with `n` delivered job.created deliveries, and one pending (being retried). */
  async function deliveredAndPending(n: number): Promise<{ hookId: string; pendingId: string }> {
    const hook = await hookUp(t, rx, ["job.created"]);
    for (let i = 0; i < n + 1; i++) {
      const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, {
        PhoneNumber: `+1617555${String(phone++).padStart(4, "0")}`,
      });
      assert.equal(r.status, 201);
    }
    await waitFor(
      async () => (await deliveriesOf(t, hook.Id)).filter((d) => d.Status === "delivered").length === n + 1,
      20_000,
      "every delivery delivered",
    );
    // One is being retried: it stays, however old.
    const [first] = await deliveriesOf(t, hook.Id);
    await t.app.deps.db.query(
      "update webhook_deliveries set status = 'pending', next_attempt_at = now() + interval '1 day' where id = $1",
      [first.Id],
    );
    return { hookId: hook.Id, pendingId: first.Id };
  }

  test("finished deliveries made before the cutoff are deleted in batches; pending ones stay", async () => {
    const task = await startWebhookTask(t);
    tasks.push(task);
    const { hookId, pendingId } = await deliveredAndPending(7);
    await task.stop();
    const ids = async () => (await deliveriesOf(t, hookId)).map((d) => d.Id).sort();
    assert.equal((await ids()).length, 8);

    // Made before a cutoff an hour ago: none of them.
    assert.equal(await pruneWebhookDeliveries(t.app.deps.db, new Date(Date.now() - 3_600_000), 3), 0);
    assert.equal((await ids()).length, 8);
    // Made before a cutoff in a minute: all the finished ones, in batches of 3 (3 + 3 + 1).
    assert.equal(await pruneWebhookDeliveries(t.app.deps.db, new Date(Date.now() + 60_000), 3), 7);
    assert.deepEqual(await ids(), [pendingId]);
  });

  test("is a background task of every worker process; it deletes past COBBERY_WEBHOOK_RETENTION_DAYS", async () => {
    assert.ok(t.app.newBackgroundTasks().some((x) => x.name === WEBHOOK_PRUNING_TASK_NAME));
    const webhooks = await startWebhookTask(t);
    tasks.push(webhooks);
    const { hookId, pendingId } = await deliveredAndPending(3);
    await webhooks.stop();

    const logger = createLogger("warn");
    const config = loadConfig({ COBBERY_WEBHOOK_RETENTION_DAYS: "30" });
    // Ten days later with a 30-day retention: nothing is old enough.
    const early = webhookPruningTask(
      { db: t.app.deps.db, logger, config },
      { intervalMs: 20, now: () => Date.now() + 10 * DAY },
    );
    await early.start();
    await new Promise((r) => setTimeout(r, 200));
    await early.stop();
    assert.equal((await deliveriesOf(t, hookId)).length, 4);

    // Thirty-one days later: the finished ones go.
    const late = webhookPruningTask(
      { db: t.app.deps.db, logger, config },
      { intervalMs: 20, now: () => Date.now() + 31 * DAY },
    );
    tasks.push(late);
    await late.start();
    await waitFor(async () => (await deliveriesOf(t, hookId)).length === 1, 10_000, "old deliveries deleted");
    assert.deepEqual(
      (await deliveriesOf(t, hookId)).map((d) => d.Id),
      [pendingId],
    );
  });
});
