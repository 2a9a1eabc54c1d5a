import type { Db, Queryable } from "./db.ts";

/**
 * Campaign analytics from the counters that migration 0004 keeps with triggers: every write to jobs
 * or calls appends delta rows (analytics_job_deltas, analytics_call_deltas), and a campaign's figures
 * are their sums. Compaction folds a campaign's delta rows into one row per key.
 */

/** Non-test jobs of a campaign with one (effective state, failure reason, objective) key. */
export interface JobCountRow {
  /** The job's state, or for a deleted job the state it had before deletion. */
  state: string;
  failure_reason: string | null;
  objective_met: boolean | null;
  jobs: number;
}

/** Placed calls of a campaign's non-test jobs with one (attempt, local hour) key. */
export interface CallCountRow {
  /** Outbound calls: the attempt number; inbound calls: null. */
  attempt: number | null;
  /** The contact's local hour when the call started (0-23). */
  local_hour: number | null;
  calls: number;
  answered: number;
  connected: number;
  duration_seconds: number;
}

export interface CampaignCounts {
  jobs: JobCountRow[];
  calls: CallCountRow[];
  /** How many delta rows were summed: compaction is worth it when this grows. */
  deltaRows: number;
}

/**
 * Sums the campaign's delta rows, jobs and calls in one statement (one snapshot); null when the
 * organization has no such campaign.
 */
export async function readCampaignCounts(
  q: Queryable,
  orgId: string,
  campaignId: string,
): Promise<CampaignCounts | null> {
  const r = await q.query<{ jobs: JobCountRow[]; calls: CallCountRow[]; rows: number }>(
    `with j as (
       select state, failure_reason, objective_met, sum(jobs)::float8 as jobs, count(*) as n
       from analytics_job_deltas where campaign_id = $1
       group by 1, 2, 3
     ),
     c as (
       select attempt, local_hour, sum(calls)::float8 as calls, sum(answered)::float8 as answered,
         sum(connected)::float8 as connected, sum(duration_seconds)::float8 as duration_seconds, count(*) as n
       from analytics_call_deltas where campaign_id = $1
       group by 1, 2
     )
     select
       (select coalesce(json_agg(json_build_object('state', state, 'failure_reason', failure_reason,
          'objective_met', objective_met, 'jobs', jobs)), '[]') from j where jobs <> 0) as jobs,
       (select coalesce(json_agg(json_build_object('attempt', attempt, 'local_hour', local_hour, 'calls', calls,
          'answered', answered, 'connected', connected, 'duration_seconds', duration_seconds)), '[]')
        from c where calls <> 0 or answered <> 0 or connected <> 0 or duration_seconds <> 0) as calls,
       ((select coalesce(sum(n), 0) from j) + (select coalesce(sum(n), 0) from c))::int as rows
     from campaigns where id = $1 and org_id = $2`,
    [campaignId, orgId],
  );
  const row = r.rows[0];
  if (!row) return null;
  return { jobs: row.jobs, calls: row.calls, deltaRows: row.rows };
}

/**
 * The same figures computed from the jobs and calls tables themselves (a full scan of the campaign):
 * what the counters must always equal. For tests and for checking a database by hand.
 */
export async function countCampaignDirectly(q: Queryable, campaignId: string): Promise<CampaignCounts> {
  const jobs = await q.query<JobCountRow>(
    `select case when state = 'deleted' then coalesce(state_before_deletion, state) else state end as state,
       failure_reason, objective_met, count(*)::float8 as jobs
     from jobs where campaign_id = $1 and not test_job
     group by 1, 2, 3`,
    [campaignId],
  );
  const calls = await q.query<CallCountRow>(
    `select case when direction = 'outbound' then attempt end as attempt, local_hour, count(*)::float8 as calls,
       count(*) filter (where answered_by = 'human')::float8 as answered,
       count(*) filter (where answered_at is not null and duration_seconds is not null)::float8 as connected,
       coalesce(sum(duration_seconds) filter (where answered_at is not null), 0)::float8 as duration_seconds
     from calls
     where campaign_id = $1 and not test_job
       and ((direction = 'outbound' and dialed_at is not null) or (direction = 'inbound' and job_id is not null))
     group by 1, 2`,
    [campaignId],
  );
  return { jobs: jobs.rows, calls: calls.rows, deltaRows: 0 };
}

// pg_try_advisory_xact_lock(class, hashtext(campaign_id)): one compaction per campaign at a time.
const COMPACTION_LOCK_CLASS = 72_420_264;

/**
 * Replaces the campaign's delta rows by one row per key (keys that sum to zero vanish), each table in
 * one statement: a reader sees either the old rows or the new ones, and rows that writers commit
 * meanwhile are not touched. Returns false when another compaction of the campaign holds the lock.
 */
export async function compactCampaignCounts(db: Db, campaignId: string): Promise<boolean> {
  return db.tx(async (q) => {
    const lock = await q.query<{ ok: boolean }>("select pg_try_advisory_xact_lock($1, hashtext($2)) as ok", [
      COMPACTION_LOCK_CLASS,
      campaignId,
    ]);
    if (!lock.rows[0]?.ok) return false;
    await q.query(
      `with gone as (delete from analytics_job_deltas where campaign_id = $1 returning *)
       insert into analytics_job_deltas (campaign_id, state, failure_reason, objective_met, jobs)
       select campaign_id, state, failure_reason, objective_met, sum(jobs)
       from gone group by 1, 2, 3, 4
       having sum(jobs) <> 0`,
      [campaignId],
    );
    await q.query(
      `with gone as (delete from analytics_call_deltas where campaign_id = $1 returning *)
       insert into analytics_call_deltas (campaign_id, attempt, local_hour, calls, answered, connected, duration_seconds)
       select campaign_id, attempt, local_hour, sum(calls), sum(answered), sum(connected), sum(duration_seconds)
       from gone group by 1, 2, 3
       having sum(calls) <> 0 or sum(answered) <> 0 or sum(connected) <> 0 or sum(duration_seconds) <> 0`,
      [campaignId],
    );
    return true;
  });
}

/** Campaigns with more than `minRows` delta rows (jobs and calls together), most first. */
export async function campaignsToCompact(q: Queryable, minRows: number, limit: number): Promise<string[]> {
  const r = await q.query<{ campaign_id: string }>(
    `select campaign_id from (
       select campaign_id from analytics_job_deltas
       union all
       select campaign_id from analytics_call_deltas
     ) d
     group by campaign_id having count(*) > $1
     order by count(*) desc limit $2`,
    [minRows, limit],
  );
  return r.rows.map((x) => x.campaign_id);
}
