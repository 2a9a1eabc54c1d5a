import { Webhook } from "standardwebhooks";
import type { BatchWriter } from "../batchWriter.ts";
import type { Logger } from "../logging/index.ts";
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  type Db,
  disableWebhook,
  recordOutcomes,
} from "../store/index.ts";
import { postDelivery } from "./post.ts";
import { parseRetryAfter, retryDelaySeconds } from "./retry.ts";

/** The body of a delivery: `{"type", "timestamp", "data"}`, data verbatim as stored. */
export const payloadOf = (d: Pick<ClaimedDelivery, "event_type" | "event_at" | "data">): string =>
  `{"type":${JSON.stringify(d.event_type)},"timestamp":${JSON.stringify(d.event_at.toISOString())},"data":${d.data}}`;

/** Standard Webhooks headers of one attempt: the id stays, the timestamp and signature are new. */
export function signedHeaders(
  d: Pick<ClaimedDelivery, "message_id" | "secret">,
  payload: string,
  at: Date,
): Record<string, string> {
  return {
    "webhook-id": d.message_id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(d.secret).sign(d.message_id, at, payload),
  };
}

export type AttemptOutcomeLabel = "delivered" | "retry" | "failed" | "gone" | "lost";

export interface DeliverOptions {
  timeoutMs: number;
  retryScale: number;
  allowPrivate: boolean;
  /** Counts the attempt (Prometheus), by outcome: "lost" when the lease had been taken over. */
  count?: (outcome: AttemptOutcomeLabel) => void;
}

/**
 * One attempt of a claimed delivery, and its outcome: 2xx delivered; 410 the webhook is disabled for
 * good and its pending deliveries abandoned; anything else is retried on the schedule (or failed
 * after the last attempt). Every write is fenced on the attempt number: if this worker's lease ran
 * out and another worker took the delivery over, nothing is written.
 */
export async function attemptDelivery(
  deps: {
    db: Db;
    logger: Logger;
    /** Writes an outcome (with others): false when the attempt's lease had been taken over. */
    outcomes: BatchWriter<AttemptOutcome, boolean>;
  },
  d: ClaimedDelivery,
  opts: DeliverOptions,
): Promise<void> {
  const { db, logger } = deps;
  const payload = payloadOf(d);
  const r = await postDelivery(d.url, signedHeaders(d, payload, new Date()), payload, {
    timeoutMs: opts.timeoutMs,
    allowPrivate: opts.allowPrivate,
  });
  const attempt = {
    id: d.id,
    attempts: d.attempts,
    statusCode: r.statusCode,
    error: r.error ?? (r.statusCode !== null && !ok(r.statusCode) ? `HTTP ${r.statusCode}` : null),
  };
  const log = { delivery: d.id, webhook: d.webhook_id, attempt: d.attempts, status: r.statusCode };
  let label: AttemptOutcomeLabel;
  let written: boolean;
  if (r.statusCode !== null && ok(r.statusCode)) {
    label = "delivered";
    written = await deps.outcomes.write({ ...attempt, kind: "delivered" });
  } else if (r.statusCode === 410) {
    label = "gone";
    written = await db.tx(async (q) => {
      const gone: AttemptOutcome = {
        ...attempt,
        kind: "failed",
        error: "HTTP 410: the webhook was disabled.",
      };
      if ((await recordOutcomes(q, [gone])).size === 0) return false;
      const abandoned = await disableWebhook(q, d.webhook_id);
      logger.info({ ...log, abandoned }, "webhook endpoint answered 410: webhook disabled");
      return true;
    });
  } else {
    const delay = retryDelaySeconds(d.attempts, opts.retryScale, parseRetryAfter(r.retryAfter));
    label = delay === null ? "failed" : "retry";
    written = await deps.outcomes.write(
      delay === null ? { ...attempt, kind: "failed" } : { ...attempt, kind: "retry", retryInSeconds: delay },
    );
    logger.debug({ ...log, retryInSeconds: delay }, "webhook delivery attempt failed");
  }
  if (!written) {
    label = "lost";
    logger.warn(
      log,
      "webhook delivery outcome not recorded: its lease was taken over, or the webhook deleted",
    );
  }
  opts.count?.(label);
}

const ok = (status: number): boolean => status >= 200 && status < 300;
