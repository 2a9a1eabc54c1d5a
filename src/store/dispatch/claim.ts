import type { CampaignStatus, Schedule } from "../../domain/campaign.ts";
import type { Queryable } from "../db.ts";

/** A due job locked by a claim, with what the claim must check about it. */
export interface DueJob {
  id: string;
  org_id: string;
  campaign_id: string;
  phone_number: string;
  time_zone: string | null;
  test_job: boolean;
  attempts: number;
  attempts_base: number;
  callback_due: boolean;
  fence: number;
  next_call_at: Date;
  /** The number is on the organization's opt-out list. */
  opted_out: boolean;
  /** The campaign's schedule and caller ID, filled in from the campaign once per claim. */
  schedule: Schedule;
  /** The version of the schedule's windows (campaigns.schedule_version) read with it. */
  schedule_version: number;
  caller_id: string | null;
  /** The zones of the contact's local time (jobZones), worked out once: the window check and the dial's local hour. */
  zones: string[];
}

export type DueRow = Omit<DueJob, "schedule" | "schedule_version" | "caller_id" | "zones"> & { now: Date };

/**
 * Locks up to `limit` due pending jobs that no other worker holds (SKIP LOCKED), oldest due first,
 * of active campaigns (test jobs whatever the campaign's status, archived aside), with the database
 * time and whether each number is opted out.
 */
export async function lockDueJobs(
  q: Queryable,
  limit: number,
  orgMaxConcurrentCalls: number,
): Promise<{ now: Date; jobs: DueRow[] }> {
  // Campaigns and organizations already at their limit are left out here (the locked check after
  // stays exact), so that their backlog never blocks the due jobs of others. The campaigns that may
  // dial are found first, and the due jobs are then read from the due index alone, in due order, so
  // that a claim reads about as many jobs as it takes: joined to anything, the planner may prefer to
  // sort the whole due backlog (a sort under FOR UPDATE cannot stop at the limit), which costs every
  // claim the size of the backlog.
  const r = await q.query<DueRow>(
    `with live_campaign as (select campaign_id, sum(n)::int as n from live_calls group by campaign_id),
     live_org as (select org_id, sum(n)::int as n from live_calls group by org_id),
     open as materialized (
       select c.id, c.status
       from campaigns c
       left join live_campaign lc on lc.campaign_id = c.id
       left join live_org lo on lo.org_id = c.org_id
       where c.status in ('active', 'paused')
         and coalesce(lc.n, 0) < c.max_concurrent_calls and coalesce(lo.n, 0) < $2
     ),
     due as materialized (
       select j.id, j.org_id, j.campaign_id, j.phone_number, j.time_zone, j.test_job, j.attempts,
         j.attempts_base, j.callback_due, j.fence, j.next_call_at
       from jobs j
       -- a job retried while the call it was canceled on is still ending waits for that call's close
       where j.state = 'pending' and j.next_call_at <= now() and j.live_call_id is null
         and (j.campaign_id = any (array(select id from open where status = 'active'))
           or (j.test_job and j.campaign_id = any (array(select id from open where status = 'paused'))))
       order by j.next_call_at
       limit $1
       for update of j skip locked
     )
     select d.*, now() as now,
       exists (select 1 from opt_outs o where o.org_id = d.org_id and o.phone_number = d.phone_number) as opted_out
     from due d
     order by d.next_call_at`,
    [limit, orgMaxConcurrentCalls],
  );
  return { now: r.rows[0]?.now ?? new Date(0), jobs: r.rows };
}

export interface ClaimedCampaign {
  id: string;
  org_id: string;
  status: CampaignStatus;
  schedule: Schedule;
  schedule_version: number;
  caller_id: string | null;
  live: number;
}

/** The campaigns of a claim and the live calls of each and of its organization. */
export interface LiveCounts {
  /** Live calls by organization. */
  org: Map<string, number>;
  campaigns: Map<string, ClaimedCampaign>;
}

/**
 * The campaigns of a claim (schedule, caller ID) with their and their organizations' live calls, as
 * committed now, this transaction's own calls included. Without the locks lockLiveCounts takes, the
 * counts are a hint: another claim may commit calls right after.
 */
export async function readCampaigns(q: Queryable, campaignIds: readonly string[]): Promise<LiveCounts> {
  const r = await q.query<ClaimedCampaign & { org_live: number }>(
    `select c.id, c.org_id, c.status, c.schedule, c.schedule_version, c.phone_numbers[1] as caller_id,
       (select coalesce(sum(n), 0)::int from live_calls l where l.org_id = c.org_id and l.campaign_id = c.id) as live,
       (select coalesce(sum(n), 0)::int from live_calls l where l.org_id = c.org_id) as org_live
     from campaigns c where c.id = any($1::text[])`,
    [campaignIds],
  );
  return {
    org: new Map(r.rows.map((x) => [x.org_id, x.org_live])),
    campaigns: new Map(
      r.rows.map((x) => [
        x.id,
        {
          id: x.id,
          org_id: x.org_id,
          status: x.status,
          schedule: x.schedule,
          schedule_version: x.schedule_version,
          caller_id: x.caller_id,
          live: x.live,
        },
      ]),
    ),
  };
}

