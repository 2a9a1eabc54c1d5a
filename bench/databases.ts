/** Throwaway databases for the benchmarks, on the server of an admin URL. */
import pg from "pg";

/** The URL of another database on the same server. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(adminUrl: string, statements: readonly string[]): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    for (const sql of statements) await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Drops and creates database `name` (left behind by a previous run, for inspection); returns its URL. */
export async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  await admin(adminUrl, [`drop database if exists "${name}" with (force)`, `create database "${name}"`]);
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await admin(adminUrl, [`drop database if exists "${name}" with (force)`]);
}
