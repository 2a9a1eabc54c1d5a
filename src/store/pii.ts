import { statesFrom } from "../domain/jobStates.ts";
import type { Queryable } from "./db.ts";
import { scrubIdempotentResponses } from "./idempotency.ts";
import { scrubWebhookDeliveries } from "./webhooks.ts";

/**
 * Erases the PII of the given jobs (already canceled if they were live): the contact's fields, the
 * contact's side of each call and its transcript, and the PII in stored idempotent responses.
 * Metadata, failure reason, objective, timings and billing stay. Returns the ids it changed.
 */
export async function erasePii(
  q: Queryable,
  orgId: string,
  jobIds: readonly string[],
): Promise<Array<{ id: string; campaign_id: string; test_job: boolean; previous_state: string }>> {
  if (jobIds.length === 0) return [];
  // A webhook fan-out under way may have read these jobs before this erasure: it is waited for, so
  // that the scrub below sees the deliveries it writes; one that starts later waits for this
  // transaction (it skips a locked cursor) and reads the erased jobs.
  await q.query("select 1 from webhook_cursor for share");
  const r = await q.query<{ id: string; campaign_id: string; test_job: boolean; previous_state: string }>(
    `with prev as (
       select id, state from jobs where org_id = $1 and id = any($2::text[]) and state = any($3::text[])
       order by id for update
     )
     update jobs j set phone_number = null, contact_name = null, data = null, result = null, summary = null,
       conversation = '{}',
       state_before_deletion = case when prev.state = 'deleted' then j.state_before_deletion else prev.state end,
       state = 'deleted', next_call_at = null, updated_at = now(), ended_at = coalesce(j.ended_at, now())
     from prev where j.id = prev.id
     returning j.id, j.campaign_id, j.test_job, prev.state as previous_state`,
    [orgId, jobIds, statesFrom("delete_pii")],
  );
  const ids = r.rows.map((x) => x.id);
  await q.query(
    `update calls set
       to_number = case when direction = 'outbound' then null else to_number end,
       from_number = case when direction = 'inbound' then null else from_number end,
       transcript = '[]'
     where job_id = any($1::text[])`,
    [ids],
  );
  // Stored responses may echo the number, name and data: scrubbed, a replay still creates nothing.
  await scrubIdempotentResponses(q, orgId, ids);
  await scrubWebhookDeliveries(q, orgId, ids);
  return r.rows;
}
