import type { BackgroundTask, BackgroundTaskFactory } from "../background.ts";
import { BatchWriter } from "../batchWriter.ts";
import type { Logger } from "../logging/index.ts";
import { PollLoop } from "../pollLoop.ts";
import { type AttemptOutcome, claimDueDeliveries, type Db, recordOutcomes } from "../store/index.ts";
import { type AttemptOutcomeLabel, attemptDelivery } from "./deliver.ts";
import { fanOutOnce } from "./fanOut.ts";
import { leaseSecondsOf, type WebhookSettings, webhookSettings } from "./settings.ts";

export const WEBHOOK_TASK_NAME = "webhooks";

/**
 * The webhook worker of one process: fans new events out into deliveries and attempts the due ones,
 * beside the dispatcher and never in its way (its own loop, its own HTTP requests). Everything it
 * does is durable in the database: any number of processes may run it.
 */
export class WebhookWorker implements BackgroundTask {
  readonly name = WEBHOOK_TASK_NAME;
  /** Rounds back to back while more is waiting, else one every pollMs (or when an attempt frees room). */
  private readonly loop = new PollLoop(async () => ((await this.tick()) ? null : this.settings.pollMs));
  private readonly inFlight = new Set<Promise<void>>();
  /** The last round found too little room (waitsForRoom): the attempts that free it wake the loop. */
  private full = false;
  /**
   * Attempts finish in bursts (a claim starts many at once): their outcomes are written together,
   * else one statement each would keep the pool busy and the next claim waiting.
   */
  private readonly outcomes: BatchWriter<AttemptOutcome, boolean>;

  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      allowPrivate: boolean;
      count?: (outcome: AttemptOutcomeLabel) => void;
    },
    private readonly settings: WebhookSettings,
  ) {
    this.outcomes = new BatchWriter(async (items) => {
      const written = await recordOutcomes(deps.db, items);
      return items.map((o) => written.has(o.id));
    });
  }

  async start(): Promise<void> {
    this.loop.start();
  }

  /** Stops claiming; the attempts under way finish (each within the request timeout) and are recorded. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.all([...this.inFlight]);
  }

  /**
   * Whether the worker waits for room before it claims: while more than half its attempts are under
   * way. Claims then take many deliveries at once (on the embedded database, whose one connection
   * serializes every statement, claims of one delivery each would take most of its time).
   */
  private waitsForRoom(): boolean {
    return this.inFlight.size > this.settings.maxInFlight / 2;
  }

  /** One round: fan out what is new, then claim and start due deliveries. Returns whether more is waiting. */
  async tick(): Promise<boolean> {
    const { db, logger } = this.deps;
    let more = false;
    try {
      const f = await fanOutOnce(db, this.settings.fanOutBatch);
      more = f.events >= this.settings.fanOutBatch;
    } catch (e) {
      logger.warn({ err: e }, "webhook fan-out failed");
    }
    const room = this.settings.maxInFlight - this.inFlight.size;
    this.full = this.waitsForRoom();
    if (this.full || this.loop.stopping) return more;
    try {
      const claimed = await claimDueDeliveries(db, room, leaseSecondsOf(this.settings));
      for (const d of claimed) {
        const p = attemptDelivery({ ...this.deps, outcomes: this.outcomes }, d, {
          timeoutMs: this.settings.timeoutMs,
          retryScale: this.settings.retryScale,
          allowPrivate: this.deps.allowPrivate,
          ...(this.deps.count ? { count: this.deps.count } : {}),
        })
          .catch((e) => logger.warn({ err: e, delivery: d.id }, "webhook delivery could not be recorded"))
          .finally(() => {
            this.inFlight.delete(p);
            if (this.full && !this.waitsForRoom()) this.loop.wake();
          });
        this.inFlight.add(p);
      }
      this.full = this.waitsForRoom();
      // A claim that got all the room it asked for may have left more due. If attempts finished
      // during the claim and freed room, the next round claims again at once instead of waiting
      // out a poll with due deliveries left; else the attempts that free room wake it.
      if (claimed.length >= room && !this.full) more = true;
    } catch (e) {
      logger.warn({ err: e }, "claiming webhook deliveries failed");
    }
    return more;
  }
}

/** The BACKGROUND_TASKS entry. Settings come from COBBERY_WEBHOOK_* (Config.webhooks). */
export const webhookTask: BackgroundTaskFactory = (deps) =>
  new WebhookWorker(
    {
      db: deps.db,
      logger: deps.logger,
      allowPrivate: deps.config.allowPrivateWebhooks,
      count: (outcome) => deps.metrics?.webhookDeliveries.inc({ outcome }),
    },
    webhookSettings(deps.config.webhooks),
  );
