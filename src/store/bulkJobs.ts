import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Schedule } from "../domain/campaign.ts";
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

const STAGE = "cobbery_import_stage";
const STAGE_COLUMNS =
  "idx, id, phone_number, external_id, contact_name, metadata, data, test_job, hangup_opt_out, time_zone, call_slot";

// One per pooled connection (temporary tables are per session), created on its first bulk insert and
// emptied by each move.
const CREATE_STAGE = `create temporary table if not exists ${STAGE} (
  idx integer not null, id text not null, phone_number text not null, external_id text, contact_name text,
  metadata jsonb not null, data jsonb, test_job boolean not null, hangup_opt_out boolean, time_zone text,
  call_slot integer not null
)`;

const OPTED_OUT = `'{"state": "failed", "failure_reason": "opted_out"}'::jsonb`;

/**
 * Moves the staged rows into jobs and events and empties the stage, as one simple-protocol query (one
 * round trip, one implicit transaction). It answers how many jobs were created and which staged rows
 * were skipped for their ExternalId.
 */
const move = (org: string, campaign: string, callTimes: string): string => `with ins as (
    insert into jobs (id, org_id, campaign_id, phone_number, external_id, contact_name, metadata, data,
      test_job, hangup_opt_out, time_zone, state, failure_reason, failure_message, next_call_at, ended_at)
    select s.id, ${org}, ${campaign}, s.phone_number, s.external_id, s.contact_name, s.metadata, s.data,
      s.test_job, s.hangup_opt_out, s.time_zone,
      case when o.phone_number is null then 'pending' else 'failed' end,
      case when o.phone_number is null then null else 'opted_out' end,
      case when o.phone_number is null then null else 'The number is on the opt-out list.' end,
      case when o.phone_number is null then (${callTimes}::timestamptz[])[s.call_slot] end,
      case when o.phone_number is null then null else now() end
    from ${STAGE} s left join opt_outs o on o.org_id = ${org} and o.phone_number = s.phone_number
    order by s.id
    on conflict (campaign_id, external_id) where external_id is not null do nothing
    returning id, test_job, state
  ), ev as (
    insert into events (org_id, campaign_id, job_id, event, test_job, properties)
    select ${org}, ${campaign}, ins.id, e.event, ins.test_job, e.properties
    from ins cross join lateral (values
      (1, 'job.created', '{"state": "pending"}'::jsonb),
      (2, 'job.opted_out', ${OPTED_OUT}),
      (3, 'job.failed', ${OPTED_OUT})
    ) as e(n, event, properties)
    where e.n = 1 or ins.state = 'failed'
    order by ins.id, e.n
  )
  select (select count(*)::int from ins) as created,
    array(select s.idx from ${STAGE} s
      where s.external_id is not null and not exists (select 1 from ins where ins.id = s.id)
      order by s.idx) as skipped;
  truncate ${STAGE}`;

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

/**
 * The rows of one bulk insert, written as COPY text into a buffer as they are added: a row costs its
 * hundred-odd bytes outside the JS heap, not a graph of objects kept alive until the write. A row's
 * first dial time is named by a slot (1-based) into the list of times given to insertJobsBulk: those
 * need the database's clock, read just before the write, and are shared by many rows.
 */
export class BulkJobBatch {
  private buf = Buffer.allocUnsafe(256 * 1024);
  private used = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** Adds a row; `index` is its position in the caller's batch, reported back for skipped rows. */
  add(index: number, r: Omit<NewJobRow, "next_call_at">, slot: number): void {
    const line = `${index}\t${r.id}\t${copyText(r.phone_number)}\t${nullable(r.external_id)}\t${nullable(r.contact_name)}\t${copyText(JSON.stringify(r.metadata))}\t${r.data === null ? "\\N" : copyText(JSON.stringify(r.data))}\t${bool(r.test_job)}\t${bool(r.hangup_opt_out)}\t${nullable(r.time_zone)}\t${slot}\n`;
    const room = line.length * 3; // UTF-8 bytes per UTF-16 unit, at most
    if (this.used + room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + room));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(line, this.used, "utf8");
    this.count++;
  }

  /** The COPY payload. */
  payload(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}

const staged = new WeakSet<pg.PoolClient>();

async function copyRows(client: pg.PoolClient, payload: Buffer): Promise<void> {
  const stream = client.query(copyFrom(`copy ${STAGE} (${STAGE_COLUMNS}) from stdin`));
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    stream.end(payload);
  });
}

/**
 * Inserts the rows (and their events) atomically: COPY into the connection's staging table, then one
 * statement moves them. Returns the `index` of every row skipped because its ExternalId is already
 * used in the campaign (or earlier in the same rows).
 */
export async function insertJobsBulk(
  db: PostgresDb,
  orgId: string,
  campaignId: string,
  rows: BulkJobBatch,
  /**
   * The first dial times (ISO, or null for never) that rows name by slot (slot 1 is the first), from
   * the campaign's schedule and the database time, both read in the moving transaction. It may
   * throw (an archived campaign): nothing is inserted.
   */
  callTimes: (campaign: { schedule: Schedule; status: string }, now: Date) => ReadonlyArray<string | null>,
): Promise<number[]> {
  if (rows.length === 0) return [];
  const payload = rows.payload();
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    if (!staged.has(client)) {
      await client.query(CREATE_STAGE);
      staged.add(client);
    }
    await copyRows(client, payload);
    await client.query("begin");
    // The windows as they are now, held until commit: a change of them waits for this move, or
    // commits first and is read here (see createJobsBatch).
    const c = await client.query<{ schedule: Schedule; status: string; now: Date }>(
      "select schedule, status, now() as now from campaigns where id = $1 for key share",
      [campaignId],
    );
    const current = c.rows[0];
    if (!current) throw new Error(`bulk insert: campaign ${campaignId} not found`);
    const times = callTimes(current, current.now);
    // Simple protocol (no parameters) so that the move and the truncate travel together.
    const results = (await client.query(
      move(
        client.escapeLiteral(orgId),
        client.escapeLiteral(campaignId),
        client.escapeLiteral(`{${times.map((t) => (t === null ? "NULL" : `"${t}"`)).join(",")}}`),
      ),
    )) as unknown as pg.QueryResult[];
    const r = results[0]!.rows[0] as { created: number; skipped: number[] };
    if (r.created + r.skipped.length !== rows.length) {
      throw new Error(
        `bulk insert: ${rows.length} rows staged, ${r.created} created, ${r.skipped.length} skipped`,
      );
    }
    await client.query("commit");
    return r.skipped;
  } catch (e) {
    // The connection's state (rows left in its stage, a half-done COPY) is unknown: do not reuse it.
    broken = e as Error;
    throw e;
  } finally {
    client.release(broken);
  }
}
