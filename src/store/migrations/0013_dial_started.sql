-- A carrier outside the database (any real one) cannot take a call back when the transaction that
-- records it rolls back. Before handing calls to such a carrier, the dispatcher commits that their
-- dial begins: from then on an attempt may have been dialed, and a worker lost before it recorded
-- the carrier's answer leaves an attempt that counts (retried as a new one), never one dialed again.
alter table calls add column dial_started_at timestamptz;
