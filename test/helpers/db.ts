import { randomBytes } from "node:crypto";
import pg from "pg";
import { type Db, openPglite, openPostgres } from "../../src/store/index.ts";

/** Which database the suite runs on: COBBERY_TEST_DB=pglite (default) or postgres. */
export const TEST_DB = process.env.COBBERY_TEST_DB === "postgres" ? "postgres" : "pglite";

/** The options of a test that holds transactions open side by side: PGlite runs one at a time. */
export const CONCURRENT_TRANSACTIONS = {
  skip: TEST_DB !== "postgres" ? "needs concurrent transactions (COBBERY_TEST_DB=postgres)" : false,
} as const;
export const TEST_DATABASE_URL =
  process.env.COBBERY_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  db: Db;
  /** The URL of the throwaway database on the real server, null on PGlite. */
  url: string | null;
  drop(): Promise<void>;
}

/** A fresh, empty database: in-memory PGlite, or a throwaway database on the real server. */
export async function freshDatabase(kind: "pglite" | "postgres" = TEST_DB): Promise<TestDatabase> {
  if (kind === "pglite") {
    const db = await openPglite(null);
    return { db, url: null, drop: () => db.close() };
  }
  const name = `cobbery_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.toString());
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * Runs `statements` in a transaction on its own connection and leaves it uncommitted, holding what
 * they locked: `commit()` ends it.
 */
export async function uncommitted(
  url: string,
  statements: ReadonlyArray<[sql: string, params: unknown[]]>,
): Promise<{ commit(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("begin");
    for (const [sql, params] of statements) await client.query(sql, params);
  } catch (e) {
    await client.end();
    throw e;
  }
  return {
    async commit() {
      try {
        await client.query("commit");
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Begins a change of a campaign's windows that closes them all, locked and written as
 * updateCampaign does, and leaves it uncommitted: `commit()` ends it.
 */
export const closeWindowsUncommitted = (url: string, campaignId: string) =>
  uncommitted(url, [
    ["select 1 from campaigns where id = $1 for update", [campaignId]],
    [
      `update campaigns set schedule = (schedule::jsonb || '{"Windows": []}')::json,
         schedule_version = schedule_version + 1 where id = $1`,
      [campaignId],
    ],
  ]);

/** Begins archiving a campaign, locked as updateCampaign locks it, and leaves it uncommitted. */
export const archiveUncommitted = (url: string, campaignId: string) =>
  uncommitted(url, [
    ["select 1 from campaigns where id = $1 for update", [campaignId]],
    ["update campaigns set status = 'archived' where id = $1", [campaignId]],
  ]);
