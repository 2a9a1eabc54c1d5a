import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../logging/index.ts";
import { callEndings, countLiveCalls, countWebhookDeliveries, type Queryable } from "../store/index.ts";

/** What the dispatcher reports; every argument is a count, a duration or an enum value (no PII). */
export interface DispatchMetrics {
  /** An outbound call was handed to the carrier, `lagSeconds` after its job was due. */
  callPlaced(lagSeconds: number): void;
  /**
   * The dispatcher is done with an outbound call (its ending is written, by the dispatcher or the
   * conversation): its Status and EndReason are counted from the call's row, in batches.
   */
  callFinished(callId: string): void;
  /** An outbound call ended with an ending the dispatcher wrote itself: counted as is, nothing read back. */
  callEnded(status: string, endReason: string): void;
}

/**
 * The process's Prometheus metrics, on a registry of its own (built by the composition root; nothing
 * is registered at import time). Labels are enum values only: no ids, numbers or names.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly dispatch: DispatchMetrics;
  readonly callsPlaced: Counter;
  readonly callsEnded: Counter<"status" | "end_reason">;
  readonly dispatchLag: Histogram;
  /** Webhook deliveries attempted by this process; `outcome` e.g. delivered, failed, gone. */
  readonly webhookDeliveries: Counter<"outcome">;
  readonly eventsForwarded: Counter;
  readonly eventForwardingFailures: Counter;
  /** The exposition text and its content type, for GET /metrics. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(deps: { db: Queryable; logger?: Logger }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const callsPlaced = new Counter({
    name: "cobbery_calls_placed_total",
    help: "Outbound calls this process handed to the carrier.",
    registers,
  });
  const callsEnded = new Counter({
    name: "cobbery_calls_ended_total",
    help: "Outbound calls this process followed to their end, by Status and EndReason.",
    labelNames: ["status", "end_reason"] as const,
    registers,
  });
  const dispatchLag = new Histogram({
    name: "cobbery_dispatch_lag_seconds",
    help: "Time from when a job was due (NextCallAt) to when its call was dialed.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  const webhookDeliveries = new Counter({
    name: "cobbery_webhook_deliveries_total",
    help: "Webhook delivery attempts made by this process, by outcome.",
    labelNames: ["outcome"] as const,
    registers,
  });
  const eventsForwarded = new Counter({
    name: "cobbery_events_forwarded_total",
    help: "Analytics events this process forwarded to PostHog.",
    registers,
  });
  const eventForwardingFailures = new Counter({
    name: "cobbery_event_forwarding_failures_total",
    help: "PostHog batch requests that failed (retried with back-off).",
    registers,
  });

  const warn = (e: unknown, what: string) =>
    deps.logger?.warn({ error: (e as Error).message }, `metrics: counting ${what} failed`);
  new Gauge({
    name: "cobbery_live_calls",
    help: "Calls not ended yet (queued, ringing or connected), all workers, by direction.",
    labelNames: ["direction"] as const,
    registers,
    async collect() {
      try {
        const live = await countLiveCalls(deps.db);
        this.set({ direction: "outbound" }, live.outbound);
        this.set({ direction: "inbound" }, live.inbound);
      } catch (e) {
        warn(e, "live calls");
      }
    },
  });
  new Gauge({
    name: "cobbery_webhook_deliveries",
    help: "Webhook deliveries stored, by status.",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      try {
        const counts = await countWebhookDeliveries(deps.db);
        this.reset();
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      } catch (e) {
        warn(e, "webhook deliveries");
      }
    },
  });

  // Endings are read back from the calls' rows (answered calls are closed by the conversation,
  // which the dispatcher does not see), a batch at a time, off the dispatcher's path.
  let finished: string[] = [];
  let flushing: NodeJS.Timeout | null = null;
  const flushEndings = async () => {
    if (flushing) clearTimeout(flushing);
    flushing = null;
    const ids = finished;
    finished = [];
    try {
      for (const c of await callEndings(deps.db, ids))
        callsEnded.inc({ status: c.status, end_reason: c.end_reason ?? "none" });
    } catch (e) {
      warn(e, "call endings");
    }
  };
  const dispatch: DispatchMetrics = {
    callPlaced(lagSeconds) {
      callsPlaced.inc();
      dispatchLag.observe(Math.max(0, lagSeconds));
    },
    callEnded(status, endReason) {
      callsEnded.inc({ status, end_reason: endReason });
    },
    callFinished(callId) {
      finished.push(callId);
      if (finished.length >= 500) void flushEndings();
      else if (!flushing) {
        flushing = setTimeout(() => void flushEndings(), 100);
        flushing.unref();
      }
    },
  };

  return {
    registry,
    dispatch,
    callsPlaced,
    callsEnded,
    dispatchLag,
    webhookDeliveries,
    eventsForwarded,
    eventForwardingFailures,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
