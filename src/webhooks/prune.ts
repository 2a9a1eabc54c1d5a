import type { BackgroundTask } from "../background.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logging/index.ts";
import { PeriodicTask } from "../periodicTask.ts";
import { DAY_MS } from "../schedule/index.ts";
import { type Db, pruneDeliveries } from "../store/index.ts";

export const WEBHOOK_PRUNING_TASK_NAME = "webhook-delivery-pruning";

/** Deliveries deleted per transaction: short transactions, however large the backlog. */
const BATCH = 1_000;
/** Batches per round at most, so that one round never runs for long; the next round goes on. */
const MAX_BATCHES = 100;

/**
 * Deletes the deliveries that are over and older than the retention (COBBERY_WEBHOOK_RETENTION_DAYS),
 * so the delivery log and GET /metrics's count of it stay bounded. Pending deliveries are kept.
 */
export async function pruneWebhookDeliveries(db: Db, before: Date, batch = BATCH): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await db.tx((q) => pruneDeliveries(q, before, batch));
    total += n;
    if (n < batch) break;
  }
  return total;
}

/** The BACKGROUND_TASKS entry: a round every ten minutes (`opts` are for tests). */
export const webhookPruningTask = (
  deps: { db: Db; logger: Logger; config: Pick<Config, "webhooks"> },
  opts: { intervalMs?: number; now?: () => number } = {},
): BackgroundTask => {
  const { retentionDays } = deps.config.webhooks;
  return new PeriodicTask(
    WEBHOOK_PRUNING_TASK_NAME,
    opts.intervalMs ?? 10 * 60_000,
    deps.logger,
    async () => {
      const before = new Date((opts.now ?? Date.now)() - retentionDays * DAY_MS);
      const n = await pruneWebhookDeliveries(deps.db, before);
      if (n > 0) deps.logger.info({ deleted: n, retentionDays }, "old webhook deliveries deleted");
    },
  );
};
