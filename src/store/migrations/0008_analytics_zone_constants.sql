-- 0004 first shipped (until 25c5a47) looked contact zones up in tables, with a subtransaction for a
-- zone not seen before; it was then rewritten to compile them into constants (two immutable
-- functions, analytics_known_zones() and analytics_phone_zones(), see 0004). A database migrated by
-- the first 0004 kept its tables: this brings it to what 0004 creates now, and changes nothing on
-- one migrated by the current 0004 (where analytics_phone_zones is no table). The prefix -> zone
-- rows are the ones the first 0004 stored in its table, which the current 0004 carries too.
do $migration$
declare
  known jsonb;
  phones jsonb;
begin
  if to_regclass('analytics_phone_zones') is null then
    return;
  end if;
  select jsonb_object_agg(lower(name), name) into known
  from (select distinct on (lower(name)) name from pg_timezone_names order by lower(name), name) z;
  select jsonb_object_agg(p.prefix, p.zone) into phones from analytics_phone_zones p where known ? lower(p.zone);
  execute format('create function analytics_known_zones() returns jsonb language sql immutable parallel safe as %L',
    format('select %L::jsonb', known));
  execute format('create function analytics_phone_zones() returns jsonb language sql immutable parallel safe as %L',
    format('select %L::jsonb', phones));
  drop function analytics_known_zone(text);
  drop table analytics_zones;
  drop table analytics_phone_zones;
end
$migration$;

-- The functions and the trigger as the current 0004 defines them (the first 0004's versions read the
-- tables above); on a database migrated by the current 0004 they are the same again.

-- The zone of a contact, as src/schedule contactZones: the job's TimeZone, else the phone number's
-- (the first zone of its longest known prefix), else the campaign's Schedule.TimeZone; a zone this
-- server does not know is skipped; UTC when none is left. No query: constant lookups only.
create or replace function analytics_contact_zone(job_zone text, phone text, schedule_zone text) returns text
language plpgsql immutable parallel safe as $$
declare
  digits text;
begin
  if phone ~ '^\+[0-9 ().-]+$' then
    digits := translate(phone, '+ ().-', '');
  end if;
  return coalesce(
    analytics_known_zones() ->> lower(job_zone),
    analytics_phone_zones() ->> left(digits, 9), analytics_phone_zones() ->> left(digits, 8),
    analytics_phone_zones() ->> left(digits, 7), analytics_phone_zones() ->> left(digits, 6),
    analytics_phone_zones() ->> left(digits, 5), analytics_phone_zones() ->> left(digits, 4),
    analytics_phone_zones() ->> left(digits, 3), analytics_phone_zones() ->> left(digits, 2),
    analytics_phone_zones() ->> left(digits, 1),
    analytics_known_zones() ->> lower(schedule_zone),
    'UTC');
end
$$;

-- The local hour at `p_at` of the contact of a call of a campaign (p_job_id null: no job); the
-- contact's number is the job's, else `p_contact` (the call's side of the contact). The campaign is
-- read only when neither the job's TimeZone nor the number gives a zone.
create or replace function analytics_local_hour(p_campaign_id text, p_job_id text, p_contact text, p_at timestamptz)
returns smallint
language plpgsql as $$
declare
  job_zone text;
  phone text := p_contact;
  zone text;
begin
  if p_job_id is not null then
    select j.time_zone, coalesce(j.phone_number, p_contact) into job_zone, phone from jobs j where j.id = p_job_id;
  end if;
  zone := analytics_contact_zone(job_zone, phone, null);
  if zone = 'UTC' then
    select analytics_contact_zone(job_zone, phone, c.schedule ->> 'TimeZone') into zone
    from campaigns c where c.id = p_campaign_id;
  end if;
  return extract(hour from p_at at time zone coalesce(zone, 'UTC'))::smallint;
end
$$;

-- Calls of test jobs, which analytics leave out, get no local hour; the dispatcher gives the hour of
-- the calls it places itself, so the trigger only fills in the others.
drop trigger calls_analytics_local_hour on calls;
create trigger calls_analytics_local_hour before insert or update on calls
for each row
when (new.local_hour is null and not new.test_job
  and (new.dialed_at is not null or (new.direction = 'inbound' and new.job_id is not null)))
execute function analytics_set_local_hour();
