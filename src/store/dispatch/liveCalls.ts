import type { Queryable } from "../db.ts";

interface CounterRow {
  org_id: string;
  campaign_id: string;
  direction: string;
  shard: number;
  n: number;
}

/**
 * Folds the live-call counters (table live_calls, one row per session shard) into one row per
 * organization, campaign and direction (shard -1), and drops those that sum to zero, so that the
 * claims' sums read few rows however many sessions came and went. Run it in a transaction: the rows
 * are locked (in key order, the order the trigger writes them in) and read with their latest
 * committed values, then exactly those are deleted and their sums added to the folded rows; rows
 * that sessions create meanwhile are left for the next time. Returns the rows folded away.
 */
export async function foldLiveCallCounters(q: Queryable): Promise<number> {
  const locked = await q.query<CounterRow>(
    `select org_id, campaign_id, direction, shard, n from live_calls where shard <> -1
     order by org_id, campaign_id, direction, shard for update`,
  );
  if (locked.rows.length === 0) return 0;
  const rows = JSON.stringify(locked.rows);
  await q.query(
    `delete from live_calls l using jsonb_to_recordset($1::jsonb) as x(org_id text, campaign_id text, direction text, shard integer)
     where l.org_id = x.org_id and l.campaign_id = x.campaign_id and l.direction = x.direction and l.shard = x.shard`,
    [rows],
  );
  await q.query(
    `insert into live_calls as l (org_id, campaign_id, direction, shard, n)
     select org_id, campaign_id, direction, -1, sum(n)
     from jsonb_to_recordset($1::jsonb) as x(org_id text, campaign_id text, direction text, n integer)
     group by 1, 2, 3 order by 1, 2, 3
     on conflict (org_id, campaign_id, direction, shard) do update set n = l.n + excluded.n`,
    [rows],
  );
  await q.query("delete from live_calls where shard = -1 and n = 0");
  return locked.rows.length;
}
