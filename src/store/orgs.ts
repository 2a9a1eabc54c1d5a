import { newId } from "../ids/index.ts";
import type { Queryable } from "./db.ts";

export interface ApiKeyRow {
  id: string;
  org_id: string;
  hint: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export async function ensureOrg(q: Queryable, name: string): Promise<string> {
  const r = await q.query<{ id: string }>(
    `insert into organizations (id, name) values ($1, $2)
     on conflict (name) do update set name = excluded.name returning id`,
    [newId("org"), name],
  );
  return r.rows[0]!.id;
}

export async function findOrgByName(q: Queryable, name: string): Promise<string | null> {
  const r = await q.query<{ id: string }>("select id from organizations where name = $1", [name]);
  return r.rows[0]?.id ?? null;
}

export async function insertKey(q: Queryable, orgId: string, keyHash: string, hint: string): Promise<string> {
  const id = newId("key");
  await q.query(
    "insert into api_keys (id, org_id, key_hash, hint) values ($1, $2, $3, $4) on conflict (key_hash) do nothing",
    [id, orgId, keyHash, hint],
  );
  return id;
}

/** The organization of a live key, or null. */
export async function orgOfKey(
  q: Queryable,
  keyHash: string,
): Promise<{ orgId: string; keyId: string } | null> {
  const r = await q.query<{ org_id: string; id: string }>(
    "select org_id, id from api_keys where key_hash = $1 and revoked_at is null",
    [keyHash],
  );
  const row = r.rows[0];
  return row ? { orgId: row.org_id, keyId: row.id } : null;
}

export async function listKeys(q: Queryable, orgId: string): Promise<ApiKeyRow[]> {
  const r = await q.query<ApiKeyRow>(
    "select id, org_id, hint, created_at, last_used_at, revoked_at from api_keys where org_id = $1 order by id",
    [orgId],
  );
  return r.rows;
}

export async function revokeKey(q: Queryable, keyId: string): Promise<boolean> {
  const r = await q.query("update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1", [
    keyId,
  ]);
  return r.rowCount > 0;
}
