import type { BackgroundTask } from "../background.ts";
import type { Logger } from "../logging/index.ts";
import { PeriodicTask } from "../periodicTask.ts";
import { campaignsToCompact, compactCampaignCounts, type Db } from "../store/index.ts";

export interface CompactionResult {
  /** Campaigns whose delta rows were folded. */
  compacted: number;
  /** Campaigns skipped because another process was compacting them. */
  busy: number;
}

/**
 * Folds the analytics delta rows of every campaign that has more than `minRows` of them into one row
 * per key (at most `maxCampaigns` campaigns, those with the most rows first). Safe to run from any
 * number of processes: each campaign is compacted under an advisory lock, and a campaign locked
 * elsewhere is skipped.
 */
export async function compactAnalytics(
  db: Db,
  opts: { minRows?: number; maxCampaigns?: number } = {},
): Promise<CompactionResult> {
  const ids = await campaignsToCompact(db, opts.minRows ?? 0, opts.maxCampaigns ?? 1_000);
  const out: CompactionResult = { compacted: 0, busy: 0 };
  for (const id of ids) {
    if (await compactCampaignCounts(db, id)) out.compacted++;
    else out.busy++;
  }
  return out;
}

/** Compacts one campaign's counters now; false when another process is compacting it. */
export const compactCampaignAnalytics = (db: Db, campaignId: string): Promise<boolean> =>
  compactCampaignCounts(db, campaignId);

export const ANALYTICS_COMPACTION_TASK_NAME = "analytics-compaction";

/**
 * A BACKGROUND_TASKS entry (src/background.ts): compacts, every `intervalMs`, the campaigns with more
 * than `minRows` delta rows, so that reads stay small for campaigns that are written a lot and read
 * seldom (a read also compacts its campaign when it finds many rows).
 */
export const analyticsCompactionTask = (
  deps: { db: Db; logger: Logger },
  opts: { intervalMs: number; minRows: number } = { intervalMs: 60_000, minRows: 200 },
): BackgroundTask =>
  new PeriodicTask(ANALYTICS_COMPACTION_TASK_NAME, opts.intervalMs, deps.logger, async () => {
    const r = await compactAnalytics(deps.db, { minRows: opts.minRows });
    if (r.compacted > 0) deps.logger.debug(r, "analytics counters compacted");
  });
