import type { Config } from "../config/index.ts";

/** How the webhook worker runs: the COBBERY_WEBHOOK_* settings (Config.webhooks) and fixed sizes. */
export interface WebhookSettings extends Readonly<Config["webhooks"]> {
  /** Deliveries one worker has under way at most. */
  readonly maxInFlight: number;
  /**
   * Of those, one webhook's at most: the rest stay for the others, so that an endpoint that hangs
   * with a backlog cannot take every slot (see claimDueDeliveries).
   */
  readonly maxInFlightPerWebhook: number;
  /**
   * An attempt under way longer than this is slow (an endpoint that hangs, or takes its time): the
   * worker no longer waits for it to end before it claims for the others.
   */
  readonly slowAttemptMs: number;
  /**
   * How long the room freed by a slow attempt gathers before the worker claims it: slow attempts end
   * one by one, spread out, and a claim for each alone would be a claim per delivery.
   */
  readonly slowRoomGatherMs: number;
  /** Events read per fan-out transaction. */
  readonly fanOutBatch: number;
}

export const webhookSettings = (configured: Config["webhooks"]): WebhookSettings => ({
  ...configured,
  maxInFlight: 60,
  maxInFlightPerWebhook: 50,
  slowAttemptMs: 1000,
  slowRoomGatherMs: 100,
  fanOutBatch: 500,
});

/** The lease of one attempt: past it, another worker tries again. */
export const leaseSecondsOf = (s: WebhookSettings): number => Math.ceil(s.timeoutMs / 1000) + 20;
