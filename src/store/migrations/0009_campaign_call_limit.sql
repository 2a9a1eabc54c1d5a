-- The campaign's MaxConcurrentCalls as a column: the claim compares it with the live calls for every
-- due job it looks at, and reading it from the schedule parsed the whole json document each time.
alter table campaigns
  add column max_concurrent_calls integer generated always as ((schedule ->> 'MaxConcurrentCalls')::int) stored;
