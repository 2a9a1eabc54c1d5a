import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Db } from "./db.ts";
import type { NewJobRow } from "./jobs.ts";
import type { PostgresDb } from "./postgres.ts";

/**
 * The bulk path for job imports on a real PostgreSQL: rows are streamed with COPY into a temporary
 * staging table, then moved into `jobs` with one INSERT ... SELECT that also writes their events.
 * Same semantics as insertJobs (jobs.ts): a number on the organization's opt-out list gives a job
 * created failed/opted_out (events job.created, job.opted_out, job.failed), and a row whose
 * ExternalId is already taken in the campaign is skipped and reported.
 */

export const canBulkInsert = (db: Db): db is PostgresDb => db.kind === "postgres" && "pool" in db;

/** A NewJobRow with its position in the caller's batch. */
export interface BulkJobRow extends NewJobRow {
  index: number;
}

const STAGE = "cobbery_import_stage";
const STAGE_COLUMNS =
  "idx, id, phone_number, external_id, contact_name, metadata, data, test_job, hangup_opt_out, time_zone, next_call_at";

// Per connection, emptied at each commit; created once per pooled connection, outside transactions.
const CREATE_STAGE = `create temporary table if not exists ${STAGE} (
  idx integer not null, id text not null, phone_number text not null, external_id text, contact_name text,
  metadata jsonb not null, data jsonb, test_job boolean not null, hangup_opt_out boolean, time_zone text,
  next_call_at timestamptz
) on commit delete rows`;

const OPTED_OUT = `'{"state": "failed", "failure_reason": "opted_out"}'::jsonb`;

const MOVE = `with ins as (
    insert into jobs (id, org_id, campaign_id, phone_number, external_id, contact_name, metadata, data,
      test_job, hangup_opt_out, time_zone, state, failure_reason, failure_message, next_call_at, ended_at)
    select s.id, $1, $2, s.phone_number, s.external_id, s.contact_name, s.metadata, s.data,
      s.test_job, s.hangup_opt_out, s.time_zone,
      case when o.phone_number is null then 'pending' else 'failed' end,
      case when o.phone_number is null then null else 'opted_out' end,
      case when o.phone_number is null then null else 'The number is on the opt-out list.' end,
      case when o.phone_number is null then s.next_call_at end,
      case when o.phone_number is null then null else now() end
    from ${STAGE} s left join opt_outs o on o.org_id = $1 and o.phone_number = s.phone_number
    order by s.id
    on conflict (campaign_id, external_id) where external_id is not null do nothing
    returning id, test_job, state
  ), ev as (
    insert into events (org_id, campaign_id, job_id, event, test_job, properties)
    select $1, $2, ins.id, e.event, ins.test_job, e.properties
    from ins cross join lateral (values
      (1, 'job.created', '{"state": "pending"}'::jsonb),
      (2, 'job.opted_out', ${OPTED_OUT}),
      (3, 'job.failed', ${OPTED_OUT})
    ) as e(n, event, properties)
    where e.n = 1 or ins.state = 'failed'
    order by ins.id, e.n
  )
  select count(*)::int as created from ins`;

const SKIPPED = `select s.idx from ${STAGE} s
  where s.external_id is not null and not exists (select 1 from jobs j where j.id = s.id)
  order by s.idx`;

/** COPY text format: backslash, tab, newline and carriage return are escaped; null is \N. */
const NEEDS_ESCAPE = /[\\\t\n\r]/;
function copyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}
const nullable = (s: string | null): string => (s === null ? "\\N" : copyText(s));
const bool = (b: boolean | null): string => (b === null ? "\\N" : b ? "t" : "f");

function copyLines(rows: readonly BulkJobRow[]): string {
  let out = "";
  for (const r of rows) {
    out += `${r.index}\t${r.id}\t${copyText(r.phone_number)}\t${nullable(r.external_id)}\t${nullable(r.contact_name)}\t${copyText(JSON.stringify(r.metadata))}\t${r.data === null ? "\\N" : copyText(JSON.stringify(r.data))}\t${bool(r.test_job)}\t${bool(r.hangup_opt_out)}\t${nullable(r.time_zone)}\t${r.next_call_at ?? "\\N"}\n`;
  }
  return out;
}

const staged = new WeakSet<pg.PoolClient>();

async function copyRows(client: pg.PoolClient, text: string): Promise<void> {
  const stream = client.query(copyFrom(`copy ${STAGE} (${STAGE_COLUMNS}) from stdin`));
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    stream.end(Buffer.from(text, "utf8"));
  });
}

/**
 * Inserts the rows (and their events) in one transaction. Returns the `index` of every row skipped
 * because its ExternalId is already used in the campaign (or earlier in the same rows).
 */
export async function insertJobsBulk(
  db: PostgresDb,
  orgId: string,
  campaignId: string,
  rows: readonly BulkJobRow[],
): Promise<number[]> {
  if (rows.length === 0) return [];
  const text = copyLines(rows);
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    if (!staged.has(client)) {
      await client.query(CREATE_STAGE);
      staged.add(client);
    }
    await client.query("begin");
    try {
      await copyRows(client, text);
      const r = await client.query<{ created: number }>(MOVE, [orgId, campaignId]);
      let skipped: number[] = [];
      if (r.rows[0]!.created < rows.length) {
        skipped = (await client.query<{ idx: number }>(SKIPPED)).rows.map((x) => x.idx);
      }
      await client.query("commit");
      return skipped;
    } catch (e) {
      await client.query("rollback").catch(() => {});
      throw e;
    }
  } catch (e) {
    // The connection's state (its staging table, a half-done COPY) is unknown: do not reuse it.
    broken = e as Error;
    throw e;
  } finally {
    client.release(broken);
  }
}
