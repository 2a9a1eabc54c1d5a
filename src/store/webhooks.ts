import { idFloor } from "../ids/index.ts";
import { type CallRow, toCall } from "./calls.ts";
import type { Queryable } from "./db.ts";
import { type JobRow, toJob } from "./jobRows.ts";

/** A webhook endpoint of an organization. */
export interface WebhookRow {
  id: string;
  org_id: string;
  url: string;
  events: string[];
  secret: string;
  created_at: Date;
  disabled_at: Date | null;
}

export type DeliveryStatus = "pending" | "delivered" | "failed" | "abandoned";

/** A delivery as the log shows it (its body stays in the database). */
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_type: string;
  message_id: string;
  job_id: string | null;
  call_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}

// ---- Endpoints -------------------------------------------------------------------------------

export async function insertWebhook(
  q: Queryable,
  w: { id: string; orgId: string; url: string; events: readonly string[]; secret: string },
): Promise<WebhookRow> {
  const r = await q.query<WebhookRow>(
    `insert into webhooks (id, org_id, url, events, secret) values ($1, $2, $3, $4::text[], $5)
     returning *`,
    [w.id, w.orgId, w.url, w.events, w.secret],
  );
  return r.rows[0]!;
}

export async function getWebhookRow(q: Queryable, orgId: string, id: string): Promise<WebhookRow | null> {
  const r = await q.query<WebhookRow>("select * from webhooks where org_id = $1 and id = $2", [orgId, id]);
  return r.rows[0] ?? null;
}

export async function listWebhookRows(
  q: Queryable,
  orgId: string,
  after: string | null,
  limit: number,
): Promise<WebhookRow[]> {
  const r = await q.query<WebhookRow>(
    "select * from webhooks where org_id = $1 and ($2::text is null or id > $2) order by id limit $3",
    [orgId, after, limit],
  );
  return r.rows;
}

/** Deletes the webhook and its delivery log; a delivery under way records nothing afterwards. */
export async function deleteWebhookRow(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const r = await q.query("delete from webhooks where org_id = $1 and id = $2", [orgId, id]);
  return r.rowCount > 0;
}

export async function listDeliveryRows(
  q: Queryable,
  webhookId: string,
  after: string | null,
  limit: number,
): Promise<DeliveryRow[]> {
  const r = await q.query<DeliveryRow>(
    `select id, webhook_id, event_type, message_id, job_id, call_id, status, attempts, last_status_code,
       last_error, next_attempt_at, delivered_at, created_at
     from webhook_deliveries where webhook_id = $1 and ($2::text is null or id > $2) order by id limit $3`,
    [webhookId, after, limit],
  );
  return r.rows;
}

// ---- Fan-out: events -> deliveries ---------------------------------------------------------------

export interface WebhookCursor {
  /** xid8 as text. */
  tx_id: string;
  seq: number;
}

export interface OutboxEvent {
  seq: number;
  tx_id: string;
  uuid: string;
  org_id: string;
  job_id: string | null;
  call_id: string | null;
  event: string;
  occurred_at: Date;
}

/** Locks the fan-out cursor; null when another worker holds it (that worker is fanning out). */
export async function lockWebhookCursor(q: Queryable): Promise<WebhookCursor | null> {
  const r = await q.query<WebhookCursor>(
    "select tx_id::text as tx_id, seq from webhook_cursor for update skip locked",
  );
  return r.rows[0] ?? null;
}

/**
 * Events after the cursor, in (tx_id, seq) order, written by transactions older than every one
 * still running: once these are read, no event can commit behind them.
 */
export async function eventsAfterCursor(
  q: Queryable,
  c: WebhookCursor,
  limit: number,
): Promise<OutboxEvent[]> {
  const r = await q.query<OutboxEvent>(
    `select seq, tx_id::text as tx_id, uuid::text as uuid, org_id, job_id, call_id, event, occurred_at
     from events
     where (tx_id, seq) > ($1::xid8, $2::bigint) and tx_id < pg_snapshot_xmin(pg_current_snapshot())
     order by tx_id, seq limit $3`,
    [c.tx_id, c.seq, limit],
  );
  return r.rows;
}

/**
 * With no active webhook anywhere, moves the cursor past every settled event at once. One
 * statement, so one snapshot. Returns whether any active webhook exists.
 */
