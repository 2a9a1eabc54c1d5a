import type { Queryable } from "./db.ts";

export interface TranscriptEntry {
  Role: "agent" | "contact";
  Text: string;
  At: string;
}

/** A call as the API shows it. */
export interface Call {
  Id: string;
  JobId: string | null;
  CampaignId: string;
  Direction: "outbound" | "inbound";
  From: string | null;
  To: string | null;
  Status: string;
  AnsweredBy: "human" | "voicemail" | "unknown" | null;
  StartedAt: string;
  AnsweredAt: string | null;
  EndedAt: string | null;
  DurationSeconds: number | null;
  BilledSeconds: number;
  EndReason: string | null;
  Transcript: TranscriptEntry[];
}

export interface CallRow {
  id: string;
  org_id: string;
  campaign_id: string;
  job_id: string | null;
  direction: "outbound" | "inbound";
  from_number: string | null;
  to_number: string | null;
  status: string;
  answered_by: Call["AnsweredBy"];
  attempt: number | null;
  test_job: boolean;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  billed_seconds: number;
  end_reason: string | null;
  transcript: TranscriptEntry[];
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toCall(r: CallRow): Call {
  return {
    Id: r.id,
    JobId: r.job_id,
    CampaignId: r.campaign_id,
    Direction: r.direction,
    From: r.from_number,
    To: r.to_number,
    Status: r.status,
    AnsweredBy: r.answered_by,
    StartedAt: r.started_at.toISOString(),
    AnsweredAt: iso(r.answered_at),
    EndedAt: iso(r.ended_at),
    DurationSeconds: r.duration_seconds,
    BilledSeconds: r.billed_seconds,
    EndReason: r.end_reason,
    Transcript: r.transcript,
  };
}

export async function listCallRowsOfJob(
  q: Queryable,
  orgId: string,
  jobId: string,
  after: string | null,
  limit: number,
): Promise<CallRow[]> {
  const r = await q.query<CallRow>(
    "select * from calls where org_id = $1 and job_id = $2 and ($3::text is null or id > $3) order by id limit $4",
    [orgId, jobId, after, limit],
  );
  return r.rows;
}

export async function getCallRow(q: Queryable, orgId: string, id: string): Promise<CallRow | null> {
  const r = await q.query<CallRow>("select * from calls where org_id = $1 and id = $2", [orgId, id]);
  return r.rows[0] ?? null;
}
