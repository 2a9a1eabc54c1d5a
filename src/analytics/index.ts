/**
 * Campaign analytics: figures kept by database triggers as append-only counter deltas (migration
 * 0004), summed per request and compacted now and then. Test jobs and their calls are left out.
 */
export { getCampaignAnalytics } from "./campaignAnalytics.ts";
export {
  ANALYTICS_COMPACTION_TASK_NAME,
  analyticsCompactionTask,
  type CompactionResult,
  compactAnalytics,
  compactCampaignAnalytics,
} from "./compaction.ts";
export { phoneZoneGroups, phoneZonePrefixes } from "./phoneZones.ts";
export { type CampaignAnalytics, HOURS, toCampaignAnalytics } from "./shape.ts";
