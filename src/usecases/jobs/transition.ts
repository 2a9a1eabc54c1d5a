import { canTransition, type JobTransition, refusalMessage, targetState } from "../../domain/jobStates.ts";
import { conflict } from "../../errors/index.ts";
import {
  DB_NOW,
  insertEvents,
  type JobRow,
  jobEventProps,
  notifyHangups,
  type Queryable,
  updateJobRow,
} from "../../store/index.ts";

const EVENT_OF: Record<JobTransition, string> = {
  dial: "job.dialing",
  resume: "job.resumed",
  schedule: "job.scheduled",
  complete: "job.completed",
  fail: "job.failed",
  cancel: "job.canceled",
  retry: "job.retried",
  delete_pii: "job.pii_deleted",
};

/**
 * The one way a single job changes state: asks the state machine, writes the change and its event
 * in the caller's transaction (the row must be locked by the caller), or refuses with a 409.
 */
export async function transitionJob(
  q: Queryable,
  row: JobRow,
  t: JobTransition,
  changes: Partial<Record<keyof JobRow, unknown>> = {},
): Promise<JobRow> {
  if (!canTransition(row.state, t)) throw conflict(refusalMessage(row.state, t));
  const to = targetState(t);
  const ended = to === "completed" || to === "failed" || to === "canceled";
  const next = await updateJobRow(q, row.id, {
    state: to,
    ...(ended ? { next_call_at: null, ended_at: DB_NOW } : {}),
    ...changes,
  });
  if (next.state !== "in_progress") await notifyHangups(q, [row.live_call_id]);
  await insertEvents(q, [
    {
      orgId: row.org_id,
      campaignId: row.campaign_id,
      jobId: row.id,
      event: EVENT_OF[t],
      testJob: row.test_job,
      properties: { ...jobEventProps(next), from_state: row.state },
    },
  ]);
  return next;
}
