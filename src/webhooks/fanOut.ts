import { createHash } from "node:crypto";
import { newId } from "../ids/index.ts";
import {
  activeWebhooksOf,
  advanceWebhookCursor,
  callRowsByIds,
  type Db,
  eventsAfterCursor,
  insertDeliveries,
  jobRowsByIds,
  lockWebhookCursor,
  type NewDelivery,
  type OutboxEvent,
  type Queryable,
  skipCursorWhenNoWebhooks,
  toCall,
  toJob,
} from "../store/index.ts";
import { dataKindOf, subscribes } from "./events.ts";

/**
 * The `webhook-id` of an (event, webhook) pair: derived from both, so it is the same on every
 * attempt, and the same if the pair were ever fanned out again.
 */
function messageIdOf(eventUuid: string, webhookId: string): string {
  return `msg_${createHash("sha256").update(`${eventUuid}/${webhookId}`).digest("hex").slice(0, 32)}`;
}

/** Delivery ids: time-ordered like every id (the log pages on them), with their own prefix. */
const newDeliveryId = (): string => newId("dlv");

/**
 * Reads the next events after the cursor and turns each into a delivery for every active webhook of
 * its organization that subscribes to it, with the body's data snapshotted now (the Job or the Call
 * as the API returns it). One transaction holds the cursor row: two workers never fan out the same
 * event, and the cursor moves exactly when the deliveries are written. Returns how many events it
 * read (0: nothing new, or another worker is fanning out).
 */
export async function fanOutOnce(db: Db, batch: number): Promise<{ events: number; deliveries: number }> {
  return db.tx(async (q) => {
    const cursor = await lockWebhookCursor(q);
    if (!cursor) return { events: 0, deliveries: 0 };
    if (!(await skipCursorWhenNoWebhooks(q))) return { events: 0, deliveries: 0 };
    const events = await eventsAfterCursor(q, cursor, batch);
    const last = events.at(-1);
    if (!last) return { events: 0, deliveries: 0 };
    const rows = await deliveriesOf(q, events);
    const deliveries = await insertDeliveries(q, rows);
    await advanceWebhookCursor(q, { tx_id: last.tx_id, seq: last.seq });
    return { events: events.length, deliveries };
  });
}

async function deliveriesOf(q: Queryable, events: readonly OutboxEvent[]): Promise<NewDelivery[]> {
  const webhooks = await activeWebhooksOf(q, [...new Set(events.map((e) => e.org_id))]);
  const pairs = events.flatMap((e) => {
    const kind = dataKindOf(e.event);
    if (kind === null) return [];
    return webhooks
      .filter((w) => w.org_id === e.org_id && subscribes(w.events, e.event) && w.created_at <= e.occurred_at)
      .map((w) => ({ e, w, kind }));
  });
  if (pairs.length === 0) return [];
  const jobIds = new Set<string>();
  const callIds = new Set<string>();
  for (const { e, kind } of pairs) {
    if (kind === "job" && e.job_id) jobIds.add(e.job_id);
    if (kind === "call" && e.call_id) callIds.add(e.call_id);
  }
  const jobs = new Map((await jobRowsByIds(q, [...jobIds])).map((r) => [r.id, JSON.stringify(toJob(r))]));
  const calls = new Map((await callRowsByIds(q, [...callIds])).map((r) => [r.id, JSON.stringify(toCall(r))]));
  return pairs.map(({ e, w, kind }) => {
    const id = kind === "job" ? e.job_id : e.call_id;
    const data = (id ? (kind === "job" ? jobs : calls).get(id) : undefined) ?? JSON.stringify({ Id: id });
    return {
      id: newDeliveryId(),
      org_id: e.org_id,
      webhook_id: w.id,
      event_seq: e.seq,
      event_type: e.event,
      event_at: e.occurred_at.toISOString(),
      message_id: messageIdOf(e.uuid, w.id),
      job_id: e.job_id,
      call_id: kind === "call" ? e.call_id : null,
      data,
    };
  });
}
