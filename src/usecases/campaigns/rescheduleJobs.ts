import type { BackgroundTask } from "../../background.ts";
import type { Schedule } from "../../domain/campaign.ts";
import { hasAttemptLeft, noAttemptLeft } from "../../domain/outcomes.ts";
import { PeriodicTask } from "../../periodicTask.ts";
import { waitingJobNextCall } from "../../schedule/index.ts";
import { dbNow, failDueJobs, type Queryable, rescheduleJobs } from "../../store/index.ts";
import type { Ctx, Deps } from "../context.ts";

/** The parts of a schedule that decide when a contact may be called. */
export const windowsChanged = (a: Schedule, b: Schedule): boolean =>
  a.TimeZone !== b.TimeZone ||
  JSON.stringify(a.Windows) !== JSON.stringify(b.Windows) ||
  JSON.stringify(a.BlackoutDates) !== JSON.stringify(b.BlackoutDates);

/**
 * After the calling windows change, every waiting job's NextCallAt is recomputed from when it is
 * due, so that it again shows the earliest time it may be dialed; after the campaign is archived,
 * it is null for all of them (test jobs too): an archived campaign places no calls. Jobs left
 * with no attempt (MaxAttempts lowered) fail `max_attempts_exceeded` now, as they would when due.
 * Runs in chunks: a campaign may hold millions of jobs. Each chunk reads the schedule as it is
 * then, and waits for jobs a claim holds (a claim is short): one that claim leaves waiting was
 * scheduled with the windows it read, and is done again here. Jobs in a call then are scheduled
 * when it ends, by the close's revision (reviseCloses) and the version check (rescheduleJobs).
 *
 * The work to do is recorded on the campaign by the change that needs it (markRescheduleNeeded),
 * and each chunk moves that record on in its own transaction, under a lock of the campaign's row
 * that chunks of other runs wait for: a run cut short (the process stopped) is finished by the
 * next (resumeReschedules), and a change made meanwhile starts the work over.
 */
export async function rescheduleCampaignJobs(ctx: Ctx, campaignId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await ctx.deps.db.tx(async (q) => {
      const now = await dbNow(q);
      const c = await q.query<{
        schedule: Schedule;
        schedule_version: number;
        status: string;
        reschedule_from: string | null;
      }>(
        "select schedule, schedule_version, status, reschedule_from from campaigns where id = $1 for no key update",
        [campaignId],
      );
      const campaign = c.rows[0];
      if (!campaign || campaign.reschedule_from === null) return 0;
      const { schedule, schedule_version: version } = campaign;
      const archived = campaign.status === "archived";
      const r = await q.query<{
        id: string;
        due_at: Date;
        time_zone: string | null;
        phone_number: string | null;
        test_job: boolean;
        attempts: number;
        attempts_base: number;
        callback_due: boolean;
      }>(
        `select id, due_at, time_zone, phone_number, test_job, attempts, attempts_base, callback_due from jobs
         where campaign_id = $1 and org_id = $2 and state = 'pending' and ($4 or not test_job) and id > $3
         order by id limit 5000 for update`,
        [campaignId, ctx.orgId, campaign.reschedule_from, archived],
      );
      await q.query("update campaigns set reschedule_from = $2, reschedule_at = now() where id = $1", [
        campaignId,
        r.rows.at(-1)?.id ?? null,
      ]);
      if (r.rows.length === 0) return 0;
      // An archived campaign's jobs only wait: it places no calls, so none runs out of attempts.
      const spent = new Set(archived ? [] : r.rows.filter((j) => !hasAttemptLeft(j, schedule)));
      const waiting = r.rows.filter((j) => !spent.has(j));
      await failDueJobs(
        q,
        [...spent].map((j) => ({ id: j.id, ...noAttemptLeft(j, schedule) })),
      );
      await rescheduleJobs(
        q,
        waiting.map((j) => ({
          id: j.id,
          at: archived ? null : waitingJobNextCall(j, schedule, now),
          version,
        })),
      );
      return r.rows.length;
    });
    if (n === 0) return total;
    total += n;
  }
}

/** Records, in the transaction of the change that needs it, that the campaign's waiting jobs are to be placed again. */
export async function markRescheduleNeeded(q: Queryable, campaignId: string): Promise<void> {
  await q.query("update campaigns set reschedule_from = '', reschedule_at = now() where id = $1", [
    campaignId,
  ]);
}

/**
 * Finishes the re-placing of jobs that a stopped process left undone: campaigns whose record has
 * not moved on for `staleSeconds` (a run under way moves it at every chunk).
 */
export async function resumeReschedules(deps: Deps, staleSeconds: number): Promise<number> {
  const r = await deps.db.query<{ id: string; org_id: string }>(
    `select id, org_id from campaigns
     where reschedule_from is not null and reschedule_at < now() - make_interval(secs => $1)
     order by reschedule_at limit 100`,
    [staleSeconds],
  );
  for (const c of r.rows) await rescheduleCampaignJobs({ deps, orgId: c.org_id }, c.id);
  return r.rows.length;
}

export const RESCHEDULE_TASK_NAME = "reschedule-resume";

/** Every minute, in every worker process: finishes re-placings a stopped process left undone. */
export const rescheduleResumeTask = (deps: Deps): BackgroundTask =>
  new PeriodicTask(RESCHEDULE_TASK_NAME, 60_000, deps.logger, async () => {
    const n = await resumeReschedules(deps, 30);
    if (n > 0) deps.logger.info({ campaigns: n }, "finished re-placing jobs a stopped process left undone");
  });
