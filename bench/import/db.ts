import pg from "pg";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { migrate, openPostgres, type PostgresDb } from "../../src/store/index.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";

export const BENCH_DB = "cobbery_bench_import";

/** The URL of another database on the same server. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops and creates database `name` on the server of `adminUrl`, then migrates it. */
export async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const db = await openPostgres(url, 2);
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return url;
}

export const MINIMAL_CAMPAIGN = {
  Name: "bench",
  Agent: { Type: "flow", Flow: { Start: "a", Nodes: { a: { Say: "Hi", End: true } } } },
};

/** A new organization and campaign through the use cases; returns their ids. */
export async function createOrgAndCampaign(
  db: PostgresDb,
  org: string,
): Promise<{ orgId: string; campaignId: string }> {
  const { orgId } = await db.tx((q) => createApiKey(q, org));
  const deps = { db, config: loadConfig({}), logger: createLogger("silent") };
  const campaign = await createCampaign({ ctx: { deps, orgId }, input: MINIMAL_CAMPAIGN });
  return { orgId, campaignId: campaign.Id };
}
