import { parseCampaign } from "../../domain/campaign.ts";
import { AppError, validationFailed } from "../../errors/index.ts";
import { newId } from "../../ids/index.ts";
import { type Campaign, claimNumbers, insertCampaign } from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { llmSettings } from "./llmSettings.ts";

export async function createCampaign({ ctx, input }: { ctx: Ctx; input: unknown }): Promise<Campaign> {
  const parsed = parseCampaign(null, input, llmSettings(ctx.deps.config));
  if (!parsed.ok) throw validationFailed(parsed.details);
  const settings = parsed.value;
  return ctx.deps.db.tx(async (q) => {
    const id = newId("cmp");
    const campaign = await insertCampaign(q, id, ctx.orgId, settings);
    if (settings.Status !== "archived") await ensureNumbersFree(q, id, settings.PhoneNumbers);
    return campaign;
  });
}

export async function ensureNumbersFree(
  q: Parameters<typeof claimNumbers>[0],
  campaignId: string,
  numbers: string[],
): Promise<void> {
  const taken = new Set(await claimNumbers(q, campaignId, numbers));
  if (taken.size > 0) {
    // Each taken number by its place in the request, so that the user knows which to remove.
    throw new AppError(
      "conflict",
      `PhoneNumbers: ${taken.size === 1 ? "a number is" : `${taken.size} numbers are`} already used by another active or paused campaign; archive that campaign or remove the number from it first.`,
      numbers.flatMap((n, i) =>
        taken.has(n) ? [{ Path: `/PhoneNumbers/${i}`, Message: `${n} is used by another campaign.` }] : [],
      ),
    );
  }
}
