import { parseJobPatch } from "../../domain/jobInput.ts";
import { conflict, notFound, validationFailed } from "../../errors/index.ts";
import { laterOf } from "../../schedule/index.ts";
import {
  dbNow,
  getJobRow,
  type Job,
  type JobRow,
  lockCampaignOfJob,
  type Queryable,
  toJob,
  updateJobRow,
} from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { firstCallAt } from "./firstCallAt.ts";
import { transitionJob } from "./transition.ts";

/**
 * The campaign of job `id`, read KEY SHARE when a change works out the job's next call time: a
 * change of windows (FOR UPDATE) then waits for this one, and reschedules the job as it is by then;
 * a change already under way is waited for and read. Unlocked, the job could be written with
 * windows a change had replaced after that change's rescheduling passed it by. Taken before the
 * job's own lock, as a paused campaign's close takes the campaign and then the jobs of an opt-out,
 * so that the two never wait for each other in a cycle.
 */
async function windowsHeld(q: Queryable, ctx: Ctx, id: string) {
  const campaign = await lockCampaignOfJob(q, ctx.orgId, id);
  if (!campaign) throw notFound("Job", id);
  return campaign;
}

async function lockedJob(q: Queryable, ctx: Ctx, id: string): Promise<JobRow> {
  const row = await getJobRow(q, ctx.orgId, id, true);
  if (!row) throw notFound("Job", id);
  return row;
}

/** PATCH: ContactName, Metadata, Data, TimeZone; Metadata and Data are replaced whole. */
export async function updateJob({ ctx, id, input }: { ctx: Ctx; id: string; input: unknown }): Promise<Job> {
  const parsed = parseJobPatch(input);
  if (!parsed.ok) throw validationFailed(parsed.details);
  const p = parsed.value;
  return ctx.deps.db.tx(async (q) => {
    const campaign = p.TimeZone !== undefined ? await windowsHeld(q, ctx, id) : null;
    const row = await lockedJob(q, ctx, id);
    if (row.state === "deleted") throw conflict("The job's PII was deleted: it can no longer be changed.");
    const set: Partial<Record<keyof JobRow, unknown>> = {};
    if (p.ContactName !== undefined) set.contact_name = p.ContactName;
    if (p.Metadata !== undefined) set.metadata = p.Metadata;
    if (p.Data !== undefined) set.data = p.Data;
    if (p.TimeZone !== undefined) {
      set.time_zone = p.TimeZone;
      // The contact's zone decides the calling window: a waiting job's next call moves with it.
      if (campaign && row.state === "pending" && row.next_call_at !== null) {
        const now = await dbNow(q);
        const from = laterOf(row.due_at, now);
        const job = { TestJob: row.test_job, TimeZone: p.TimeZone, PhoneNumber: row.phone_number };
        set.next_call_at = firstCallAt(campaign.Schedule, job, from);
      }
    }
    return toJob(await updateJobRow(q, id, set));
  });
}

export async function cancelJob({ ctx, id }: { ctx: Ctx; id: string }): Promise<Job> {
  return ctx.deps.db.tx(async (q) => toJob(await transitionJob(q, await lockedJob(q, ctx, id), "cancel")));
}

/** A failed or canceled job goes back to pending, due now, with MaxAttempts more attempts. */
export async function retryJob({ ctx, id }: { ctx: Ctx; id: string }): Promise<Job> {
  return ctx.deps.db.tx(async (q) => {
    const campaign = await windowsHeld(q, ctx, id);
    const row = await lockedJob(q, ctx, id);
    // Its key-share lock holds the status: archiving waits for this retry, and then makes its NextCallAt null.
    if (campaign.Status === "archived" && (row.state === "failed" || row.state === "canceled"))
      throw conflict("The job's campaign is archived: it places no more calls.");
    const optedOut = await q.query("select 1 from opt_outs where org_id = $1 and phone_number = $2", [
      ctx.orgId,
      row.phone_number,
    ]);
    if (optedOut.rows.length > 0 && (row.state === "failed" || row.state === "canceled")) {
      throw conflict(
        "The job's number is on the opt-out list: remove it from the list (DELETE /v1/opt-outs/{PhoneNumber}) before retrying.",
      );
    }
    const now = await dbNow(q);
    const job = { TestJob: row.test_job, TimeZone: row.time_zone, PhoneNumber: row.phone_number };
    return toJob(
      await transitionJob(q, row, "retry", {
        failure_reason: null,
        failure_message: null,
        ended_at: null,
        objective_met: null,
        attempts_base: row.attempts,
        due_at: now,
        next_call_at: firstCallAt(campaign.Schedule, job, now),
      }),
    );
  });
}
