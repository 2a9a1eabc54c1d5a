import type { CampaignStatus } from "../../domain/campaign.ts";
import type { Queryable } from "../db.ts";

/*
 * Live-state tests on a batch's rows are written coalesce(<test>, false): the planner cannot
 * estimate that expression from the column's statistics. Those statistics may date from when no job
 * was in progress and no call live (after an import, or with autovacuum off), and then say one row
 * passes; the planner would scan the table once and compare it with every row of the batch (a
 * nested loop whose inner side is the whole batch), quadratic in the batch. Unestimated, the test
 * leaves the plan a primary-key lookup per batch row, or a hash join on a small table.
 */

export interface ClaimedCall {
  jobId: string;
  callId: string;
  fence: number;
}

/**
 * Locks the claimed jobs again just before dialing and returns those still ours (in_progress, same
 * fencing token, same call), with their campaign's status now. A cancel or an opt-out committed
 * since the claim has changed the job's state, and one running now holds the row: we wait for it
 * and then see its result. The campaigns are key-share-locked: a change of status (pause, archive)
 * locks the campaign FOR UPDATE, so it waits for this transaction and then sees its calls, or
 * commits first and is seen here. Holding these locks while the carrier takes the calls means no
 * call starts after such a change commits. KEY SHARE, not SHARE: a claim's FOR NO KEY UPDATE of
 * the campaigns (lockLiveCounts) does not wait for it, so the two cannot deadlock whatever order
 * their rows come in. `now` is the database's clock once the locks are held (null when none is ours):
 * the dial's time, from which a call that ends at once is retried.
 */
export async function lockForDial(
  q: Queryable,
  calls: readonly ClaimedCall[],
): Promise<{ ours: Map<string, CampaignStatus>; now: Date | null }> {
  if (calls.length === 0) return { ours: new Map(), now: null };
  const r = await q.query<{ call_id: string; status: CampaignStatus; now: Date }>(
    `select x.call_id, c.status, clock_timestamp() as now from jobs j
     join jsonb_to_recordset($1::jsonb) as x(job_id text, call_id text, fence bigint) on j.id = x.job_id
     join campaigns c on c.id = j.campaign_id
     where j.fence = x.fence and coalesce(j.state = 'in_progress', false) and j.live_call_id = x.call_id
     order by j.id
     for update of j for key share of c`,
    [JSON.stringify(calls.map((c) => ({ job_id: c.jobId, call_id: c.callId, fence: c.fence })))],
  );
  return { ours: new Map(r.rows.map((x) => [x.call_id, x.status])), now: r.rows[0]?.now ?? null };
}

/**
 * Marks that the dial of these calls begins, committed before a carrier outside the database takes
 * them: from then on each may have been dialed (the reaper counts its attempt and never dials it
 * again). With `begins` false, takes the mark back from calls the carrier was never given (fenced).
 */
export async function markDialStarted(
  q: Queryable,
  calls: readonly ClaimedCall[],
  begins = true,
): Promise<void> {
  if (calls.length === 0) return;
  await q.query(
    `update calls set dial_started_at = case when $2 then clock_timestamp() end
     from jsonb_to_recordset($1::jsonb) as x(call_id text, fence bigint)
     where calls.id = x.call_id and calls.fence = x.fence and coalesce(calls.ended_at is null, false)`,
    [JSON.stringify(calls.map((c) => ({ call_id: c.callId, fence: c.fence }))), begins],
  );
}

/**
 * Extends the leases of jobs whose calls a carrier has just taken, in the dial's transaction. Their
 * rows were locked while the carrier worked, so the worker's renewals (SKIP LOCKED) passed them by:
 * a carrier slower than the lease would otherwise leave them to the reaper as soon as this commits.
 */
