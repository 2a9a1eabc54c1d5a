import type { CampaignStatus } from "../../domain/campaign.ts";
import { parseCampaign } from "../../domain/campaign.ts";
import { conflict, notFound, validationFailed } from "../../errors/index.ts";
import {
  type Campaign,
  claimNumbers,
  getCampaign,
  updateCampaign as storeUpdate,
} from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { ensureNumbersFree } from "./createCampaign.ts";
import { llmSettings } from "./llmSettings.ts";
import { markRescheduleNeeded, rescheduleCampaignJobs, windowsChanged } from "./rescheduleJobs.ts";

/** PATCH: replaces the top-level fields given; Agent and Schedule merge field by field. */
export async function updateCampaign({
  ctx,
  id,
  input,
}: {
  ctx: Ctx;
  id: string;
  input: unknown;
}): Promise<Campaign> {
  const { updated, reschedule } = await ctx.deps.db.tx(async (q) => {
    const current = await getCampaign(q, ctx.orgId, id, "update");
    if (!current) throw notFound("Campaign", id);
    if (current.Status === "archived")
      throw conflict("The campaign is archived: it can no longer be changed.");
    const parsed = parseCampaign(current, input, llmSettings(ctx.deps.config));
    if (!parsed.ok) throw validationFailed(parsed.details);
    // Archiving releases the campaign's numbers; otherwise they must still be free.
    if (parsed.value.Status === "archived") await claimNumbers(q, id, []);
    else await ensureNumbersFree(q, id, parsed.value.PhoneNumbers);
    const next = await storeUpdate(
      q,
      id,
      parsed.value,
      parsed.value.Status === "active" ? null : current.StatusReason,
      windowsChanged(current.Schedule, parsed.value.Schedule),
    );
    // (The current campaign is not archived: that was refused above.)
    const archived = next.Status === "archived";
    const fewerAttempts = next.Schedule.MaxAttempts < current.Schedule.MaxAttempts;
    const reschedule = archived || fewerAttempts || windowsChanged(current.Schedule, next.Schedule);
    // Recorded with the change: a process that stops before the jobs are all placed leaves the
    // work to the next (resumeReschedules).
    if (reschedule) await markRescheduleNeeded(q, id);
    return { updated: next, reschedule };
  });
  if (reschedule) await rescheduleCampaignJobs(ctx, id);
  return updated;
}

/**
 * Moves a campaign between active and paused (and to archived). Resuming clears the reason Cobbery
 * gave when it paused the campaign itself; archiving releases its phone numbers.
 */
export async function setCampaignStatus({
  ctx,
  id,
  status,
  reason = null,
}: {
  ctx: Ctx;
  id: string;
  status: CampaignStatus;
  reason?: string | null;
}): Promise<Campaign> {
  return ctx.deps.db.tx(async (q) => {
    const current = await getCampaign(q, ctx.orgId, id, "update");
    if (!current) throw notFound("Campaign", id);
    if (current.Status === "archived" && status !== "archived") {
      throw conflict("The campaign is archived: it cannot be paused or resumed.");
    }
    if (status === "archived") await claimNumbers(q, id, []);
    // A reason Cobbery gave (a configuration error to fix) stays until the campaign is resumed, as
    // with PATCH.
    return storeUpdate(
      q,
      id,
      { ...current, Status: status },
      status === "active" ? null : (reason ?? current.StatusReason),
    );
  });
}
