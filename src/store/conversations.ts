import type { TranscriptEntry } from "./calls.ts";
import type { Campaign } from "./campaigns.ts";
import { toCampaign } from "./campaigns.ts";
import type { Queryable } from "./db.ts";

/**
 * Appends transcript entries to live calls (fenced; nothing is kept for a job whose PII was deleted).
 * Its live-state tests are written coalesce(<test>, false): see store/dispatch/dial.ts.
 */
export async function appendTranscripts(
  q: Queryable,
  batch: ReadonlyArray<{ call_id: string; fence: number; entries: TranscriptEntry[] }>,
): Promise<void> {
  if (batch.length === 0) return;
  await q.query(
    `update calls c set transcript = c.transcript || x.entries
     from jsonb_to_recordset($1::jsonb) as x(call_id text, fence bigint, entries jsonb), jobs j
     where c.id = x.call_id and c.fence = x.fence and coalesce(c.ended_at is null, false) and j.id = c.job_id and j.state <> 'deleted'`,
    [JSON.stringify(batch)],
  );
}

/** What a conversation needs to know about its job. */
export interface JobContext {
  id: string;
  org_id: string;
  phone_number: string | null;
  contact_name: string | null;
  metadata: Record<string, unknown>;
  data: Record<string, unknown> | null;
  time_zone: string | null;
  test_job: boolean;
  hangup_opt_out: boolean | null;
  attempts: number;
  attempts_base: number;
  callbacks: number;
  result: Record<string, unknown> | null;
  conversation: { answers?: Record<string, unknown>; answeredNodes?: Record<string, string> };
  state: string;
  campaign: Campaign;
  /** The version of the campaign's windows read with it (campaigns.schedule_version). */
  schedule_version: number;
}

export async function loadJobContext(q: Queryable, jobId: string): Promise<JobContext | null> {
  const r = await q.query<Omit<JobContext, "campaign"> & { c: Parameters<typeof toCampaign>[0] }>(
    `select j.id, j.org_id, j.phone_number, j.contact_name, j.metadata, j.data, j.time_zone, j.test_job,
       j.hangup_opt_out, j.attempts, j.attempts_base, j.callbacks, j.result, j.conversation, j.state,
       c.schedule_version, row_to_json(c) as c
     from jobs j join campaigns c on c.id = j.campaign_id where j.id = $1`,
    [jobId],
  );
  const row = r.rows[0];
  if (!row) return null;
  const { c, ...job } = row;
  // row_to_json gives times as strings: make them Dates as the campaign mapper expects.
  const campaign = toCampaign({
    ...c,
    created_at: new Date(c.created_at),
    updated_at: new Date(c.updated_at),
  });
  return { ...job, campaign };
}

/** The transcripts of a job's calls, oldest first (the analysis reads them all). */
export async function jobTranscripts(
  q: Queryable,
  jobId: string,
): Promise<Array<{ id: string; transcript: TranscriptEntry[] }>> {
  const r = await q.query<{ id: string; transcript: TranscriptEntry[] }>(
    "select id, transcript from calls where job_id = $1 and jsonb_array_length(transcript) > 0 order by id",
    [jobId],
  );
  return r.rows;
}
