import { parseCampaign } from "../../domain/campaign.ts";
import { conflict, validationFailed } from "../../errors/index.ts";
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
  const taken = await claimNumbers(q, campaignId, numbers);
  if (taken.length > 0) {
    throw conflict(
      `PhoneNumbers: ${taken.length === 1 ? "a number is" : `${taken.length} numbers are`} already used by another active or paused campaign; archive that campaign or remove the number from it first.`,
    );
  }
}
