import type { Schedule } from "../../domain/campaign.ts";
import { hasAttemptLeft, noAttemptLeft } from "../../domain/outcomes.ts";
import { waitingJobNextCall } from "../../schedule/index.ts";
import { dbNow, failDueJobs, rescheduleJobs } from "../../store/index.ts";
import type { Ctx } from "../context.ts";

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
 */
export async function rescheduleCampaignJobs(ctx: Ctx, campaignId: string): Promise<number> {
  let after = "";
  let total = 0;
  for (;;) {
    const n = await ctx.deps.db.tx(async (q) => {
      const now = await dbNow(q);
      const c = await q.query<{ schedule: Schedule; schedule_version: number; status: string }>(
        "select schedule, schedule_version, status from campaigns where id = $1",
        [campaignId],
      );
      const campaign = c.rows[0];
      if (!campaign) return 0;
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
        [campaignId, ctx.orgId, after, archived],
      );
      if (r.rows.length === 0) return 0;
      after = r.rows.at(-1)!.id;
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
