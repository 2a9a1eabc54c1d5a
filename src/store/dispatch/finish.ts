import type { Schedule } from "../../domain/campaign.ts";
import { hasAttemptLeft, noAttemptLeft } from "../../domain/outcomes.ts";
import { laterOf, waitingJobNextCall } from "../../schedule/index.ts";
import type { TranscriptEntry } from "../calls.ts";
import type { Queryable } from "../db.ts";

/** What happens to the job after its call, decided by the analysis. */
export type JobDecision =
  /**
   * `due` is when the next call is wanted; `at` is that moved into the next open window, null when
   * no window opens (the job waits, pending, until its campaign's schedule changes).
   */
  | { kind: "retry"; at: Date | null; due: Date; callback?: boolean }
  /**
   * A claim that was never dialed goes back to pending as it was (its attempt given back, its due
   * time and any call-back kept), next called at `at`.
   */
  | { kind: "requeue"; at: Date | null }
  | { kind: "fail"; reason: string; message: string }
  /** `callback`: the contact asked for a call-back, which a test job's ends (counted in Callbacks). */
  | { kind: "complete"; callback?: boolean }
  /** An inbound call that ended with no outcome: the job gets back the state it had before. */
  | { kind: "restore" }
  /** The call ended with nothing to decide (the job was already ended, e.g. canceled). */
  | { kind: "none" };

export interface CallClose {
  callId: string;
  jobId: string;
  fence: number;
  status: string;
  endReason: string;
  answeredBy: string | null;
  ringingAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date;
  durationSeconds: number;
  billedSeconds: number;
  decision: JobDecision;
  /**
   * The version of the campaign's windows (campaigns.schedule_version) a retry's or requeue's time
   * was worked out with (for a restore: read when the call started): if they changed since, the
   * close places the job by the windows as they are, from its wanted time.
   */
  scheduleVersion?: number;
  /** An outbound attempt that was never dialed (a lost worker's claim): its claim's attempt is given back. */
  undialed?: boolean;
  /**
   * The call is being dialed and closed in one write (the carrier knew its ending when it took it):
   * what marking it dialed would have written, and call.started is written before call.ended.
   */
  dialed?: { carrierCallId: string; localHour: number };
  /** The whole transcript (answered calls); kept as written so far when absent. */
  transcript?: TranscriptEntry[];
  /** What the analysis found, for answered calls. */
  /** Added to the properties of the job's event (no PII), e.g. the call-back time a test job asked for. */
  eventProps?: Record<string, unknown>;
  analysis?: {
    result: Record<string, unknown>;
    summary: string | null;
    objectiveMet: boolean | null;
    conversation: unknown;
  };
}

/**
 * One close as the statement reads it. Null fields are left out (absent keys read as null): the
 * shorter text is quicker for the database to parse.
 */
function closeRow(i: CallClose, ord: number, placed: Map<CallClose, Date | null>): Record<string, unknown> {
  const d = i.decision;
  const row: Record<string, unknown> = {
    // the order of the items, which their events keep
    ord,
    call_id: i.callId,
    job_id: i.jobId,
    fence: i.fence,
    status: i.status,
    end_reason: i.endReason,
    ended_at: i.endedAt.toISOString(),
    duration: i.durationSeconds,
    billed: i.billedSeconds,
    decision: d.kind,
  };
  const put = (key: string, value: unknown) => {
    if (value !== null && value !== undefined) row[key] = value;
  };
  put("answered_by", i.answeredBy);
  put("answered_at", i.answeredAt?.toISOString());
  if (d.kind === "retry" || d.kind === "requeue") put("next_call_at", d.at?.toISOString());
  if (d.kind === "retry") row.due_at = d.due.toISOString();
  if ((d.kind === "retry" || d.kind === "complete") && d.callback) row.callback = true;
  if (d.kind === "fail") {
    row.failure_reason = d.reason;
    row.failure_message = d.message;
  }
  put("transcript", i.transcript);
  put("result", i.analysis?.result);
  put("summary", i.analysis?.summary);
  put("objective_met", i.analysis?.objectiveMet);
  put("conversation", i.analysis?.conversation);
  put("event_props", i.eventProps);
  if (i.undialed) row.undialed = true;
  if (placed.has(i)) {
    row.stale = true;
    put("placed_at", placed.get(i)?.toISOString());
  }
  put("carrier_call_id", i.dialed?.carrierCallId);
  put("local_hour", i.dialed?.localHour);
  return row;
}

/**
 * Closes calls and applies each job's decision, fenced: a write from a worker whose lease was taken
 * over (older token) changes nothing. Jobs that ended while the call ran (canceled, opted out) keep
 * their state; only their lease is released.
 */
export async function closeCalls(q: Queryable, items: readonly CallClose[]): Promise<number> {
  if (items.length === 0) return 0;
  await q.query("select id from jobs where id = any($1::text[]) order by id for update", [
    [...new Set(items.map((i) => i.jobId))],
  ]);
  return closeLockedCalls(q, items);
}

