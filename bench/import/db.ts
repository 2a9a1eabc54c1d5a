import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { migrate, openPostgres, type PostgresDb } from "../../src/store/index.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { freshDatabase } from "../databases.ts";

export const BENCH_DB = "cobbery_bench_import";

/** A fresh database `name` on the server of `adminUrl`, migrated; returns its URL. */
export async function freshMigratedDatabase(adminUrl: string, name: string): Promise<string> {
  const url = await freshDatabase(adminUrl, name);
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
