import type { JobState } from "../domain/jobStates.ts";
import type { Queryable } from "./db.ts";
import { insertEvents, type NewEvent } from "./events.ts";
import { type JobRow, jobEventProps } from "./jobRows.ts";

/** A validated job ready to insert, with its id and first dial time computed by the use case. */
export interface NewJobRow {
  id: string;
  phone_number: string;
  external_id: string | null;
  contact_name: string | null;
  metadata: Record<string, unknown>;
  data: Record<string, unknown> | null;
  test_job: boolean;
  hangup_opt_out: boolean | null;
  time_zone: string | null;
  next_call_at: string | null;
}

/**
 * Inserts jobs and their events in the caller's transaction. A job whose number is on the
 * organization's opt-out list is created failed/opted_out at once. Rows whose ExternalId is already
 * taken in the campaign are skipped: the caller finds them missing from the result (409 per row).
 */
export async function insertJobs(
  q: Queryable,
  orgId: string,
  campaignId: string,
  rows: readonly NewJobRow[],
): Promise<JobRow[]> {
  if (rows.length === 0) return [];
  const r = await q.query<JobRow>(
    `with input as (
       select * from jsonb_to_recordset($1::jsonb) as x(id text, phone_number text, external_id text,
         contact_name text, metadata jsonb, data jsonb, test_job boolean, hangup_opt_out boolean,
         time_zone text, next_call_at timestamptz)
     )
     insert into jobs (id, org_id, campaign_id, phone_number, external_id, contact_name, metadata, data,
       test_job, hangup_opt_out, time_zone, state, failure_reason, failure_message, next_call_at, ended_at)
     select i.id, $2, $3, i.phone_number, i.external_id, i.contact_name, coalesce(i.metadata, '{}'), i.data,
       i.test_job, i.hangup_opt_out, i.time_zone,
       case when o.phone_number is null then 'pending' else 'failed' end,
       case when o.phone_number is null then null else 'opted_out' end,
       case when o.phone_number is null then null else 'The number is on the opt-out list.' end,
       case when o.phone_number is null then i.next_call_at end,
       case when o.phone_number is null then null else now() end
     from input i left join opt_outs o on o.org_id = $2 and o.phone_number = i.phone_number
     order by i.id
     on conflict (campaign_id, external_id) where external_id is not null do nothing
     returning *`,
    [JSON.stringify(rows), orgId, campaignId],
  );
  const events: NewEvent[] = [];
  for (const j of r.rows) {
    const base = { orgId, campaignId, jobId: j.id, testJob: j.test_job };
    events.push({ ...base, event: "job.created", properties: { state: "pending" } });
    if (j.state === "failed") {
      events.push({ ...base, event: "job.opted_out", properties: jobEventProps(j) });
      events.push({ ...base, event: "job.failed", properties: jobEventProps(j) });
    }
  }
  await insertEvents(q, events);
  // Wakes idle dispatcher workers when this transaction commits.
  await q.query("select pg_notify('cobbery_due', '')");
  return r.rows;
}

export async function getJobRow(
  q: Queryable,
  orgId: string,
  id: string,
  forUpdate = false,
): Promise<JobRow | null> {
  const r = await q.query<JobRow>(
    `select * from jobs where id = $1 and org_id = $2${forUpdate ? " for update" : ""}`,
    [id, orgId],
  );
  return r.rows[0] ?? null;
}

export interface JobFilter {
  CampaignId?: string | undefined;
  State?: JobState | undefined;
  PhoneNumber?: string | undefined;
  ExternalId?: string | undefined;
  TestJob?: boolean | undefined;
  UpdatedSince?: string | undefined;
}

export async function listJobRows(
  q: Queryable,
  orgId: string,
  f: JobFilter,
  after: string | null,
  limit: number,
): Promise<JobRow[]> {
  const r = await q.query<JobRow>(
    `select * from jobs where org_id = $1
       and ($2::text is null or id > $2)
       and ($3::text is null or campaign_id = $3)
       and ($4::text is null or state = $4)
       and ($5::text is null or phone_number = $5)
       and ($6::text is null or external_id = $6)
       and ($7::boolean is null or test_job = $7)
       and ($8::timestamptz is null or updated_at >= $8)
     order by id limit $9`,
    [
      orgId,
      after,
      f.CampaignId ?? null,
      f.State ?? null,
      f.PhoneNumber ?? null,
      f.ExternalId ?? null,
      f.TestJob ?? null,
      f.UpdatedSince ?? null,
      limit,
    ],
  );
  return r.rows;
}

/** A column value meaning "the database's now()": times are the database's, not the process's. */
export const DB_NOW = Symbol("now()");

/** Sets the given columns (from code, never from input) and updated_at; returns the new row. */
export async function updateJobRow(
  q: Queryable,
  id: string,
  set: Partial<Record<keyof JobRow, unknown>>,
): Promise<JobRow> {
  const jsonCols = new Set(["metadata", "data", "result"]);
  const assignments: string[] = [];
  const params: unknown[] = [];
  for (const [c, v] of Object.entries(set)) {
    if (v === DB_NOW) {
      assignments.push(`${c} = now()`);
      continue;
    }
    params.push(jsonCols.has(c) && v !== null ? JSON.stringify(v) : v);
    assignments.push(`${c} = $${params.length + 1}${jsonCols.has(c) ? "::jsonb" : ""}`);
  }
  const r = await q.query<JobRow>(
    `update jobs set ${[...assignments, "updated_at = now()"].join(", ")} where id = $1 returning *`,
    [id, ...params],
  );
  return r.rows[0]!;
}

/** Asks the worker holding each of these live calls to end it, once this transaction commits. */
export async function notifyHangups(q: Queryable, callIds: ReadonlyArray<string | null>): Promise<void> {
  const ids = callIds.filter((c): c is string => c !== null);
  if (ids.length === 0) return;
  await q.query("select pg_notify('cobbery_hangup', id) from unnest($1::text[]) as id", [ids]);
}
