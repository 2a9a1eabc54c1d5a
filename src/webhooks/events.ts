/** The events a webhook can subscribe to (the names of GET /v1/events), or "*" for all of them. */
export const WEBHOOK_EVENT_TYPES = [
  "job.created",
  "job.resumed",
  "job.dialing",
  "job.scheduled",
  "job.retried",
  "job.restored",
  "call.started",
  "call.answered",
  "call.ended",
  "job.completed",
  "job.failed",
  "job.canceled",
  "job.opted_out",
  "job.pii_deleted",
  "inbound.rejected",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const ALL_EVENTS = "*";

export const isWebhookEventType = (s: string): s is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(s);

/** What a delivery's `data` is: the Job for job.* events, the Call for call.* and inbound.*. */
export function dataKindOf(eventType: string): "job" | "call" | null {
  if (eventType.startsWith("job.")) return "job";
  if (eventType.startsWith("call.") || eventType.startsWith("inbound.")) return "call";
  return null;
}

/** Whether a webhook subscribed to `events` receives `eventType`. */
export const subscribes = (events: readonly string[], eventType: string): boolean =>
  events.includes(ALL_EVENTS) || events.includes(eventType);
