import { chmodSync, mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Db, Queryable, QueryResult } from "./db.ts";

/** Embedded PostgreSQL (WASM). `dir` null keeps it in memory (tests). One process at a time. */
export async function openPglite(dir: string | null): Promise<Db> {
  if (dir) {
    // The database's own files are created readable and writable by all, whatever the umask: its
    // directory is made its owner's alone, as it holds the contacts' data.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  const pg = dir ? new PGlite(dir) : new PGlite();
  await pg.waitReady;
  const wrap = (q: Pick<PGlite, "query" | "exec">): Queryable => ({
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const r = await q.query<T>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  });
  const base = wrap(pg);
  return {
    kind: "pglite",
    query: base.query,
    exec: base.exec,
    tx: (fn) => pg.transaction((t) => fn(wrap(t))),
    listen: (channel, fn) => pg.listen(channel, fn),
    close: () => pg.close(),
  };
}
