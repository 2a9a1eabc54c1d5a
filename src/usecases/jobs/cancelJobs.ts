import { statesFrom } from "../../domain/jobStates.ts";
import { notFound } from "../../errors/index.ts";
import {
  getCampaign,
  insertEvents,
  type JobRow,
  jobEventProps,
  notifyHangups,
  type Queryable,
} from "../../store/index.ts";
import type { Ctx } from "../context.ts";

export async function campaignForBulk(ctx: Ctx, campaignId: string): Promise<void> {
  if (!(await getCampaign(ctx.deps.db, ctx.orgId, campaignId))) throw notFound("Campaign", campaignId);
}

/**
 * Cancels the cancelable jobs among those selected (by ids, or every job of a campaign), with their
 * events, in the caller's transaction. A live call notices its job is canceled and ends. Rows are
 * locked in id order, like the dispatcher's, so that a bulk cancel and a dial never deadlock.
 */
export async function cancelJobRows(
  q: Queryable,
  orgId: string,
  where: { ids: readonly string[] } | { campaignId: string },
): Promise<JobRow[]> {
  if ("ids" in where && where.ids.length === 0) return [];
  const r = await q.query<JobRow & { from_state: string }>(
    `with prev as (
       select id, state from jobs where org_id = $1 and state = any($2::text[])
         and ${"ids" in where ? "id = any($3::text[])" : "campaign_id = $3"}
       order by id for update
     )
     update jobs j set state = 'canceled', next_call_at = null, ended_at = now(), updated_at = now()
     from prev where j.id = prev.id
     returning j.*, prev.state as from_state`,
    [orgId, statesFrom("cancel"), "ids" in where ? where.ids : where.campaignId],
  );
  await notifyHangups(
    q,
    r.rows.map((j) => j.live_call_id),
  );
  await insertEvents(
    q,
    r.rows.map((j) => ({
      orgId,
      campaignId: j.campaign_id,
      jobId: j.id,
      event: "job.canceled",
      testJob: j.test_job,
      properties: { ...jobEventProps(j), from_state: j.from_state },
    })),
  );
  return r.rows;
}

export async function cancelCampaignJobs({
  ctx,
  campaignId,
}: {
  ctx: Ctx;
  campaignId: string;
}): Promise<{ Canceled: number }> {
  await campaignForBulk(ctx, campaignId);
  const rows = await ctx.deps.db.tx((q) => cancelJobRows(q, ctx.orgId, { campaignId }));
  return { Canceled: rows.length };
}