export async function extendDialLeases(
  q: Queryable,
  calls: readonly ClaimedCall[],
  leaseSeconds: number,
): Promise<void> {
  if (calls.length === 0) return;
  await q.query(
    `update jobs set lease_expires_at = clock_timestamp() + make_interval(secs => $2)
     from jsonb_to_recordset($1::jsonb) as x(job_id text, fence bigint)
     where jobs.id = x.job_id and jobs.fence = x.fence`,
    [JSON.stringify(calls.map((c) => ({ job_id: c.jobId, fence: c.fence }))), leaseSeconds],
  );
}

/** Records that the carrier took these calls (the claim counted their attempts), with call.started. */
export async function markDialed(
  q: Queryable,
  dialed: ReadonlyArray<ClaimedCall & { carrierCallId: string; localHour: number }>,
): Promise<void> {
  if (dialed.length === 0) return;
  // local_hour (the contact's hour, for analytics) is given here, which spares the row trigger that
  // would otherwise look it up per call.
  await q.query(
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(job_id text, call_id text, fence bigint, carrier_call_id text, local_hour smallint)),
     c as (
       update calls set status = 'ringing', dialed_at = coalesce(calls.dial_started_at, clock_timestamp()),
         carrier_call_id = x.carrier_call_id,
         local_hour = x.local_hour
       from x where calls.id = x.call_id and calls.fence = x.fence and coalesce(calls.ended_at is null, false)
       returning calls.id, calls.org_id, calls.campaign_id, calls.job_id, calls.test_job, calls.attempt
     )
     insert into events (org_id, campaign_id, job_id, call_id, event, test_job, properties)
     select org_id, campaign_id, job_id, id, 'call.started', test_job,
       jsonb_build_object('direction', 'outbound', 'attempt', attempt)
     from c`,
    [
      JSON.stringify(
        dialed.map((d) => ({
          job_id: d.jobId,
          call_id: d.callId,
          fence: d.fence,
          carrier_call_id: d.carrierCallId,
          local_hour: d.localHour,
        })),
      ),
    ],
  );
}

/**
 * Closes the Call rows of claims that were not dialed because the job stopped being ours, and
 * releases the lease of jobs that are still ours but ended meanwhile (canceled, opted out), giving
 * back the attempt their claim counted. A retry since (cancel, then retry) counted it in the
 * attempts it started from: they lose it too, else the retry would allow one attempt more.
 */
export async function abandonCalls(q: Queryable, calls: readonly ClaimedCall[]): Promise<void> {
  if (calls.length === 0) return;
  await q.query(
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(job_id text, call_id text, fence bigint)),
     c as (
       update calls set status = 'canceled', end_reason = 'canceled', ended_at = now(), duration_seconds = 0
       from x where calls.id = x.call_id and calls.fence = x.fence and coalesce(calls.ended_at is null, false) returning 1
     )
     update jobs set lease_owner = null, lease_expires_at = null, live_call_id = null, attempts = attempts - 1,
       attempts_base = least(attempts_base, attempts - 1)
     from x where jobs.id = x.job_id and jobs.fence = x.fence`,
    [JSON.stringify(calls.map((c) => ({ job_id: c.jobId, call_id: c.callId, fence: c.fence })))],
  );
}

/** An outbound call was answered: the call is in progress (fenced) and call.answered is written. */
export async function markAnswered(
  q: Queryable,
  a: { callId: string; fence: number; answeredBy: "human" | "voicemail"; answeredAt: Date },
): Promise<void> {
  await q.query(
    `with c as (
       update calls set status = 'in_progress', answered_by = $3, answered_at = $4
       where id = $1 and fence = $2 and ended_at is null
       returning id, org_id, campaign_id, job_id, test_job, attempt
     )
     insert into events (org_id, campaign_id, job_id, call_id, event, test_job, properties)
     select org_id, campaign_id, job_id, id, 'call.answered', test_job,
       jsonb_build_object('direction', 'outbound', 'answered_by', $3::text, 'attempt', attempt)
     from c`,
    [a.callId, a.fence, a.answeredBy, a.answeredAt.toISOString()],
  );
}