export async function skipCursorWhenNoWebhooks(q: Queryable): Promise<boolean> {
  const r = await q.query<{ any_active: boolean }>(
    `with last as (
       select tx_id, seq from events where tx_id < pg_snapshot_xmin(pg_current_snapshot())
       order by tx_id desc, seq desc limit 1
     ), moved as (
       update webhook_cursor c set tx_id = last.tx_id, seq = last.seq, updated_at = now()
       from last
       where not exists (select 1 from webhooks where disabled_at is null)
         and (last.tx_id, last.seq) > (c.tx_id, c.seq)
       returning 1
     )
     select exists (select 1 from webhooks where disabled_at is null) as any_active,
       (select count(*) from moved) as moved`,
  );
  return r.rows[0]?.any_active === true;
}

export async function advanceWebhookCursor(q: Queryable, c: WebhookCursor): Promise<void> {
  await q.query("update webhook_cursor set tx_id = $1::xid8, seq = $2, updated_at = now()", [c.tx_id, c.seq]);
}

export async function activeWebhooksOf(q: Queryable, orgIds: readonly string[]): Promise<WebhookRow[]> {
  if (orgIds.length === 0) return [];
  const r = await q.query<WebhookRow>(
    // FOR SHARE: a webhook being disabled or deleted waits for this fan-out, then sees its deliveries.
    "select * from webhooks where org_id = any($1::text[]) and disabled_at is null order by id for share",
    [orgIds],
  );
  return r.rows;
}

