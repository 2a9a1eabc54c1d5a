import path from "node:path";
import type { Db } from "./db.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";

export * from "./analytics.ts";
export * from "./calls.ts";
export * from "./campaigns.ts";
export * from "./conversations.ts";
export type { Db, Queryable, QueryResult, Row } from "./db.ts";
export { PG_UNIQUE_VIOLATION, pgConstraint, pgErrorCode } from "./db.ts";
export { failDueJobs, rescheduleJobs } from "./dispatch/claim.ts";
export { rebaseMovedEventCursors } from "./eventCursors.ts";
export * from "./events.ts";
export * from "./eventsQuery.ts";
export * from "./exports.ts";
export * from "./idempotency.ts";
export * from "./inbound.ts";
export * from "./jobRows.ts";
export * from "./jobs.ts";
export { isMigrated, listMigrations, migrate } from "./migrate.ts";
export * from "./optOuts.ts";
export * from "./orgs.ts";
export { openPglite } from "./pglite.ts";
export { erasePii } from "./pii.ts";
export { openPostgres, type PostgresDb } from "./postgres.ts";
export * from "./usage.ts";
export * from "./webhooks.ts";

/** The database the configuration names: a real server via DATABASE_URL, else PGlite in the data dir. */
export async function openDatabase(cfg: {
  databaseUrl: string | null;
  dataDir: string;
  dispatch?: { leaseSeconds: number };
}): Promise<Db> {
  // Twice the lease, at least a minute: past it a frozen worker's transaction is rolled back, so
  // its locks free the jobs for the reaper; no transaction of ours idles that long (the longest
  // wait inside one is an HTTP request with a shorter timeout).
  const idleInTransactionMs = Math.max(2 * (cfg.dispatch?.leaseSeconds ?? 30), 60) * 1000;
  if (cfg.databaseUrl) return openPostgres(cfg.databaseUrl, 10, { idleInTransactionMs });
  return openPglite(path.join(cfg.dataDir, "pgdata"));
}

/** The database's clock: every scheduling decision uses it, never the process's. */
export async function dbNow(q: import("./db.ts").Queryable): Promise<Date> {
  const r = await q.query<{ now: Date }>("select now() as now");
  return r.rows[0]!.now;
}
