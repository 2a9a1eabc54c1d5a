-- The key that makes event cursors opaque (an enciphered position in the log): the position itself,
-- a server-wide sequence number, would tell a reader how many events every organization together
-- has written between two of its pages. Made once per database from two random uuids: 32 bytes,
-- 244 of them random.
create table instance_secrets (
  name text collate "C" primary key,
  value bytea not null
);
insert into instance_secrets (name, value)
values ('event_cursor_key',
        decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
