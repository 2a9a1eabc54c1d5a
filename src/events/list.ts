import { type ErrorDetail, validationFailed } from "../errors/index.ts";
import type { Db } from "../store/db.ts";
import { type EventFilter, type EventRow, listEventRows } from "../store/index.ts";
import { type Ctx, type Page, toPage } from "../usecases/context.ts";
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from "../webhooks/events.ts";
import { decodeEventCursor, encodeEventCursor } from "./cursor.ts";
import { parseIsoTime } from "./time.ts";

/** An event as the API (and PostHog) shows it: the shape of a product-analytics event. */
export interface EventItem {
  uuid: string;
  event: string;
  /** ISO 8601 UTC with milliseconds. */
  timestamp: string;
  /** campaign_id, job_id, call_id (when set), test_job, then the stored properties: never PII. */
  properties: Record<string, unknown>;
}

const COLUMN_PROPERTIES = new Set(["campaign_id", "job_id", "call_id", "test_job"]);

export function toEventItem(r: EventRow): EventItem {
  const stored = r.properties ?? {};
  const callId = r.call_id ?? (typeof stored.call_id === "string" ? stored.call_id : null);
  const properties: Record<string, unknown> = {
    campaign_id: r.campaign_id,
    job_id: r.job_id,
    ...(callId ? { call_id: callId } : {}),
    // The column is the truth: every event of a test job says so.
    test_job: r.test_job,
  };
  for (const [k, v] of Object.entries(stored)) if (!COLUMN_PROPERTIES.has(k)) properties[k] = v;
  return { uuid: r.uuid, event: r.event, timestamp: r.occurred_at.toISOString(), properties };
}

export interface EventQuery {
  CampaignId?: string | undefined;
  JobId?: string | undefined;
  Event?: string | undefined;
  Since?: string | undefined;
}

export async function parseEventQuery(
  db: Db,
  q: EventQuery,
  cursor: string | null,
): Promise<{ filter: EventFilter; after: number | null }> {
  const out: ErrorDetail[] = [];
  const filter: EventFilter = {};
  if (q.CampaignId !== undefined) filter.campaignId = q.CampaignId;
  if (q.JobId !== undefined) filter.jobId = q.JobId;
  if (q.Event !== undefined) {
    // A misspelt name would match nothing and answer an empty list as if no such event happened.
    if (!isWebhookEventType(q.Event))
      out.push({ Path: "/Event", Message: `must be one event name: ${WEBHOOK_EVENT_TYPES.join(", ")}.` });
    else filter.event = q.Event;
  }
  const since = parseIsoTime(q.Since, "/Since", out);
  if (since) filter.since = since;
  const after = cursor === null ? null : await decodeEventCursor(db, cursor);
  if (cursor !== null && after === null)
    out.push({ Path: "/Cursor", Message: "is not a cursor this list returned: pass NextCursor as it is." });
  if (out.length > 0) throw validationFailed(out);
  return { filter, after };
}

/** The organization's events, oldest first, paged on their sequence number. */
export async function listEvents({
  ctx,
  query,
  cursor,
  limit,
}: {
  ctx: Ctx;
  query: EventQuery;
  cursor: string | null;
  limit: number;
}): Promise<Page<EventItem>> {
  const db = ctx.deps.db;
  const { filter, after } = await parseEventQuery(db, query, cursor);
  const rows = await listEventRows(db, ctx.orgId, filter, after, limit + 1);
  // The cursor is enciphered (asynchronously), so it is made before the page, for its last item.
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  const next = last ? await encodeEventCursor(db, last.seq) : "";
  return toPage(rows, limit, toEventItem, () => next);
}
