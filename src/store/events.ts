import type { Queryable } from "./db.ts";

/** One product-analytics event; properties hold ids, states and reasons, never PII. */
export interface NewEvent {
  orgId: string;
  campaignId: string | null;
  jobId: string | null;
  callId?: string | null;
  event: string;
  testJob: boolean;
  properties?: Record<string, unknown>;
}

/** Writes events in the caller's transaction, so an event exists exactly when its change does. */
export async function insertEvents(q: Queryable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    org_id: e.orgId,
    campaign_id: e.campaignId,
    job_id: e.jobId,
    call_id: e.callId ?? null,
    event: e.event,
    test_job: e.testJob,
    properties: e.properties ?? {},
  }));
  await q.query(
    `insert into events (org_id, campaign_id, job_id, call_id, event, test_job, properties)
     select org_id, campaign_id, job_id, call_id, event, test_job, properties
     from jsonb_to_recordset($1::jsonb) as x(org_id text, campaign_id text, job_id text, call_id text,
       event text, test_job boolean, properties jsonb)`,
    [JSON.stringify(rows)],
  );
}
