-- Counts the changes of a campaign's calling windows (TimeZone, Windows, BlackoutDates). A job's
-- next call time is worked out from the schedule a worker read earlier (at its claim, or when a
-- conversation started); if the windows changed since, the version differs and the job is made due
-- at its wanted time instead, so that the next claim places it by the windows as they are now. A new
-- column with a constant default rewrites nothing.
alter table campaigns add column schedule_version integer not null default 0;
