import type { Db } from "./db.ts";

// Serialises the check of processes starting together on one database.
const LOCK_ID = 7_242_026_002;

/**
 * A database restored onto another server (pg_dump, pg_restore) keeps the first server's
 * transaction ids in `events.tx_id` and in the cursors of the consumers that read events in commit
 * order (webhook fan-out, event forwarding; see ADR 5). A younger server hands out lower ids, so
 * every new event would sort before the cursors and never be delivered or forwarded. A cursor ahead
 * of the server's current id cannot happen on one server, so it marks such a move: then every event
 * is renumbered into one old transaction (id 1, keeping its seq) and each cursor is moved just before
 * the first event it had not consumed. A consumer may see again a few events it had already handled
 * near its cursor, never skip one: deliveries are unique per webhook and event, and PostHog dedupes
 * an event by its uuid. Returns whether it rebased.
 */
export async function rebaseMovedEventCursors(db: Db): Promise<boolean> {
  return db.tx(async (q) => {
    await q.query("select pg_advisory_xact_lock($1)", [LOCK_ID]);
    const r = await q.query<{ moved: boolean }>(
      `select exists (select 1 from webhook_cursor where tx_id > pg_current_xact_id())
         or exists (select 1 from event_forwarding where last_tx_id > pg_current_xact_id()) as moved`,
    );
    if (!r.rows[0]?.moved) return false;
    // Each cursor's first unconsumed event, before the renumbering: after it in the old order, or
    // written on this server since the restore (a lower id, a higher seq).
    await q.query(
      `update webhook_cursor c set tx_id = '1',
         seq = coalesce((select min(e.seq) - 1 from events e
           where (e.tx_id, e.seq) > (c.tx_id, c.seq) or (e.tx_id <= pg_current_xact_id() and e.seq > c.seq)),
           (select coalesce(max(seq), 0) from events))`,
    );
    await q.query(
      `update event_forwarding f set last_tx_id = '1',
         last_seq = coalesce((select min(e.seq) - 1 from events e
           where (e.tx_id, e.seq) > (f.last_tx_id, f.last_seq) or (e.tx_id <= pg_current_xact_id() and e.seq > f.last_seq)),
           (select coalesce(max(seq), 0) from events))
       where f.last_tx_id <> '0'`,
    );
    await q.query("update events set tx_id = '1' where tx_id <> '1'");
    return true;
  });
}
