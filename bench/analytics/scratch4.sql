create or replace function t_local_hour2(p_campaign_id text, p_job_id text, p_contact text, p_at timestamptz) returns smallint
language plpgsql as $$
declare
  h smallint;
begin
  select extract(hour from p_at at time zone coalesce(jz.name, pz.name, sz.name, 'UTC'))::smallint into h
  from campaigns c
  left join jobs j on j.id = p_job_id
  left join analytics_zones jz on jz.lower_name = lower(j.time_zone)
  left join analytics_zones sz on sz.lower_name = lower(c.schedule ->> 'TimeZone')
  cross join lateral (select translate(coalesce(j.phone_number, p_contact), '+ ().-', '') as d) d
  left join lateral (
    select z.name from analytics_phone_zones p join analytics_zones z on z.lower_name = lower(p.zone)
    where jz.name is null and p.prefix in (left(d.d, 1), left(d.d, 2), left(d.d, 3), left(d.d, 4), left(d.d, 5), left(d.d, 6), left(d.d, 7), left(d.d, 8), left(d.d, 9))
    order by length(p.prefix) desc limit 1
  ) pz on true
  where c.id = p_campaign_id;
  return h;
end
$$;
insert into analytics_zones values ('america/new_york','America/New_York'), ('america/los_angeles', 'America/Los_Angeles') on conflict do nothing;
