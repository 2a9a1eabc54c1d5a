-- The dispatcher: leases with fencing tokens on jobs, live calls, workers, the simulated carrier.

alter table jobs
  -- increases at every claim and every recovery: a write carrying an older token changes nothing.
  add column fence bigint not null default 0,
  add column lease_owner text,
  add column lease_expires_at timestamptz,
  -- the call the job is on (queued, ringing or connected), if any.
  add column live_call_id text,
  -- a call-back the contact asked for: the next call may go past MaxAttempts.
  add column callback_due boolean not null default false,
  -- when the job is due before the calling window is applied (creation, retry delay, call-back time):
  -- NextCallAt is this moved into the next open window, and is recomputed from it when windows change.
  add column due_at timestamptz not null default now();

-- Recovery finds the jobs whose worker stopped renewing its lease.
create index jobs_leases on jobs (lease_expires_at) where lease_owner is not null;

alter table calls
  add column fence bigint,
  add column carrier_call_id text,
  add column dialed_at timestamptz;

-- Live calls, counted against MaxConcurrentCalls and the organization's limit.
create index calls_live_campaign on calls (campaign_id) where ended_at is null;
create index calls_live_org on calls (org_id) where ended_at is null;

create table workers (
  id text primary key,
  pid integer not null,
  host text not null,
  started_at timestamptz not null default now(),
  heartbeat_at timestamptz not null default now(),
  stopped_at timestamptz
);

-- How each phone behaves in the simulated carrier, per organization.
create table sim_contacts (
  org_id text not null references organizations(id),
  phone_number text not null,
  calls jsonb not null,
  -- outbound calls made to it since it was (re)registered: the n-th follows calls[n].
  calls_made integer not null default 0,
  created_at timestamptz not null default now(),
  primary key (org_id, phone_number)
);
