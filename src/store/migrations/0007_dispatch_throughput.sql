-- Less work per call for the dispatcher (bench/dispatch): every index is maintained on every new
-- row version, and a call writes several job, call and event versions.

-- UpdatedSince lists scan the organization's or campaign's jobs instead; this index made every
-- job update a non-HOT one.
drop index jobs_org_updated;
-- Event uuids are random v4 values made by the database: unique by construction, never looked up.
alter table events drop constraint events_uuid_key;
-- Calls are listed by job and summed by organization and time (usage); these were unused.
drop index calls_org;
drop index calls_campaign;
-- Room in each page so that updates touching no indexed column stay on the page (HOT): a call is
-- updated twice after its insert (dialed, ended).
alter table jobs set (fillfactor = 85);
alter table calls set (fillfactor = 70);
-- A call's organization and campaign are copied from its job's in the statement that inserts it, and
-- neither is ever deleted: checking them again per row cost the claim a lookup and a row lock each.
alter table calls drop constraint calls_org_id_fkey;
alter table calls drop constraint calls_campaign_id_fkey;

-- Live calls (not ended) per organization, campaign and direction, for the concurrency limits. A claim reads
-- them while it holds its organization's and campaigns' locks, so that read must be cheap: counting
-- the calls themselves costs one heap visit per live call. Each database session adds to its own
-- shard (its backend pid modulo 64), so that sessions writing calls at once never wait on each
-- other's counter rows; the live count is the sum of a campaign's shards.
create table live_calls (
  org_id text not null,
  campaign_id text not null,
  direction text not null,
  shard integer not null,
  n integer not null,
  primary key (org_id, campaign_id, direction, shard)
);

insert into live_calls (org_id, campaign_id, direction, shard, n)
select org_id, campaign_id, direction, 0, count(*) from calls where ended_at is null group by 1, 2, 3;

create function live_calls_changed() returns trigger
language plpgsql as $$
declare
  s integer := pg_backend_pid() % 64;
begin
  -- Rows are upserted in key order so that two sessions sharing a shard lock them in one order.
  -- (A claim that takes its jobs before its organization's lock and one that takes them after can
  -- still deadlock on a shared shard's row: PostgreSQL aborts one and its worker claims again.)
  if tg_op = 'INSERT' then
    insert into live_calls as l (org_id, campaign_id, direction, shard, n)
    select org_id, campaign_id, direction, s, count(*) from new_rows where ended_at is null
    group by 1, 2, 3 order by 1, 2, 3
    on conflict (org_id, campaign_id, direction, shard) do update set n = l.n + excluded.n;
  elsif tg_op = 'UPDATE' then
    insert into live_calls as l (org_id, campaign_id, direction, shard, n)
    select org_id, campaign_id, direction, s, sum(d) from (
      select org_id, campaign_id, direction, -1 as d from old_rows where ended_at is null
      union all
      select org_id, campaign_id, direction, 1 from new_rows where ended_at is null
    ) x
    group by 1, 2, 3 having sum(d) <> 0 order by 1, 2, 3
    on conflict (org_id, campaign_id, direction, shard) do update set n = l.n + excluded.n;
  else
    insert into live_calls as l (org_id, campaign_id, direction, shard, n)
    select org_id, campaign_id, direction, s, -count(*) from old_rows where ended_at is null
    group by 1, 2, 3 order by 1, 2, 3
    on conflict (org_id, campaign_id, direction, shard) do update set n = l.n + excluded.n;
  end if;
  return null;
end
$$;

create function live_calls_truncated() returns trigger
language plpgsql as $$
begin
  delete from live_calls;
  return null;
end
$$;

create trigger calls_live_insert after insert on calls
referencing new table as new_rows for each statement execute function live_calls_changed();
create trigger calls_live_update after update on calls
referencing old table as old_rows new table as new_rows for each statement execute function live_calls_changed();
create trigger calls_live_delete after delete on calls
referencing old table as old_rows for each statement execute function live_calls_changed();
create trigger calls_live_truncate after truncate on calls
for each statement execute function live_calls_truncated();

-- The partial indexes on live calls served only the counts above; without them, a call's ending
-- changes no indexed column and can be a HOT update.
drop index calls_live_campaign;
drop index calls_live_org;
