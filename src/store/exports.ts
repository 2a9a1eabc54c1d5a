import type { Queryable } from "./db.ts";

/** The columns a campaign's results export has beyond the fixed ones. */
export interface ExportColumns {
  /** AnalysisSchema property names, in the schema's order (the column is json: key order is kept). */
  analysis: string[];
  /** Every Metadata key used by the campaign's jobs, sorted (code-unit order). */
  metadata: string[];
}

/** The campaign's export columns, or null when the campaign is not the organization's. */
export async function exportColumns(
  q: Queryable,
  orgId: string,
  campaignId: string,
): Promise<ExportColumns | null> {
  const found = await q.query<{ id: string }>("select id from campaigns where id = $1 and org_id = $2", [
    campaignId,
    orgId,
  ]);
  if (found.rows.length === 0) return null;
  // json_object_keys on json (not jsonb) returns the keys as written: the schema's order.
  const analysis = await q.query<{ key: string }>(
    `select t.key from campaigns c,
       json_object_keys(case when json_typeof(c.analysis_schema -> 'properties') = 'object'
         then c.analysis_schema -> 'properties' end) with ordinality as t(key, n)
     where c.id = $1 order by t.n`,
    [campaignId],
  );
  const metadata = await q.query<{ key: string }>(
    `select distinct k.key from jobs j, jsonb_object_keys(j.metadata) as k(key)
     where j.campaign_id = $1 and jsonb_typeof(j.metadata) = 'object'`,
    [campaignId],
  );
  return {
    analysis: [...new Set(analysis.rows.map((r) => r.key))],
    metadata: metadata.rows.map((r) => r.key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

export interface ExportJobRow {
  id: string;
  external_id: string | null;
  state: string;
  failure_reason: string | null;
  result: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
}

/** One page of a campaign's jobs for the export, by id after `after`. */
export async function exportJobPage(
  q: Queryable,
  campaignId: string,
  after: string | null,
  limit: number,
): Promise<ExportJobRow[]> {
  const r = await q.query<ExportJobRow>(
    `select id, external_id, state, failure_reason, result, metadata from jobs
     where campaign_id = $1 and ($2::text is null or id > $2)
     order by id limit $3`,
    [campaignId, after, limit],
  );
  return r.rows;
}
