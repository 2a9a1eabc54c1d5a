import { type ErrorDetail, validationFailed } from "../errors/index.ts";
import { parseIsoTime } from "../events/index.ts";
import { toCsv } from "../exports/index.ts";
import { type UsageFilter, type UsageRow, usageRows } from "../store/index.ts";
import type { Ctx } from "../usecases/context.ts";

export interface UsageQuery {
  CampaignId?: string | undefined;
  From?: string | undefined;
  To?: string | undefined;
  GroupBy?: string | undefined;
}

export interface UsageTotals {
  Calls: number;
  BilledSeconds: number;
  TestJobCalls: number;
  TestJobBilledSeconds: number;
}

export interface UsageGroup extends UsageTotals {
  CampaignId: string;
}

/** Usage: every call placed or taken (test jobs included; `TestJob*` is their share). */
export interface Usage extends UsageTotals {
  Groups: UsageGroup[];
}

const GROUP_BY = ["CampaignId"] as const;

export function parseUsageQuery(q: UsageQuery): { filter: UsageFilter; byCampaign: boolean } {
  const out: ErrorDetail[] = [];
  const filter: UsageFilter = {};
  if (q.CampaignId !== undefined) filter.campaignId = q.CampaignId;
  const from = parseIsoTime(q.From, "/From", out);
  const to = parseIsoTime(q.To, "/To", out);
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (from && to && from.getTime() >= to.getTime())
    out.push({ Path: "/To", Message: "must be later than From (the range is [From, To))." });
  if (q.GroupBy !== undefined && !(GROUP_BY as readonly string[]).includes(q.GroupBy))
    out.push({ Path: "/GroupBy", Message: `must be ${GROUP_BY.join(" or ")}, or left out for totals.` });
  if (out.length > 0) throw validationFailed(out);
  return { filter, byCampaign: q.GroupBy === "CampaignId" };
}

const totalsOf = (r: UsageRow): UsageTotals => ({
  Calls: r.calls,
  BilledSeconds: r.billed_seconds,
  TestJobCalls: r.test_calls,
  TestJobBilledSeconds: r.test_billed_seconds,
});

/**
 * Calls and billed seconds of the organization, by start time in [From, To), for one campaign or
 * all; `Groups` holds one entry per campaign with `GroupBy=CampaignId`, and is empty otherwise.
 */
export async function getUsage({ ctx, query }: { ctx: Ctx; query: UsageQuery }): Promise<Usage> {
  const { filter, byCampaign } = parseUsageQuery(query);
  const rows = await usageRows(ctx.deps.db, ctx.orgId, filter, byCampaign);
  const total: UsageTotals = { Calls: 0, BilledSeconds: 0, TestJobCalls: 0, TestJobBilledSeconds: 0 };
  for (const r of rows) {
    const t = totalsOf(r);
    total.Calls += t.Calls;
    total.BilledSeconds += t.BilledSeconds;
    total.TestJobCalls += t.TestJobCalls;
    total.TestJobBilledSeconds += t.TestJobBilledSeconds;
  }
  const groups = byCampaign ? rows.map((r) => ({ CampaignId: r.campaign_id ?? "", ...totalsOf(r) })) : [];
  return { ...total, Groups: groups };
}

export const USAGE_CSV_COLUMNS = [
  "CampaignId",
  "Calls",
  "BilledSeconds",
  "TestJobCalls",
  "TestJobBilledSeconds",
] as const;

/**
 * The same as CSV: a header row, then one row per campaign (GroupBy=CampaignId) or a single total
 * row whose CampaignId is the CampaignId filter (empty for all campaigns).
 */
export async function getUsageCsv({ ctx, query }: { ctx: Ctx; query: UsageQuery }): Promise<string> {
  const u = await getUsage({ ctx, query });
  const rows: UsageGroup[] = query.GroupBy ? u.Groups : [{ CampaignId: query.CampaignId ?? "", ...u }];
  return toCsv([
    [...USAGE_CSV_COLUMNS],
    ...rows.map((g) => [g.CampaignId, g.Calls, g.BilledSeconds, g.TestJobCalls, g.TestJobBilledSeconds]),
  ]);
}