/**
 * closeCalls, for a caller whose transaction already holds the locks of these calls' jobs.
 * Its live-state tests are written coalesce(<test>, false): see store/dispatch/dial.ts.
 */
export async function closeLockedCalls(q: Queryable, items: readonly CallClose[]): Promise<number> {
  if (items.length === 0) return 0;
  const { placed, failed } = await reviseCloses(q, items);
  const r = await q.query<{ n: number }>(
    `with x as (
       select * from jsonb_to_recordset($1::jsonb) as x(call_id text, job_id text, fence bigint, status text,
         end_reason text, answered_by text, answered_at timestamptz, ended_at timestamptz, duration integer,
         billed integer, decision text, next_call_at timestamptz, due_at timestamptz, callback boolean, failure_reason text,
         failure_message text, transcript jsonb, result jsonb, summary text, objective_met boolean, conversation jsonb, event_props jsonb, undialed boolean,
         carrier_call_id text, local_hour smallint, stale boolean, placed_at timestamptz, ord integer)
     ),
     c as (
       update calls set status = x.status, end_reason = x.end_reason, answered_by = x.answered_by,
         answered_at = x.answered_at, ended_at = x.ended_at, duration_seconds = x.duration, billed_seconds = x.billed,
         -- dialed now; by a carrier outside the database, when its dial began
         dialed_at = case when x.carrier_call_id is null then calls.dialed_at else coalesce(calls.dial_started_at, clock_timestamp()) end,
         carrier_call_id = coalesce(x.carrier_call_id, calls.carrier_call_id),
         local_hour = coalesce(x.local_hour, calls.local_hour),
         -- a job whose PII was deleted during the call keeps no transcript
         transcript = case when j.state = 'deleted' then '[]'::jsonb else coalesce(x.transcript, calls.transcript) end
       from x join jobs j on j.id = x.job_id
       where calls.id = x.call_id and calls.fence = x.fence and coalesce(calls.ended_at is null, false)
       returning calls.id, calls.org_id, calls.campaign_id, calls.job_id, calls.test_job, calls.attempt, x.status,
         x.end_reason, x.answered_by, x.duration, x.billed, x.ord, x.carrier_call_id is not null as dialed_now
     ),
     decided as (
       update jobs set
         state = case x.decision when 'retry' then 'pending' when 'requeue' then 'pending' when 'fail' then 'failed'
           when 'complete' then 'completed' when 'restore' then coalesce(jobs.resumed_from, 'pending') else jobs.state end,
         next_call_at = case
           -- worked out with windows changed since (a pending job an inbound call restores keeps
           -- one so worked out): the time reviseCloses found by the windows as they are (null: archived)
           when x.stale and (x.decision <> 'restore' or jobs.resumed_from = 'pending') then x.placed_at
           when x.decision = 'restore' then jobs.next_call_at
           else x.next_call_at end,
         resumed_from = null,
         due_at = coalesce(x.due_at, jobs.due_at),
         -- restore and requeue put the job back as it was: its call-back, reason and judgement kept
         callback_due = case when x.decision in ('restore', 'requeue') then jobs.callback_due else coalesce(x.callback and x.decision = 'retry', false) end,
         callbacks = jobs.callbacks + case when x.callback then 1 else 0 end,
         attempts = jobs.attempts - case when x.undialed then 1 else 0 end,
         failure_reason = case when x.decision in ('restore', 'requeue') then jobs.failure_reason else x.failure_reason end,
         failure_message = case when x.decision in ('restore', 'requeue') then jobs.failure_message else x.failure_message end,
         result = coalesce(x.result, jobs.result), summary = coalesce(x.summary, jobs.summary),
         objective_met = case when x.decision in ('restore', 'requeue') then jobs.objective_met else x.objective_met end, conversation = coalesce(x.conversation, jobs.conversation),
         ended_at = case when x.decision in ('fail', 'complete') then now() when x.decision in ('restore', 'requeue') then jobs.ended_at end,
         lease_owner = null, lease_expires_at = null, live_call_id = null, updated_at = now()
       from x where jobs.id = x.job_id and jobs.fence = x.fence and coalesce(jobs.state = 'in_progress', false) and x.decision <> 'none'
       returning jobs.id, jobs.org_id, jobs.campaign_id, jobs.test_job, jobs.state, jobs.failure_reason, x.call_id,
         x.event_props, x.decision, x.ord
     ),
     released as (
       update jobs set lease_owner = null, lease_expires_at = null, live_call_id = null,
         attempts = jobs.attempts - case when x.undialed then 1 else 0 end,
         -- a retry since the claim started counting from the attempt given back here (abandonCalls)
         attempts_base = case when x.undialed then least(jobs.attempts_base, jobs.attempts - 1) else jobs.attempts_base end,
         result = case when jobs.state = 'deleted' then jobs.result else coalesce(x.result, jobs.result) end,
         conversation = case when jobs.state = 'deleted' then jobs.conversation else coalesce(x.conversation, jobs.conversation) end
       from x where jobs.id = x.job_id and jobs.fence = x.fence and (jobs.state <> 'in_progress' or x.decision = 'none')
       returning 1
     ),
     -- One insert, in order: each call's call.started (dialed now), call.ended, then its job's event.
     written as (
       insert into events (org_id, campaign_id, job_id, call_id, event, test_job, properties)
       select org_id, campaign_id, job_id, call_id, event, test_job, properties from (
         select ord, 0 as k, org_id, campaign_id, job_id, id as call_id, 'call.started' as event, test_job,
           jsonb_build_object('direction', 'outbound', 'attempt', attempt) as properties
         from c where dialed_now
         union all
         select ord, 1, org_id, campaign_id, job_id, id, 'call.ended', test_job,
           jsonb_build_object('status', status, 'end_reason', end_reason, 'answered_by', answered_by,
             'duration_seconds', duration, 'billed_seconds', billed)
         from c
         union all
         select ord, 2, org_id, campaign_id, id, call_id,
           case when decision = 'restore' then 'job.restored' when state = 'pending' then 'job.scheduled'
             when state = 'failed' then 'job.failed' else 'job.completed' end,
           test_job,
           jsonb_strip_nulls(jsonb_build_object('state', state, 'from_state', 'in_progress', 'failure_reason', failure_reason)) || coalesce(event_props, '{}')
         from decided
       ) e
       order by ord, k
       returning 1
     )
     select count(*)::int as n from c`,
    [
      JSON.stringify(
        items.map((i, ord) => {
          const fail = failed.get(i);
          return closeRow(fail ? { ...i, decision: { kind: "fail", ...fail } } : i, ord, placed);
        }),
      ),
    ],
  );
  return r.rows[0]?.n ?? 0;
}

