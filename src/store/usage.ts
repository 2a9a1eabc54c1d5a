import type { Queryable } from "./db.ts";

export interface UsageFilter {
  campaignId?: string | undefined;
  /** Calls started at or after this time. */
  from?: Date | undefined;
  /** Calls started before this time. */
  to?: Date | undefined;
}

export interface UsageRow {
  campaign_id: string | null;
  calls: number;
  billed_seconds: number;
  test_calls: number;
  test_billed_seconds: number;
}

/**
 * Calls placed or taken, and their billed seconds (already computed on each call: connected seconds
 * rounded up, 0 for ring time, unanswered and rejected calls), by start time in [from, to). Outbound
 * calls count once handed to the carrier (dialed_at set); inbound calls all count, rejected included.
 * Grouped by campaign when `byCampaign`, else one total row.
 */
export async function usageRows(
  q: Queryable,
  orgId: string,
  f: UsageFilter,
  byCampaign: boolean,
): Promise<UsageRow[]> {
  const r = await q.query<UsageRow>(
    `select ${byCampaign ? "campaign_id" : "null::text as campaign_id"},
       count(*)::bigint as calls,
       coalesce(sum(billed_seconds), 0)::bigint as billed_seconds,
       count(*) filter (where test_job)::bigint as test_calls,
       coalesce(sum(billed_seconds) filter (where test_job), 0)::bigint as test_billed_seconds
     from calls
     where org_id = $1
       and (direction = 'inbound' or dialed_at is not null)
       and ($2::text is null or campaign_id = $2)
       and ($3::timestamptz is null or started_at >= $3)
       and ($4::timestamptz is null or started_at < $4)
     ${byCampaign ? "group by campaign_id order by campaign_id" : ""}`,
    [orgId, f.campaignId ?? null, f.from?.toISOString() ?? null, f.to?.toISOString() ?? null],
  );
  return r.rows.map((x) => ({
    campaign_id: x.campaign_id,
    calls: Number(x.calls),
    billed_seconds: Number(x.billed_seconds),
    test_calls: Number(x.test_calls),
    test_billed_seconds: Number(x.test_billed_seconds),
  }));
}

/** How these calls ended (those that have): Status and EndReason only. */
export async function callEndings(
  q: Queryable,
  callIds: readonly string[],
): Promise<Array<{ status: string; end_reason: string | null }>> {
  if (callIds.length === 0) return [];
  const r = await q.query<{ status: string; end_reason: string | null }>(
    "select status, end_reason from calls where id = any($1::text[]) and ended_at is not null",
    [callIds],
  );
  return r.rows;
}

/** Live calls (not ended yet) across all organizations, by direction: counts only. */
export async function countLiveCalls(q: Queryable): Promise<Record<"inbound" | "outbound", number>> {
  const r = await q.query<{ direction: "inbound" | "outbound"; n: number }>(
    "select direction, sum(n)::int as n from live_calls group by direction",
  );
  const out = { inbound: 0, outbound: 0 };
  for (const x of r.rows) out[x.direction] = x.n;
  return out;
}

/** Webhook deliveries stored, by status: counts only. */
export async function countWebhookDeliveries(q: Queryable): Promise<Record<string, number>> {
  const r = await q.query<{ status: string; n: number }>(
    "select status, count(*)::int as n from webhook_deliveries group by status",
  );
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
}
