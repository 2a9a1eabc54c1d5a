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
  /** The attempts under way: whose webhook each is (claims share the room out by them), and since when. */
  private readonly inFlight = new Map<Promise<void>, { webhookId: string; startedAt: number }>();
  /**
   * The last round may have left due deliveries behind: it waited for room, or its claim was cut
   * short by the room or by a webhook's cap. The attempts that free room then wake the loop.
   */
  private leftDue = false;
  /** Attempts ended so far, and those of them that were quick: a claim compares them before and after. */
  private finished = 0;
  private finishedQuick = 0;
  /** Set while the room freed by slow attempts gathers before a claim (see wakeIfRoom). */
  private gathering: ReturnType<typeof setTimeout> | null = null;
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
    await Promise.all([...this.inFlight.keys()]);
  }

  /**
   * Whether the worker waits for room before it claims: while more than half the slots it could
   * fill are busy. Claims then take many deliveries at once (on the embedded database, whose one
   * connection serializes every statement, claims of one delivery each would take most of its
   * time). Slow attempts are left out of the count, and their slots with them: an endpoint that
   * hangs until the timeout must not keep the worker from claiming the other webhooks' deliveries.
   */
  private waitsForRoom(): boolean {
    const slowSince = performance.now() - this.settings.slowAttemptMs;
    let slow = 0;
    for (const a of this.inFlight.values()) if (a.startedAt <= slowSince) slow++;
    return this.inFlight.size - slow > (this.settings.maxInFlight - slow) / 2;
  }

  /**
   * Wakes the loop if the last round left deliveries due and there is now room to claim them. Room
   * freed by a slow attempt first gathers for a moment: slow attempts end one by one, and claiming
   * as each ends would take one delivery per claim. Room freed by a quick attempt is claimed at once
   * (with whatever room has gathered), so a hanging endpoint does not slow the others' deliveries.
   */
  private wakeIfRoom(freedBySlow = false): void {
    if (!this.leftDue || this.waitsForRoom()) return;
    if (!freedBySlow) {
      this.loop.wake();
      return;
    }
    this.gathering ??= setTimeout(() => {
      this.gathering = null;
      this.wakeIfRoom();
    }, this.settings.slowRoomGatherMs).unref();
  }

  /** The attempts under way by webhook id. */
  private inFlightByWebhook(): Map<string, number> {
    const n = new Map<string, number>();
    for (const { webhookId } of this.inFlight.values()) n.set(webhookId, (n.get(webhookId) ?? 0) + 1);
    return n;
  }

  /** Whether a webhook had, or got to, its cap in a claim: it may have more due than it took. */
  private reachedCap(
    before: ReadonlyMap<string, number>,
    claimed: readonly { webhook_id: string }[],
  ): boolean {
    const after = new Map(before);
    for (const d of claimed) after.set(d.webhook_id, (after.get(d.webhook_id) ?? 0) + 1);
    for (const n of after.values()) if (n >= this.settings.maxInFlightPerWebhook) return true;
    return false;
  }

  /** One round: fan out what is new, then claim and start due deliveries. Returns whether more is waiting. */
  async tick(): Promise<boolean> {
    const { db, logger } = this.deps;
    // This round claims whatever room has gathered.
    if (this.gathering) clearTimeout(this.gathering);
    this.gathering = null;
    let more = false;
    try {
      const f = await fanOutOnce(db, this.settings.fanOutBatch);
      more = f.events >= this.settings.fanOutBatch;
    } catch (e) {
      logger.warn({ err: e }, "webhook fan-out failed");
    }
    const room = this.settings.maxInFlight - this.inFlight.size;
    this.leftDue = this.waitsForRoom();
    if (this.leftDue || this.loop.stopping) return more;
    const before = this.inFlightByWebhook();
    const finishedBefore = this.finished;
    const quickBefore = this.finishedQuick;
    try {
      const { claimed, shares } = await claimDueDeliveries(
        db,
        { limit: room, perWebhook: this.settings.maxInFlightPerWebhook, inFlight: before },
        leaseSecondsOf(this.settings),
      );
      for (const d of claimed) {
        const p = attemptDelivery({ ...this.deps, outcomes: this.outcomes }, d, {
          timeoutMs: this.settings.timeoutMs,
          retryScale: this.settings.retryScale,
          allowPrivate: this.deps.allowPrivate,
          ...(this.deps.count ? { count: this.deps.count } : {}),
        })
          .catch((e) => logger.warn({ err: e, delivery: d.id }, "webhook delivery could not be recorded"))
          .finally(() => {
            const slow =
              performance.now() - (this.inFlight.get(p)?.startedAt ?? 0) >= this.settings.slowAttemptMs;
            this.inFlight.delete(p);
            this.finished++;
            if (!slow) this.finishedQuick++;
            this.wakeIfRoom(slow);
          });
        this.inFlight.set(p, { webhookId: d.webhook_id, startedAt: performance.now() });
      }
      // Attempts that turn slow free their slots for the count above, with no event to say so.
      if (claimed.length > 0) setTimeout(() => this.wakeIfRoom(), this.settings.slowAttemptMs + 1).unref();
      // The claim may have left due deliveries behind if it got all the room it asked for, if a
      // webhook reached its cap (counting its attempts as they were when the claim began), or if
      // it took fewer than it shared out (some were locked elsewhere for a moment). The attempts
      // that free room then wake the loop. The next round runs at once if quick attempts already
      // ended during the claim, or if locked deliveries were passed over while others were taken;
      // after the room that slow ones freed during the claim has gathered.
      const short = claimed.length < shares;
      const cut = claimed.length >= room || short || this.reachedCap(before, claimed);
      this.leftDue = cut;
      const progress = this.finishedQuick !== quickBefore || (short && claimed.length > 0);
      if (cut && progress && !this.waitsForRoom()) more = true;
      else if (this.finished !== finishedBefore) this.wakeIfRoom(true);
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
