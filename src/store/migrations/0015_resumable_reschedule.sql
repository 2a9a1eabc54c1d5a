-- A change of a campaign's windows, its archive or fewer MaxAttempts re-places its waiting jobs in
-- chunks after the change commits. The work still to do is recorded with the change, in the same
-- transaction: reschedule_from is the id after which jobs are still to be placed ('' = all of them,
-- null = none), reschedule_at when the work last moved on. A process that stops during it leaves
-- the record, and another one (or the same, restarted) finishes the work.
alter table campaigns add column reschedule_from text collate "C", add column reschedule_at timestamptz;
create index campaigns_reschedule on campaigns (reschedule_at) where reschedule_from is not null;
