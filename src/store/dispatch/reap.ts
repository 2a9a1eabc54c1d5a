import type { Schedule } from "../../domain/campaign.ts";
import type { Queryable } from "../db.ts";

export interface LostJob {
  id: string;
  state: string;
  /** The new fencing token: the lost worker's writes carry the old one and change nothing. */
  fence: number;
  test_job: boolean;
  attempts: number;
  attempts_base: number;
  time_zone: string | null;
  phone_number: string | null;
  schedule: Schedule;
  schedule_version: number;
  call_id: string | null;
  dialed_at: Date | null;
  /** Set once a dial to a carrier outside the database began: the call may have been placed. */
  dial_started_at: Date | null;
  answered_at: Date | null;
  answered_by: string | null;
  call_started_at: Date | null;
  direction: "outbound" | "inbound" | null;
}

/**
 * Takes over jobs whose worker stopped renewing its lease (or, with `owner`, every job that worker
 * holds: it is stopping and hands them back): bumps their fencing token (on the job and its live
 * call) so that the worker can no longer write, and returns them for the decision.
 * Its live-state tests are written coalesce(<test>, false): see store/dispatch/dial.ts.
 */
export async function takeOverLeases(q: Queryable, limit: number, owner?: string): Promise<LostJob[]> {
  const which =
    owner === undefined ? "j.lease_owner is not null and j.lease_expires_at < now()" : "j.lease_owner = $2";
  const r = await q.query<LostJob>(
    `with expired as (
       select j.id from jobs j where ${which}
       order by j.lease_expires_at limit $1 for update skip locked
     ),
     bumped as (
       update jobs j set fence = j.fence + 1 from expired e where j.id = e.id
       returning j.id, j.state, j.fence, j.test_job, j.attempts, j.attempts_base, j.time_zone, j.phone_number,
         j.campaign_id, j.live_call_id
     ),
     calls_bumped as (
       update calls c set fence = b.fence from bumped b where c.id = b.live_call_id and coalesce(c.ended_at is null, false)
       returning c.id, c.dialed_at, c.dial_started_at, c.answered_at, c.answered_by, c.started_at, c.direction
     )
     select b.id, b.state, b.fence, b.test_job, b.attempts, b.attempts_base, b.time_zone, b.phone_number,
       cmp.schedule, cmp.schedule_version, cb.id as call_id, cb.dialed_at, cb.dial_started_at, cb.answered_at, cb.answered_by, cb.started_at as call_started_at, cb.direction
     from bumped b join campaigns cmp on cmp.id = b.campaign_id
     left join calls_bumped cb on cb.id = b.live_call_id`,
    owner === undefined ? [limit] : [limit, owner],
  );
  return r.rows;
}

/**
 * Releases leases of jobs that have no live call left. One still in_progress (its call was closed but
 * not its job) goes back to pending, due now.
 */
export async function releaseLeases(
  q: Queryable,
  jobs: ReadonlyArray<{ id: string; fence: number }>,
): Promise<void> {
  if (jobs.length === 0) return;
  await q.query(
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(id text, fence bigint)),
     prev as (select j.id, j.state from jobs j join x on j.id = x.id and j.fence = x.fence),
     r as (
       update jobs j set lease_owner = null, lease_expires_at = null, live_call_id = null,
         state = case when prev.state = 'in_progress' then 'pending' else j.state end,
         next_call_at = case when prev.state = 'in_progress' then now() else j.next_call_at end,
         due_at = case when prev.state = 'in_progress' then now() else j.due_at end
       from prev where j.id = prev.id
       returning j.id, j.org_id, j.campaign_id, j.test_job, prev.state as from_state
     )
     insert into events (org_id, campaign_id, job_id, event, test_job, properties)
     select org_id, campaign_id, id, 'job.scheduled', test_job, jsonb_build_object('state', 'pending', 'from_state', from_state)
     from r where from_state = 'in_progress'`,
    [JSON.stringify(jobs)],
  );
}

/**
 * Extends the leases `owner` (a worker, or a process's inbound calls) still holds (same fencing
 * token), skipping rows locked elsewhere. Its live-state test is written coalesce(<test>, false):
 * see store/dispatch/dial.ts.
 */
export async function renewLeases(
  q: Queryable,
  owner: string,
  leaseSeconds: number,
  held: ReadonlyArray<readonly [string, number]>,
): Promise<number> {
  const r = await q.query(
    `update jobs j set lease_expires_at = now() + make_interval(secs => $2)
     from (
       select j.id from jobs j join jsonb_to_recordset($3::jsonb) as x(id text, fence bigint)
         on j.id = x.id and j.fence = x.fence
       where coalesce(j.lease_owner = $1, false) order by j.id for update of j skip locked
     ) x
     where j.id = x.id`,
    [owner, leaseSeconds, JSON.stringify(held.map(([id, fence]) => ({ id, fence })))],
  );
  return r.rowCount;
}

/**
 * Of these calls, the live ones that should have been hung up: their job left in_progress
 * (canceled, opted out, PII deleted) while the call went on. `held`: outbound claims (job id and
 * fencing token), ringing or answered; `callIds`: calls with a conversation under way here, inbound
 * ones included. The hang-up notice ends them at once; this finds those whose notice was missed (a
 * listening session lost and reopened).
 */
export async function callsToHangUp(
  q: Queryable,
  held: ReadonlyArray<readonly [string, number]>,
  callIds: readonly string[],
): Promise<string[]> {
  if (held.length === 0 && callIds.length === 0) return [];
  const r = await q.query<{ call_id: string }>(
    `select j.live_call_id as call_id from jobs j join jsonb_to_recordset($1::jsonb) as x(id text, fence bigint)
       on j.id = x.id and j.fence = x.fence
     where j.live_call_id is not null and j.state <> 'in_progress'
     union
     select c.id from calls c join jobs j on j.id = c.job_id
     where c.id = any($2::text[]) and j.live_call_id = c.id and j.state <> 'in_progress'`,
    [JSON.stringify(held.map(([id, fence]) => ({ id, fence }))), callIds],
  );
  return r.rows.map((x) => x.call_id);
}

/** Marks a dispatcher worker alive (workers.heartbeat_at). */
export async function markWorkerAlive(q: Queryable, workerId: string): Promise<void> {
  await q.query("update workers set heartbeat_at = now() where id = $1", [workerId]);
}

/** Days a worker's row stays after it stopped, or went silent (killed), before a starting worker deletes it. */
const WORKER_ROW_DAYS = 7;

/** Adds a starting worker, and deletes the rows of workers long gone: one per start would pile up. */
export async function registerWorker(q: Queryable, id: string, pid: number, host: string): Promise<void> {
  await q.query(
    "delete from workers where coalesce(stopped_at, heartbeat_at) < now() - make_interval(days => $1)",
    [WORKER_ROW_DAYS],
  );
  await q.query("insert into workers (id, pid, host) values ($1, $2, $3)", [id, pid, host]);
}

export async function unregisterWorker(q: Queryable, id: string): Promise<void> {
  await q.query("update workers set stopped_at = now() where id = $1", [id]);
}