export async function jobRowsByIds(q: Queryable, ids: readonly string[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  return (await q.query<JobRow>("select * from jobs where id = any($1::text[])", [ids])).rows;
}

export async function callRowsByIds(q: Queryable, ids: readonly string[]): Promise<CallRow[]> {
  if (ids.length === 0) return [];
  return (await q.query<CallRow>("select * from calls where id = any($1::text[])", [ids])).rows;
}

export interface NewDelivery {
  id: string;
  org_id: string;
  webhook_id: string;
  event_seq: number;
  event_type: string;
  event_at: string;
  message_id: string;
  job_id: string | null;
  call_id: string | null;
  /** The body's data as JSON text (kept verbatim: json, not jsonb). */
  data: string;
}

/** Inserts pending deliveries, due now; an (event, webhook) pair already there is left alone. */
export async function insertDeliveries(q: Queryable, rows: readonly NewDelivery[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await q.query(
    `insert into webhook_deliveries (id, org_id, webhook_id, event_seq, event_type, event_at, message_id,
       job_id, call_id, data, status, next_attempt_at)
     select id, org_id, webhook_id, event_seq, event_type, event_at, message_id, job_id, call_id,
       data::json, 'pending', now()
     from jsonb_to_recordset($1::jsonb) as x(id text, org_id text, webhook_id text, event_seq bigint,
       event_type text, event_at timestamptz, message_id text, job_id text, call_id text, data text)
     order by id
     on conflict do nothing`,
    [JSON.stringify(rows)],
  );
  return r.rowCount;
}

/**
 * Deletes up to `limit` deliveries that are over (delivered, failed, abandoned) and were made before
 * `before`, oldest first; pending ones stay whatever their age. Delivery ids begin with their
 * creation time, so the primary key finds them in age order without an index of its own.
 */
export async function pruneDeliveries(q: Queryable, before: Date, limit: number): Promise<number> {
  const r = await q.query(
    `with old as (
       select id from webhook_deliveries
       where id < $1 and status <> 'pending'
       order by id limit $2
       for update skip locked
     )
     delete from webhook_deliveries d using old where d.id = old.id`,
    [idFloor("dlv", before.getTime()), limit],
  );
  return r.rowCount;
}

// ---- Delivery: claim, send, record -------------------------------------------------------------

export interface ClaimedDelivery {
  id: string;
  org_id: string;
  webhook_id: string;
  message_id: string;
  event_type: string;
  event_at: Date;
  /** The body's data as JSON text, exactly as stored. */
  data: string;
  /** This attempt's number, and the fencing token its outcome must carry. */
  attempts: number;
  url: string;
  secret: string;
}

/** What a claim may take: `limit` in all, and no webhook past `perWebhook` attempts of this worker. */
export interface ClaimRoom {
  limit: number;
  perWebhook: number;
  /** This worker's attempts under way, by webhook id. */
  inFlight: ReadonlyMap<string, number>;
}

/**
 * Claims due deliveries of active webhooks with a lease: the attempt count goes up (it is the
 * fencing token) and the next attempt moves to the lease's end, so that a worker that dies mid-way
 * leaves the delivery to be tried again once the lease has run out.
 *
 * The room is shared out fairly between webhooks (water-filling): the n-th delivery a webhook would
 * get ranks at its attempts under way plus n, and the lowest ranks win, oldest first among equals.
 * So an endpoint that hangs with a large backlog holds at most `perWebhook` of a worker's slots,
 * and the deliveries of every other webhook keep going out beside it, instead of waiting in due
 * order behind the whole backlog.
 *
 * In three steps, one statement: the webhooks with pending deliveries, found by skipping through
 * the index from one webhook to the next (a deployment's idle webhooks cost nothing); each one's
 * share, ranked without locks; then, per webhook, that many due deliveries locked with SKIP LOCKED.
 * So a claim locks only what it takes, and a worker claiming at the same moment takes the next
 * ones instead of none. Returns what it took, and the sum of the shares: fewer taken than shared
 * means some due deliveries were locked elsewhere (another claim, a PII erasure) and may be free
 * again at once.
 */
export async function claimDueDeliveries(
  q: Queryable,
  room: ClaimRoom,
  leaseSeconds: number,
): Promise<{ claimed: ClaimedDelivery[]; shares: number }> {
  if (room.limit <= 0) return { claimed: [], shares: 0 };
  const r = await q.query<ClaimedDelivery & { shares: number }>(
    `with recursive pending_webhooks(id) as (
       (select webhook_id from webhook_deliveries where status = 'pending' order by webhook_id limit 1)
       union all
       select (select d.webhook_id from webhook_deliveries d
               where d.status = 'pending' and d.webhook_id > p.id order by d.webhook_id limit 1)
       from pending_webhooks p where p.id is not null
     ), mine as (
       select webhook_id, n from jsonb_to_recordset($3::jsonb) as x(webhook_id text, n integer)
     ), active as (
       select w.id, coalesce(m.n, 0) as busy
       from pending_webhooks p join webhooks w on w.id = p.id left join mine m on m.webhook_id = w.id
       where w.disabled_at is null and coalesce(m.n, 0) < $4
     ), ranked as (
       select a.id, c.next_attempt_at,
         a.busy + row_number() over (partition by a.id order by c.next_attempt_at) as level
       from active a cross join lateral (
         select d.next_attempt_at from webhook_deliveries d
         where d.webhook_id = a.id and d.status = 'pending' and d.next_attempt_at <= now()
         order by d.next_attempt_at
         limit least($4 - a.busy, $1)
       ) c
     ), shares as (
       select id, count(*) as n
       from (select id from ranked order by level, next_attempt_at limit $1) chosen group by id
     ), due as (
       select c.id from shares s cross join lateral (
         select d.id from webhook_deliveries d
         where d.webhook_id = s.id and d.status = 'pending' and d.next_attempt_at <= now()
         order by d.next_attempt_at
         limit s.n
         for update skip locked
       ) c
     ), taken as (
       update webhook_deliveries d
       set attempts = d.attempts + 1,
         attempting_until = now() + make_interval(secs => $2),
         next_attempt_at = now() + make_interval(secs => $2)
       from due, webhooks w
       where d.id = due.id and w.id = d.webhook_id and w.disabled_at is null
       returning d.id, d.org_id, d.webhook_id, d.message_id, d.event_type, d.event_at, d.data::text as data,
         d.attempts, w.url, w.secret
     )
     -- One row at least, to carry the shares even when nothing was taken.
     select (select coalesce(sum(n), 0) from shares)::integer as shares, t.*
     from (select 1) as one left join taken t on true`,
    [
      room.limit,
      leaseSeconds,
      JSON.stringify([...room.inFlight].map(([webhook_id, n]) => ({ webhook_id, n }))),
      room.perWebhook,
    ],
  );
  return {
    claimed: r.rows.filter((x) => x.id !== null).map(({ shares: _, ...d }) => d),
    shares: r.rows[0]?.shares ?? 0,
  };
}

export interface AttemptOutcome {
  id: string;
  /** The attempt number the claim returned: the write is fenced on it. */
  attempts: number;
  statusCode: number | null;
  error: string | null;
  /** delivered (2xx), retry (after retryInSeconds), or failed for good. */
  kind: "delivered" | "retry" | "failed";
  retryInSeconds?: number;
}

/**
 * Writes the outcomes of attempts, in one statement however many. Each write is fenced on its
 * attempt number: an attempt whose lease expired and was re-claimed meanwhile writes nothing.
 * An attempt under way when a 410 disabled its webhook (its delivery abandoned) still writes what
 * the endpoint answered (status code and error of that attempt): delivered or failed as it was, a
 * retry staying abandoned with no next attempt. Returns the ids of the deliveries it wrote.
 */
export async function recordOutcomes(
  q: Queryable,
  outcomes: readonly AttemptOutcome[],
): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const r = await q.query<{ id: string }>(
    `update webhook_deliveries d set
       status = case x.kind when 'retry' then d.status else x.kind end,
       delivered_at = case when x.kind = 'delivered' then now() end,
       last_status_code = x.status_code,
       last_error = case when x.kind = 'delivered' then null else x.error end,
       next_attempt_at = case when x.kind = 'retry' and d.status = 'pending'
                              then now() + make_interval(secs => x.retry_in) end,
       attempting_until = null
     from jsonb_to_recordset($1::jsonb) as x(id text, attempts integer, kind text, status_code integer,
       error text, retry_in double precision)
     where d.id = x.id and d.attempts = x.attempts and d.status in ('pending', 'abandoned')
     returning d.id`,
    [
      JSON.stringify(
        outcomes.map((o) => ({
          id: o.id,
          attempts: o.attempts,
          kind: o.kind,
          status_code: o.statusCode,
          error: o.error,
          retry_in: o.retryInSeconds ?? null,
        })),
      ),
    ],
  );
  return new Set(r.rows.map((x) => x.id));
}

/** Disables the webhook for good and abandons its pending deliveries. Returns how many it abandoned. */
export async function disableWebhook(q: Queryable, webhookId: string): Promise<number> {
  await q.query("update webhooks set disabled_at = coalesce(disabled_at, now()) where id = $1", [webhookId]);
  const r = await q.query(
    `update webhook_deliveries set status = 'abandoned', next_attempt_at = null, attempting_until = null,
       last_error = coalesce(last_error, 'The webhook was disabled: its endpoint answered 410 Gone.')
     where webhook_id = $1 and status = 'pending'`,
    [webhookId],
  );
  return r.rowCount;
}

// ---- PII deletion ----------------------------------------------------------------------------------

/**
 * Rewrites the stored bodies of the jobs' deliveries after their PII was erased (called by
 * erasePii, in its transaction): `data` becomes the Job, or the Call, as the API now returns it.
 * Delivered ones too, so that no copy of the contact's details stays in the outbox.
 */
export async function scrubWebhookDeliveries(
  q: Queryable,
  orgId: string,
  jobIds: readonly string[],
): Promise<void> {
  if (jobIds.length === 0) return;
  const jobs = await q.query<JobRow>(
    `select * from jobs j where j.org_id = $1 and j.id = any($2::text[])
       and exists (select 1 from webhook_deliveries d where d.job_id = j.id)`,
    [orgId, jobIds],
  );
  if (jobs.rows.length === 0) return;
  const calls = await q.query<CallRow>(
    `select * from calls where id in (
       select call_id from webhook_deliveries where job_id = any($1::text[]) and call_id is not null)`,
    [jobs.rows.map((j) => j.id)],
  );
  await q.query(
    `update webhook_deliveries d set data = x.data::json
     from jsonb_to_recordset($1::jsonb) as x(id text, data text)
     where d.job_id = x.id and d.event_type like 'job.%'`,
    [JSON.stringify(jobs.rows.map((j) => ({ id: j.id, data: JSON.stringify(toJob(j)) })))],
  );
  await q.query(
    `update webhook_deliveries d set data = x.data::json
     from jsonb_to_recordset($1::jsonb) as x(id text, data text)
     where d.call_id = x.id and d.event_type not like 'job.%'`,
    [JSON.stringify(calls.rows.map((c) => ({ id: c.id, data: JSON.stringify(toCall(c)) })))],
  );
}
