import type { Db, Queryable } from "./db.ts";

/** An events row as the readers (API, forwarding) need it. */
export interface EventRow {
  seq: number;
  uuid: string;
  org_id: string;
  campaign_id: string | null;
  job_id: string | null;
  call_id: string | null;
  event: string;
  test_job: boolean;
  occurred_at: Date;
  properties: Record<string, unknown>;
}

const COLUMNS =
  "seq, uuid::text as uuid, org_id, campaign_id, job_id, call_id, event, test_job, occurred_at, properties";

export interface EventFilter {
  campaignId?: string | undefined;
  jobId?: string | undefined;
  event?: string | undefined;
  since?: Date | undefined;
}

/** An organization's events after `afterSeq`, oldest first. */
export async function listEventRows(
  q: Queryable,
  orgId: string,
  f: EventFilter,
  afterSeq: number | null,
  limit: number,
): Promise<EventRow[]> {
  const r = await q.query<EventRow>(
    `select ${COLUMNS} from events
     where org_id = $1
       and ($2::bigint is null or seq > $2)
       and ($3::text is null or campaign_id = $3)
       and ($4::text is null or job_id = $4)
       and ($5::text is null or event = $5)
       and ($6::timestamptz is null or occurred_at >= $6)
     order by seq limit $7`,
    [
      orgId,
      afterSeq,
      f.campaignId ?? null,
      f.jobId ?? null,
      f.event ?? null,
      f.since?.toISOString() ?? null,
      limit,
    ],
  );
  return r.rows;
}

/** The key of event cursors (migration 0014): 32 bytes. */
export async function eventCursorKey(q: Queryable): Promise<Buffer> {
  const r = await q.query<{ value: Uint8Array }>(
    "select value from instance_secrets where name = 'event_cursor_key'",
  );
  const value = r.rows[0]?.value;
  if (!value) throw new Error("instance_secrets has no event_cursor_key: is the database migrated?");
  return Buffer.from(value);
}

/** Where a destination's forwarding stands: events after (tx_id, seq) are still to send. */
interface ForwardCursor {
  last_tx_id: string;
  last_seq: number;
  lease_until: Date | null;
  now: Date;
}

async function lockCursor(q: Queryable, destination: string): Promise<ForwardCursor | null> {
  await q.query("insert into event_forwarding (destination) values ($1) on conflict do nothing", [
    destination,
  ]);
  const r = await q.query<ForwardCursor>(
    `select last_tx_id::text as last_tx_id, last_seq, lease_until, now() as now from event_forwarding
     where destination = $1 for update`,
    [destination],
  );
  return r.rows[0] ?? null;
}

/**
 * The next events to send after the cursor, all organizations, in (tx_id, seq) order: only events of
 * transactions that ended before every transaction still running, so none can appear behind them.
 */
async function nextEvents(
  q: Queryable,
  c: ForwardCursor,
  limit: number,
): Promise<Array<EventRow & { tx_id: string }>> {
  const r = await q.query<EventRow & { tx_id: string }>(
    `select ${COLUMNS}, tx_id::text as tx_id from events
     where (tx_id, seq) > ($1::text::xid8, $2::bigint)
       and tx_id < pg_snapshot_xmin(pg_current_snapshot())
     order by tx_id, seq limit $3`,
    [c.last_tx_id, c.last_seq, limit],
  );
  return r.rows;
}

async function advance(
  q: Queryable,
  destination: string,
  last: { tx_id: string; seq: number },
  sent: number,
  from?: ForwardCursor,
): Promise<boolean> {
  const r = await q.query(
    `update event_forwarding set last_tx_id = $2::text::xid8, last_seq = $3, lease_until = null,
       forwarded = forwarded + $4, updated_at = now()
     where destination = $1
       and ($5::text is null or (last_tx_id = $5::text::xid8 and last_seq = $6))`,
    [destination, last.tx_id, last.seq, sent, from?.last_tx_id ?? null, from?.last_seq ?? null],
  );
  return r.rowCount > 0;
}

export type ForwardResult = { kind: "sent"; count: number } | { kind: "idle" } | { kind: "busy" };

/**
 * Sends the next batch of events to one destination; two workers never send the same batch. (Were
 * the cursor's advance to fail after the destination took the batch, it would be sent again: PostHog
 * can deduplicate it by uuid.)
 *
 * No transaction stays open during `send`: a short one takes a lease on the cursor, the batch is sent
 * outside it, and the cursor is advanced only if it has not moved meanwhile. A transaction held open
 * for the request would hold back every reader of settled events (the webhook fan-out, this
 * forwarder) for as long as the destination takes to answer, since they read only events of
 * transactions older than every one still running; on the embedded database (one connection) it
 * would stall every other query, calls included. `leaseSeconds` must exceed the time `send` may
 * take; a worker lost mid-send leaves the batch to another once the lease has run out.
 */
export async function forwardEvents(
  db: Db,
  destination: string,
  limit: number,
  leaseSeconds: number,
  send: (events: readonly EventRow[]) => Promise<void>,
): Promise<ForwardResult> {
  const cursor = await db.tx(async (q) => {
    const c = await lockCursor(q, destination);
    if (!c || (c.lease_until && c.lease_until.getTime() > c.now.getTime())) return null;
    const lease = await q.query<{ lease: string }>(
      `update event_forwarding set lease_until = now() + make_interval(secs => $2) where destination = $1
       returning lease_until::text as lease`,
      [destination, leaseSeconds],
    );
    return { ...c, lease: lease.rows[0]?.lease ?? "" };
  });
  if (!cursor) return { kind: "busy" };
  try {
    const events = await nextEvents(db, cursor, limit);
    const last = events.at(-1);
    if (!last) return { kind: "idle" };
    await send(events);
    return (await advance(db, destination, last, events.length, cursor))
      ? { kind: "sent", count: events.length }
      : { kind: "busy" };
  } finally {
    await db
      .query(
        "update event_forwarding set lease_until = null where destination = $1 and lease_until = $2::timestamptz",
        [destination, cursor.lease],
      )
      .catch(() => {});
  }
}
