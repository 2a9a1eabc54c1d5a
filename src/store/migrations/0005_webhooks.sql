-- Webhooks (Standard Webhooks): endpoints, a durable outbox of deliveries, and the fan-out cursor
-- over the events table.

-- The transaction that wrote each event. Identity values are taken at insert but become visible at
-- commit, so a cursor over seq alone could step past an event whose transaction commits late. The
-- fan-out reads events in (tx_id, seq) order and only those of transactions older than every
-- transaction still running (pg_snapshot_xmin): no event can appear later behind its cursor.
-- Rows that exist now all get this migration's transaction id.
alter table events add column if not exists tx_id xid8 not null default pg_current_xact_id();
create index if not exists events_tx on events (tx_id, seq);

create table webhooks (
  id text primary key,
  org_id text not null references organizations(id),
  url text not null,
  -- event names, or '*' for all of them.
  events text[] not null,
  -- whsec_ + base64 of 32 random bytes; shown on creation and on GET of one webhook.
  secret text not null,
  created_at timestamptz not null default now(),
  -- set for good when the endpoint answers 410 Gone: no fan-out, no delivery after that.
  disabled_at timestamptz
);
create index webhooks_org on webhooks (org_id, id);
create index webhooks_active on webhooks (org_id) where disabled_at is null;

-- One row per (event, webhook): the outbox. Its body is snapshotted at fan-out time.
create table webhook_deliveries (
  id text primary key,
  org_id text not null,
  webhook_id text not null references webhooks(id) on delete cascade,
  event_seq bigint not null,
  event_type text not null,
  event_at timestamptz not null,
  -- the webhook-id header: the same on every attempt, so receivers can deduplicate.
  message_id text not null unique,
  -- the job (job.* and call.* events) and call (call.* and inbound.rejected) the body shows:
  -- PII deletion rewrites the body of the job's deliveries.
  job_id text,
  call_id text,
  -- the body's "data" (the Job or the Call as the API returns it); json keeps the key order.
  data json not null,
  status text not null check (status in ('pending', 'delivered', 'failed', 'abandoned')),
  -- attempts started; also the fencing token of the attempt under way (a stale worker's write
  -- carries an older value and changes nothing).
  attempts integer not null default 0,
  last_status_code integer,
  last_error text,
  -- when pending: when the next attempt is due (during an attempt, when its lease expires).
  next_attempt_at timestamptz,
  -- the lease of the attempt under way: past it, another worker may try again.
  attempting_until timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (webhook_id, event_seq)
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_webhook on webhook_deliveries (webhook_id, id);
create index webhook_deliveries_job on webhook_deliveries (job_id) where job_id is not null;

-- How far the fan-out has read the events: one row, locked by the worker fanning out.
create table webhook_cursor (
  id boolean primary key default true check (id),
  tx_id xid8 not null,
  seq bigint not null,
  updated_at timestamptz not null default now()
);
-- Events written before webhooks existed are not delivered.
insert into webhook_cursor (tx_id, seq) select pg_current_xact_id(), coalesce(max(seq), 0) from events;