/**
 * Locks the organizations and campaigns of a claim (FOR NO KEY UPDATE, which foreign-key inserts do
 * not wait for), always in one order (each organization, then its campaigns, by id) so that claims
 * never deadlock; then reads their live calls, this transaction's own calls included. Holding these
 * locks makes the concurrency check exact: no other claim of the same campaign or organization can
 * commit in between. The count is a second statement so that it sees what a claim we waited for
 * committed.
 */
export async function lockLiveCounts(q: Queryable, campaignIds: readonly string[]): Promise<LiveCounts> {
  await q.query(
    `select o.id, c.id from campaigns c join organizations o on o.id = c.org_id
     where c.id = any($1::text[]) order by o.id, c.id for no key update of o, c`,
    [campaignIds],
  );
  return readCampaigns(q, campaignIds);
}

export interface Claim {
  job: DueJob;
  callId: string;
  /** Database time of the claim: the Call's StartedAt, from which simulated times count. */
  claimedAt: Date;
  /** The fencing token the claim gives the job (takeJobs bumps it): every later write carries it. */
  fence: number;
}

/**
 * Takes the claimed jobs: in_progress, a new fencing token, the worker's lease, the attempt counted
 * (a claim that ends up not dialed gives it back), and the attempt's Call row (queued) written before
 * anything is dialed.
 */
export async function takeJobs(
  q: Queryable,
  workerId: string,
  leaseSeconds: number,
  claims: readonly Claim[],
): Promise<void> {
  if (claims.length === 0) return;
  const rows = claims.map((c) => ({ id: c.job.id, call_id: c.callId }));
  await q.query(
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(id text, call_id text)),
     taken as (
       update jobs j set state = 'in_progress', fence = j.fence + 1, attempts = j.attempts + 1, lease_owner = $2,
         lease_expires_at = clock_timestamp() + make_interval(secs => $3), live_call_id = x.call_id,
         next_call_at = null, updated_at = now()
       from x where j.id = x.id
       returning j.id, j.org_id, j.campaign_id, j.phone_number, j.test_job, j.fence, j.attempts, x.call_id
     ),
     calls_made as (
       insert into calls (id, org_id, campaign_id, job_id, direction, from_number, to_number, status, attempt,
         test_job, fence, started_at)
       select t.call_id, t.org_id, t.campaign_id, t.id, 'outbound', c.phone_numbers[1], t.phone_number, 'queued',
         t.attempts, t.test_job, t.fence, now()
       from taken t join campaigns c on c.id = t.campaign_id
       returning 1
     )
     insert into events (org_id, campaign_id, job_id, event, test_job, properties)
     select org_id, campaign_id, id, 'job.dialing', test_job,
       jsonb_build_object('state', 'in_progress', 'from_state', 'pending', 'call_id', call_id)
     from taken`,
    [JSON.stringify(rows), workerId, leaseSeconds],
  );
}

/**
 * Sets jobs' next call time (their window's next opening; null when it never opens), worked out
 * with version `version` of their campaign's windows. If they changed since, the time is not written:
 * the change reschedules every waiting job after it commits, and this job has either been done by it
 * already (its time must stay) or will be. A job still due (a claim's) is then looked at again by
 * the next claim. Made due now instead, a job waiting for a retry or a call-back in the future would
 * be dialed at once: the claim checks the windows, not when the job is due. A job of a campaign
 * archived since waits with none (archiving's own rescheduling may have passed it already).
 */
export async function rescheduleJobs(
  q: Queryable,
  items: ReadonlyArray<{ id: string; at: Date | null; version: number }>,
): Promise<void> {
  if (items.length === 0) return;
  await q.query(
    `update jobs j set next_call_at = case when c.status = 'archived' then null
         when c.schedule_version = x.version then x.at else j.next_call_at end,
       updated_at = now()
     from jsonb_to_recordset($1::jsonb) as x(id text, at timestamptz, version integer), campaigns c
     where j.id = x.id and c.id = j.campaign_id`,
    [JSON.stringify(items)],
  );
}

/** Ends jobs the claim found it must not dial (opted out, no attempt left), with their events. */
export async function failDueJobs(
  q: Queryable,
  items: ReadonlyArray<{ id: string; reason: string; message: string }>,
): Promise<void> {
  if (items.length === 0) return;
  await q.query(
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(id text, reason text, message text)),
     f as (
       update jobs j set state = 'failed', failure_reason = x.reason, failure_message = x.message,
         next_call_at = null, ended_at = now(), updated_at = now()
       from x where j.id = x.id
       returning j.id, j.org_id, j.campaign_id, j.test_job, j.failure_reason
     ),
     opted as (
       insert into events (org_id, campaign_id, job_id, event, test_job, properties)
       select org_id, campaign_id, id, 'job.opted_out', test_job, jsonb_build_object('state', 'failed', 'failure_reason', failure_reason)
       from f where failure_reason = 'opted_out' returning 1
     )
     insert into events (org_id, campaign_id, job_id, event, test_job, properties)
     select org_id, campaign_id, id, 'job.failed', test_job,
       jsonb_build_object('state', 'failed', 'from_state', 'pending', 'failure_reason', failure_reason)
     from f`,
    [JSON.stringify(items)],
  );
}
