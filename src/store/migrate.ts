import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Db } from "./db.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));
// Serialises concurrent starts (several workers on one server) around the migrations.
const LOCK_ID = 7_242_026_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(MIGRATIONS_DIR + f, "utf8") }));
}

/** Applies the migrations not yet applied, each in its own transaction. Returns their names. */
export async function migrate(db: Db): Promise<string[]> {
  return db.tx(async (q) => {
    await q.query("select pg_advisory_xact_lock($1)", [LOCK_ID]);
    await q.query(
      "create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())",
    );
    const done = new Set(
      (await q.query<{ version: number }>("select version from schema_migrations")).rows.map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of listMigrations()) {
      if (done.has(m.version)) continue;
      await q.exec(m.sql);
      await q.query("insert into schema_migrations (version, name) values ($1, $2)", [m.version, m.name]);
      applied.push(m.name);
    }
    return applied;
  });
}

export async function isMigrated(db: Db): Promise<boolean> {
  // The table the unqualified name finds, as every query here does: another application's
  // schema_migrations in another schema of the same database is none of ours.
  const r = await db.query<{ found: boolean }>(
    "select to_regclass('schema_migrations') is not null as found",
  );
  if (r.rows[0]?.found !== true) return false;
  const v = await db.query<{ v: number | null }>("select max(version) as v from schema_migrations");
  const latest = listMigrations().at(-1)?.version ?? 0;
  return (v.rows[0]?.v ?? 0) >= latest;
}
