-- Cobbery schema, version 1: tenancy, campaigns, jobs, calls, opt-outs, events, idempotency.
-- Times are timestamptz; ids are prefixed, time-ordered text (see src/ids).

create table organizations (
  id text primary key,
  name text not null unique,
  created_at timestamptz not null default now()
);

create table api_keys (
  id text primary key,
  org_id text not null references organizations(id),
  -- sha256 of the whole key: keys carry 192 random bits, so a fast hash is enough.
  key_hash text not null unique,
  -- the first characters of the key, to recognise it in a list.
  hint text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_org on api_keys (org_id, id);

create table campaigns (
  id text primary key,
  org_id text not null references organizations(id),
  name text not null,
  status text not null check (status in ('active', 'paused', 'archived')),
  status_reason text,
  -- json, not jsonb: the user's key order (flow nodes, AnalysisSchema properties = export columns) is kept.
  agent json not null,
  analysis_schema json not null,
  objective_prompt text,
  inbound_mode text not null check (inbound_mode in ('reject', 'lookup', 'lookup_failed', 'create_if_not_exists', 'create')),
  inbound_reject_message text not null,
  phone_numbers text[] not null default '{}',
  hangup_opt_out boolean not null default false,
  schedule json not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index campaigns_org on campaigns (org_id, id);

-- Which campaign owns a phone number: one non-archived campaign across all organizations.
create table campaign_numbers (
  phone_number text primary key,
  campaign_id text not null references campaigns(id)
);
create index campaign_numbers_campaign on campaign_numbers (campaign_id);

create table jobs (
  id text primary key,
  org_id text not null references organizations(id),
  campaign_id text not null references campaigns(id),
  phone_number text,
  external_id text,
  contact_name text,
  metadata jsonb not null default '{}',
  data jsonb,
  test_job boolean not null default false,
  hangup_opt_out boolean,
  time_zone text,
  state text not null check (state in ('pending', 'in_progress', 'completed', 'canceled', 'failed', 'deleted')),
  -- the state a deleted job had before its PII was erased, so analytics keep counting it there.
  state_before_deletion text,
  failure_reason text,
  failure_message text,
  attempts integer not null default 0,
  -- attempts made before the last retry: a retry allows MaxAttempts more attempts.
  attempts_base integer not null default 0,
  callbacks integer not null default 0,
  next_call_at timestamptz,
  result jsonb,
  summary text,
  objective_met boolean,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ended_at timestamptz
);
create unique index jobs_external_id on jobs (campaign_id, external_id) where external_id is not null;
create index jobs_campaign on jobs (campaign_id, id);
create index jobs_org on jobs (org_id, id);
create index jobs_org_phone on jobs (org_id, phone_number) where phone_number is not null;
create index jobs_org_updated on jobs (org_id, updated_at);
-- The dispatcher's queue: due pending jobs.
create index jobs_due on jobs (next_call_at) where state = 'pending';

create table calls (
  id text primary key,
  org_id text not null references organizations(id),
  campaign_id text not null references campaigns(id),
  job_id text references jobs(id),
  direction text not null check (direction in ('outbound', 'inbound')),
  from_number text,
  to_number text,
  status text not null check (status in ('queued', 'ringing', 'in_progress', 'completed', 'busy', 'no_answer', 'failed', 'canceled', 'rejected')),
  answered_by text check (answered_by in ('human', 'voicemail', 'unknown')),
  attempt integer,
  test_job boolean not null default false,
  started_at timestamptz not null default now(),
  answered_at timestamptz,
  ended_at timestamptz,
  duration_seconds integer,
  billed_seconds integer not null default 0,
  end_reason text,
  transcript jsonb not null default '[]'
);
create index calls_job on calls (job_id, id);
create index calls_campaign on calls (campaign_id, id);
create index calls_org on calls (org_id, id);

create table opt_outs (
  -- lists page oldest first on this, so a cursor never carries a phone number.
  seq bigint generated always as identity unique,
  org_id text not null references organizations(id),
  phone_number text not null,
  created_at timestamptz not null default now(),
  primary key (org_id, phone_number)
);

create table events (
  seq bigint generated always as identity primary key,
  uuid uuid not null unique default gen_random_uuid(),
  org_id text not null,
  campaign_id text,
  job_id text,
  call_id text,
  event text not null,
  test_job boolean not null default false,
  occurred_at timestamptz not null default now(),
  -- product-analytics properties: ids, states and reasons only, never PII.
  properties jsonb not null default '{}'
);
create index events_org on events (org_id, seq);
create index events_job on events (job_id, seq);
create index events_campaign on events (campaign_id, seq);

create table idempotency_keys (
  org_id text not null,
  key text not null,
  method text not null,
  path text not null,
  request_hash text not null,
  state text not null check (state in ('running', 'done')),
  status_code integer,
  response_body text,
  -- ids of the jobs the response mentions, so PII deletion can erase it.
  job_ids text[] not null default '{}',
  created_at timestamptz not null default now(),
  primary key (org_id, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);
create index idempotency_keys_jobs on idempotency_keys using gin (job_ids);
