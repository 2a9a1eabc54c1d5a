import { statesFrom } from "../../domain/jobStates.ts";
import { notFound } from "../../errors/index.ts";
import {
  erasePii,
  getJobRow,
  insertEvents,
  type Job,
  type JobRow,
  type Queryable,
  toJob,
} from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { campaignForBulk, cancelJobRows } from "./cancelJobs.ts";

/**
 * Erases the PII of jobs in any state: live ones are canceled first, then the contact's fields, the
 * contact's side of calls, transcripts and stored responses go. Returns the jobs erased now (a job
 * already deleted is left as it is). The opt-out list is never touched.
 */
async function eraseJobs(q: Queryable, orgId: string, rows: JobRow[]): Promise<number> {
  const live = rows.filter((r) => statesFrom("cancel").includes(r.state)).map((r) => r.id);
  await cancelJobRows(q, orgId, { ids: live });
  const erased = await erasePii(
    q,
    orgId,
    rows.map((r) => r.id),
  );
  const fresh = erased.filter((r) => r.previous_state !== "deleted");
  await insertEvents(
    q,
    fresh.map((r) => ({
      orgId,
      campaignId: r.campaign_id,
      jobId: r.id,
      event: "job.pii_deleted",
      testJob: r.test_job,
      properties: { state: "deleted", from_state: r.previous_state },
    })),
  );
  return fresh.length;
}

export async function deleteJobPii({ ctx, id }: { ctx: Ctx; id: string }): Promise<Job> {
  return ctx.deps.db.tx(async (q) => {
    const row = await getJobRow(q, ctx.orgId, id, true);
    if (!row) throw notFound("Job", id);
    await eraseJobs(q, ctx.orgId, [row]);
    return toJob((await getJobRow(q, ctx.orgId, id))!);
  });
}

/** DELETE /v1/campaigns/{Id}/pii: every job of the campaign, in chunks so that huge campaigns fit. */
export async function deleteCampaignPii({
  ctx,
  campaignId,
}: {
  ctx: Ctx;
  campaignId: string;
}): Promise<{ Deleted: number }> {
  await campaignForBulk(ctx, campaignId);
  let deleted = 0;
  for (;;) {
    const n = await ctx.deps.db.tx(async (q) => {
      const r = await q.query<JobRow>(
        `select * from jobs where org_id = $1 and campaign_id = $2 and state <> 'deleted'
         order by id limit 5000 for update`,
        [ctx.orgId, campaignId],
      );
      if (r.rows.length === 0) return -1;
      return eraseJobs(q, ctx.orgId, r.rows);
    });
    if (n < 0) return { Deleted: deleted };
    deleted += n;
  }
}
