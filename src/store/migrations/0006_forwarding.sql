-- Analytics forwarding (PostHog) and usage.

-- The transaction that wrote each event (0005, webhooks, adds it too; whichever runs first does).
-- Events get their seq when inserted but become visible when their transaction commits, which is not
-- always in seq order: forwarding orders by (tx_id, seq) and reads only events of transactions older
-- than every running one (pg_snapshot_xmin), so that it never steps over an event committed late.
alter table events add column if not exists tx_id xid8 not null default pg_current_xact_id();
create index if not exists events_tx on events (tx_id, seq);

-- How far each destination has been sent: advanced in the transaction that sends a batch, with the
-- row locked, so that two workers never send the same events.
create table event_forwarding (
  destination text primary key,
  last_tx_id xid8 not null default '0',
  last_seq bigint not null default 0,
  -- on the embedded database (one process) a batch is sent outside the transaction, under this lease.
  lease_until timestamptz,
  forwarded bigint not null default 0,
  updated_at timestamptz not null default now()
);

-- Usage: calls of an organization by start time.
create index calls_org_started on calls (org_id, started_at);
