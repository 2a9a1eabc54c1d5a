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
    async listen(channel, fn, gaps) {
      // LISTEN needs a session of its own, outside the pool. When it ends other than by the stop
      // returned here (the server restarted, the session was terminated), it is opened again, every
      // 0.5 s at first, then at most every 10 s; the first open's failure is the caller's.
      let stopped = false;
      let current: pg.Client | null = null;
      let retry: NodeJS.Timeout | null = null;
      const open = async (): Promise<pg.Client> => {
        const client = new pg.Client({ connectionString: url });
        // An error ends the session: "end" follows, and reopens it.
        client.on("error", () => {});
        client.on("notification", (n) => {
          if (n.channel === channel) fn(n.payload ?? "");
        });
        try {
          await client.connect();
          await client.query(`listen ${pg.escapeIdentifier(channel)}`);
        } catch (e) {
          await client.end().catch(() => {});
          throw e;
        }
        client.once("end", () => {
          if (stopped || current !== client) return;
          current = null;
          gaps?.onLost?.();
          reopen(500);
        });
        return client;
      };
      const reopen = (delayMs: number): void => {
        retry = setTimeout(async () => {
          retry = null;
          if (stopped) return;
          try {
            const client = await open();
            if (stopped) {
              await client.end().catch(() => {});
              return;
            }
            current = client;
            gaps?.onGap?.();
          } catch {
            reopen(Math.min(delayMs * 2, 10_000));
          }
        }, delayMs);
        retry.unref();
      };
      current = await open();
      return async () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        await current?.end().catch(() => {});
      };
    },
    close: () => pool.end(),
  };
}
