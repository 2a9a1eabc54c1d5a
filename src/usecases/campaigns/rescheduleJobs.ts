import type { Schedule } from "../../domain/campaign.ts";
import { jobZones, laterOf, nextOpenTime } from "../../schedule/index.ts";
import { dbNow, rescheduleJobs } from "../../store/index.ts";
import type { Ctx } from "../context.ts";

/** The parts of a schedule that decide when a contact may be called. */
export const windowsChanged = (a: Schedule, b: Schedule): boolean =>
  a.TimeZone !== b.TimeZone ||
  JSON.stringify(a.Windows) !== JSON.stringify(b.Windows) ||
  JSON.stringify(a.BlackoutDates) !== JSON.stringify(b.BlackoutDates);

/**
 * After the calling windows change, every waiting job's NextCallAt is recomputed from when it is
 * due, so that it again shows the earliest time it may be dialed. Runs in chunks: a campaign may
 * hold millions of jobs.
 */
export async function rescheduleCampaignJobs(
  ctx: Ctx,
  campaignId: string,
  schedule: Schedule,
): Promise<number> {
  let after = "";
  let total = 0;
  for (;;) {
    const n = await ctx.deps.db.tx(async (q) => {
      const now = await dbNow(q);
      const r = await q.query<{
        id: string;
        due_at: Date;
        time_zone: string | null;
        phone_number: string | null;
      }>(
        `select id, due_at, time_zone, phone_number from jobs
         where campaign_id = $1 and org_id = $2 and state = 'pending' and not test_job and id > $3
         order by id limit 5000 for update skip locked`,
        [campaignId, ctx.orgId, after],
      );
      if (r.rows.length === 0) return 0;
      after = r.rows.at(-1)!.id;
      const items = r.rows.map((j) => {
        const zones = jobZones(j, schedule);
        const from = laterOf(j.due_at, now);
        return { id: j.id, at: nextOpenTime(schedule, zones, from) };
      });
      await rescheduleJobs(q, items);
      return r.rows.length;
    });
    if (n === 0) return total;
    total += n;
  }
}
