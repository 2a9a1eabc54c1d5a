import { notFound } from "../errors/index.ts";
import { compactCampaignCounts, readCampaignCounts } from "../store/index.ts";
import type { Ctx } from "../usecases/context.ts";
import { type CampaignAnalytics, toCampaignAnalytics } from "./shape.ts";

/**
 * Above this many delta rows, a read compacts the campaign's counters after summing them, so that
 * the next reads sum one row per key again.
 */
export const COMPACT_AFTER_DELTA_ROWS = 1_000;

/** GET /v1/campaigns/{Id}/analytics: the campaign's counters, summed; 404 for another organization's. */
export async function getCampaignAnalytics({
  ctx,
  campaignId,
}: {
  ctx: Ctx;
  campaignId: string;
}): Promise<CampaignAnalytics> {
  const { db, logger } = ctx.deps;
  const counts = await readCampaignCounts(db, ctx.orgId, campaignId);
  if (!counts) throw notFound("Campaign", campaignId);
  if (counts.deltaRows > COMPACT_AFTER_DELTA_ROWS) {
    // The figures are already summed: compaction changes no sum, only how many rows the next read adds.
    try {
      await compactCampaignCounts(db, campaignId);
    } catch (e) {
      logger.warn({ err: e, campaignId }, "analytics compaction failed");
    }
  }
  return toCampaignAnalytics(counts);
}
