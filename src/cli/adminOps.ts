import { notFound } from "../errors/index.ts";
import type { Deps } from "../usecases/context.ts";
import { type ImportBatchResult, importJobsBatch } from "../usecases/jobs/importJobs.ts";
import { type BatchResult, campaignForNewJobs, createJobsBatch } from "../usecases/jobs/index.ts";
import { createApiKey, type KeyInfo, listApiKeys, revokeApiKey } from "../usecases/keys/index.ts";

/**
 * What the CLI asks of Cobbery. It runs in-process when the CLI may open the database itself, and
 * through the running server's local socket when the embedded database is already open there.
 */
export interface AdminOps {
  createKey(org: string): Promise<{ key: string; id: string }>;
  listKeys(org: string): Promise<KeyInfo[] | null>;
  revokeKey(keyId: string): Promise<boolean>;
  /** Validates and creates jobs; errors are reported by index within `inputs`. */
  importBatch(campaignId: string, inputs: unknown[]): Promise<BatchResult>;
  /**
   * importBatch through the COPY bulk path, without the created jobs in the answer. Present only in
   * process on a real PostgreSQL (not over the socket): the importer uses it when it is there.
   */
  importBulk?(campaignId: string, inputs: unknown[]): Promise<ImportBatchResult>;
  /** Applies the migrations not applied yet; returns their names (none when up to date). */
  migrate(): Promise<string[]>;
}

export const ADMIN_METHODS = ["createKey", "listKeys", "revokeKey", "importBatch", "migrate"] as const;

/**
 * The admin operations in this process. `migrate` depends on who holds the database: the CLI that
 * opened it (and migrated it as it did) or a running server (which migrated it at start).
 */
export function directAdmin(deps: Deps, migrate: AdminOps["migrate"]): AdminOps {
  const orgCache = new Map<string, string>();
  const campaignCtx = async (campaignId: string) => {
    let orgId = orgCache.get(campaignId);
    if (!orgId) {
      const r = await deps.db.query<{ org_id: string }>("select org_id from campaigns where id = $1", [
        campaignId,
      ]);
      if (!r.rows[0]) throw notFound("Campaign", campaignId);
      orgId = r.rows[0].org_id;
      orgCache.set(campaignId, orgId);
    }
    const ctx = { deps, orgId };
    return { ctx, campaign: await campaignForNewJobs(ctx, campaignId) };
  };
  const ops: AdminOps = {
    async createKey(org) {
      const r = await deps.db.tx((q) => createApiKey(q, org));
      return { key: r.key, id: r.id };
    },
    listKeys: (org) => listApiKeys(deps.db, org),
    revokeKey: (keyId) => revokeApiKey(deps.db, keyId),
    async importBatch(campaignId, inputs) {
      const { ctx, campaign } = await campaignCtx(campaignId);
      return createJobsBatch({ ctx, campaign, inputs, pathOf: () => "" });
    },
    migrate,
  };
  if (deps.db.kind === "postgres") {
    // Each call validates its rows at once, then writes them after the previous call's write: one
    // batch is validated while another is written, without two writers contending on the same indexes.
    let lastWrite: Promise<unknown> = Promise.resolve();
    ops.importBulk = (campaignId, inputs) => {
      const previous = lastWrite;
      const target = async () => {
        await previous.catch(() => {});
        return campaignCtx(campaignId);
      };
      const result = importJobsBatch({ db: deps.db, target, inputs });
      lastWrite = result;
      return result;
    };
  }
  return ops;
}
