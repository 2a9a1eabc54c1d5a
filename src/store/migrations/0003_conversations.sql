-- Conversations: what a job's calls have learned so far (saved answers, questions answered), so
-- that the next call resumes at the first question not yet answered. PII: erased with the job's.
alter table jobs add column conversation jsonb not null default '{}';
-- The state a job had when an inbound call resumed it: a call that ends with no outcome restores it.
alter table jobs add column resumed_from text;