/**
 * What became of the closes' decisions since they were worked out: a retry, requeue or restore
 * whose campaign was archived meanwhile waits with no next call time; a retry (not a call-back) left
 * with no attempt by a lower MaxAttempts fails instead; and one whose time was worked out with
 * windows changed since (a version older than their campaign's) has its time placed again by the
 * windows as they are, from the time it wanted (a test job's, which ignores windows, is that time;
 * null when no window opens). The campaigns are key-share-locked (id order) first: a change
 * (FOR UPDATE) then commits either before, and is read here, or after this transaction, whose jobs
 * are pending by then and rescheduled by it.
 */
async function reviseCloses(
  q: Queryable,
  items: readonly CallClose[],
): Promise<{
  placed: Map<CallClose, Date | null>;
  failed: Map<CallClose, { reason: string; message: string }>;
}> {
  const placed = new Map<CallClose, Date | null>();
  const failed = new Map<CallClose, { reason: string; message: string }>();
  const checked = items.filter(
    (i) => i.scheduleVersion !== undefined && ["retry", "requeue", "restore"].includes(i.decision.kind),
  );
  if (checked.length === 0) return { placed, failed };
  const r = await q.query<{
    job_id: string;
    version: number;
    status: string;
    schedule: Schedule;
    due_at: Date;
    time_zone: string | null;
    phone_number: string | null;
    test_job: boolean;
    attempts: number;
    attempts_base: number;
    now: Date;
  }>(
    `with c as (
       select id, status, schedule, schedule_version from campaigns
       where id in (select campaign_id from jobs where id = any($1::text[])) order by id for key share
     )
     select j.id as job_id, c.schedule_version as version, c.status, c.schedule, j.due_at, j.time_zone,
       j.phone_number, j.test_job, j.attempts, j.attempts_base, now() as now
     from jobs j join c on c.id = j.campaign_id where j.id = any($1::text[])`,
    [checked.map((i) => i.jobId)],
  );
  const jobs = new Map(r.rows.map((row) => [row.job_id, row]));
  for (const i of checked) {
    const j = jobs.get(i.jobId);
    if (!j) continue;
    const d = i.decision;
    if (j.status === "archived") placed.set(i, null);
    else if (d.kind === "retry" && !d.callback && !hasAttemptLeft({ ...j, callback_due: false }, j.schedule))
      failed.set(i, noAttemptLeft(j, j.schedule));
    else if (j.version !== i.scheduleVersion) {
      // A retry's wanted time is the one it brings; a requeue or restore keeps the job's.
      const wanted = { ...j, due_at: d.kind === "retry" ? d.due : j.due_at };
      placed.set(
        i,
        j.test_job ? laterOf(wanted.due_at, j.now) : waitingJobNextCall(wanted, j.schedule, j.now),
      );
    }
  }
  return { placed, failed };
}
