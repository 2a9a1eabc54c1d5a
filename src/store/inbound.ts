import type { Campaign } from "./campaigns.ts";
import { toCampaign } from "./campaigns.ts";
import type { Queryable } from "./db.ts";
import { insertEvents } from "./events.ts";

/**
 * The campaign that owns a number, if it is the organization's; else the organization's latest
 * archived campaign that had it (archiving releases a number, and such a campaign rejects calls).
 */
export async function campaignOwningNumber(
  q: Queryable,
  orgId: string,
  phone: string,
): Promise<Campaign | null> {
  const r = await q.query<Parameters<typeof toCampaign>[0]>(
    `(select c.* from campaign_numbers n join campaigns c on c.id = n.campaign_id
      where n.phone_number = $1 and c.org_id = $2)
     union all
     (select c.* from campaigns c where c.org_id = $2 and c.status = 'archived' and $1 = any(c.phone_numbers)
      order by c.updated_at desc limit 1)
     limit 1`,
    [phone, orgId],
  );
  return r.rows[0] ? toCampaign(r.rows[0]) : null;
}

/**
 * The job an inbound call resumes: among the campaign's jobs with the caller's number in the given
 * states and not on a live call, the latest updated (then the highest id). Locked for the caller.
 * A matching job another transaction holds for a moment (a claim that leaves it waiting, a PATCH)
 * is waited for, not skipped: skipped, it would reject the caller or create a second job. Once the
 * lock is released the row is checked again, and the next match is taken if it no longer qualifies
 * (a claim took it for a call).
 */
export async function findInboundJob(
  q: Queryable,
  campaignId: string,
  phone: string,
  states: readonly string[],
): Promise<{ id: string; test_job: boolean } | null> {
  const r = await q.query<{ id: string; test_job: boolean }>(
    `select id, test_job from jobs
     where campaign_id = $1 and phone_number = $2 and state = any($3::text[]) and live_call_id is null
     order by updated_at desc, id desc limit 1 for update`,
    [campaignId, phone, states],
  );
  return r.rows[0] ?? null;
}

/**
 * An accepted inbound call takes the job: in_progress (remembering the state it had), a new fencing
 * token and a lease held by this process, and the connected Call row.
 */
export async function resumeForInbound(
  q: Queryable,
  a: {
    jobId: string;
    callId: string;
    owner: string;
    leaseSeconds: number;
    from: string;
    to: string;
    /** The contact's local hour at the answer (analytics), from its zone info and the database time. */
    localHour: (job: { time_zone: string | null; phone_number: string | null }, at: Date) => number;
  },
): Promise<{ fence: number; answeredAt: Date }> {
  const r = await q.query<{
    fence: number;
    org_id: string;
    campaign_id: string;
    test_job: boolean;
    resumed_from: string;
    time_zone: string | null;
    phone_number: string | null;
    now: Date;
  }>(
    `update jobs set resumed_from = state, state = 'in_progress', fence = fence + 1, lease_owner = $2,
       lease_expires_at = now() + make_interval(secs => $3), live_call_id = $4, updated_at = now()
     where id = $1
     returning fence, org_id, campaign_id, test_job, resumed_from, time_zone, phone_number, now() as now`,
    [a.jobId, a.owner, a.leaseSeconds, a.callId],
  );
  const j = r.rows[0]!;
  await q.query(
    `insert into calls (id, org_id, campaign_id, job_id, direction, from_number, to_number, status, answered_by,
       test_job, fence, started_at, answered_at, local_hour)
     values ($1, $2, $3, $4, 'inbound', $5, $6, 'in_progress', 'human', $7, $8, now(), now(), $9)`,
    [a.callId, j.org_id, j.campaign_id, a.jobId, a.from, a.to, j.test_job, j.fence, a.localHour(j, j.now)],
  );
  const base = {
    orgId: j.org_id,
    campaignId: j.campaign_id,
    jobId: a.jobId,
    callId: a.callId,
    testJob: j.test_job,
  };
  await insertEvents(q, [
    { ...base, event: "job.resumed", properties: { state: "in_progress", from_state: j.resumed_from } },
    { ...base, event: "call.started", properties: { direction: "inbound" } },
    { ...base, event: "call.answered", properties: { direction: "inbound", answered_by: "human" } },
  ]);
  return { fence: j.fence, answeredAt: j.now };
}

/** A refused inbound call: recorded with no job, billed nothing. */
export async function recordRejectedInbound(
  q: Queryable,
  a: { callId: string; orgId: string; campaignId: string; from: string; to: string; message: string },
): Promise<void> {
  await q.query(
    `insert into calls (id, org_id, campaign_id, job_id, direction, from_number, to_number, status, started_at,
       ended_at, duration_seconds, billed_seconds, end_reason, transcript)
     values ($1, $2, $3, null, 'inbound', $4, $5, 'rejected', now(), now(), 0, 0, 'rejected',
       jsonb_build_array(jsonb_build_object('Role', 'agent', 'Text', $6::text, 'At', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))))`,
    [a.callId, a.orgId, a.campaignId, a.from, a.to, a.message],
  );
  await insertEvents(q, [
    {
      orgId: a.orgId,
      campaignId: a.campaignId,
      jobId: null,
      callId: a.callId,
      event: "inbound.rejected",
      testJob: false,
      properties: { direction: "inbound" },
    },
  ]);
}
