import { createHash } from "node:crypto";
import { ConfigError } from "../../config/index.ts";
import { newSecret } from "../../ids/index.ts";
import type { Queryable } from "../../store/index.ts";
import {
  ensureOrg,
  findOrgByName,
  insertKey,
  orgOfKey,
  listKeys as storeList,
  revokeKey as storeRevoke,
} from "../../store/index.ts";

/** API keys look like `cbk_<32 url-safe characters>`; only their sha256 is stored. */
export const hashKey = (key: string): string => createHash("sha256").update(key).digest("hex");

export interface KeyInfo {
  Id: string;
  Org: string;
  Hint: string;
  CreatedAt: string;
  LastUsedAt: string | null;
  RevokedAt: string | null;
}

export async function createApiKey(
  q: Queryable,
  orgName: string,
): Promise<{ key: string; id: string; orgId: string }> {
  const orgId = await ensureOrg(q, orgName);
  const key = `cbk_${newSecret(24)}`;
  const id = await insertKey(q, orgId, hashKey(key), keyHint(key));
  return { key, id, orgId };
}

/** COBBERY_API_KEY at start: organization `default` exists and accepts this key. */
export async function bootstrapApiKey(q: Queryable, key: string): Promise<void> {
  const orgId = await ensureOrg(q, "default");
  const hash = hashKey(key);
  await insertKey(q, orgId, hash, keyHint(key));
  const ours = await q.query("update api_keys set revoked_at = null where key_hash = $1 and org_id = $2", [
    hash,
    orgId,
  ]);
  // A key belongs to one organization only: another's (the insert above left it as it was) would
  // leave `default` without one. The caller's transaction rolls back.
  if (ours.rowCount === 0) {
    throw new ConfigError(
      "COBBERY_API_KEY is already the key of another organization: give organization default a key of its own (or leave COBBERY_API_KEY unset and use `bin/cobbery keys create --org default`).",
    );
  }
}

/** What `keys list` shows of a key: its first characters, never most of a short one. */
const keyHint = (key: string): string => `${key.slice(0, Math.min(8, Math.floor(key.length / 4)))}…`;

export async function authenticate(
  q: Queryable,
  key: string,
): Promise<{ orgId: string; keyId: string } | null> {
  return orgOfKey(q, hashKey(key));
}

export async function listApiKeys(q: Queryable, orgName: string): Promise<KeyInfo[] | null> {
  const orgId = await findOrgByName(q, orgName);
  if (!orgId) return null;
  return (await storeList(q, orgId)).map((k) => ({
    Id: k.id,
    Org: orgName,
    Hint: k.hint,
    CreatedAt: k.created_at.toISOString(),
    LastUsedAt: k.last_used_at?.toISOString() ?? null,
    RevokedAt: k.revoked_at?.toISOString() ?? null,
  }));
}

export const revokeApiKey = (q: Queryable, keyId: string): Promise<boolean> => storeRevoke(q, keyId);
