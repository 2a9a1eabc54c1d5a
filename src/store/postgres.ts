import pg from "pg";
import type { Db, Queryable, QueryResult } from "./db.ts";

// Counts come back as int8; they fit in a double, and PGlite returns numbers too.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresDb extends Db {
  readonly pool: pg.Pool;
}

export interface PostgresOptions {
  /**
   * The server ends a session left idle inside a transaction this long (a process frozen by
   * SIGSTOP, a debugger, a stalled VM), rolling it back: its locks would otherwise hold up pauses,
   * cancels and the recovery of its leases for as long as it stays frozen. Unset: no limit.
   */
  idleInTransactionMs?: number;
}

export async function openPostgres(url: string, max = 10, opts: PostgresOptions = {}): Promise<PostgresDb> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    ...(opts.idleInTransactionMs ? { idle_in_transaction_session_timeout: opts.idleInTransactionMs } : {}),
  });
  // A client that dies while idle must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async exec(sql: string): Promise<void> {
      await c.query(sql);
    },
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const r = await c.query(sql, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  });
  await pool.query("select 1");
  const base = wrap(pool);
  return {
    kind: "postgres",
    pool,
    query: base.query,
    exec: base.exec,
    async tx(fn) {
      const client = await pool.connect();
      // A connection that dies while checked out emits 'error' on the client: without a listener
      // it would crash the process. The broken client is discarded on release.
      let broken: Error | undefined;
      const onError = (e: Error) => {
        broken = e;
      };
      client.on("error", onError);
      try {
        await client.query("begin");
        const out = await fn(wrap(client));
        await client.query("commit");
        return out;
      } catch (e) {
        await client.query("rollback").catch(() => {});
        throw e;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },
    async listen(channel, fn) {
      // LISTEN needs a session of its own, outside the pool.
      const client = new pg.Client({ connectionString: url });
      client.on("error", () => {});
      await client.connect();
      client.on("notification", (n) => {
        if (n.channel === channel) fn(n.payload ?? "");
      });
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      return async () => {
        await client.end().catch(() => {});
      };
    },
    close: () => pool.end(),
  };
}
