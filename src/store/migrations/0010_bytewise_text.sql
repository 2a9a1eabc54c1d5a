-- Text compares bytewise (COLLATE "C"). Cobbery's text columns hold ids (ULIDs), codes and phone
-- numbers, which it looks up, joins and sorts by the millions; compared by the database's locale,
-- each comparison in an index went through strcoll. Equality is unchanged (the database's collation
-- is deterministic), and the only text any query sorts is ids, whose byte order is their time order.
-- Tables created by later migrations should say COLLATE "C" on their text columns too.

-- A trigger whose condition reads calls.direction and calls.job_id pins their type: it is put back
-- as it was after.
drop trigger calls_analytics_local_hour on calls;

-- One ALTER TABLE per table, so that each is rewritten once.
do $$
declare
  r record;
begin
  for r in
    select c.relname,
      string_agg(format('alter column %I type text collate "C"', a.attname), ', ' order by a.attnum) as alters
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and a.atttypid = 'text'::regtype
      and a.attcollation <> 'pg_catalog."C"'::regcollation
    group by c.relname
    order by c.relname
  loop
    execute format('alter table %I %s', r.relname, r.alters);
  end loop;
end
$$;

create trigger calls_analytics_local_hour before insert or update on calls
for each row
when (new.local_hour is null and not new.test_job
  and (new.dialed_at is not null or (new.direction = 'inbound' and new.job_id is not null)))
execute function analytics_set_local_hour();
