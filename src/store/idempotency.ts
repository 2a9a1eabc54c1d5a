import type { Db, Queryable } from "./db.ts";

export type IdempotencyClaim =
  | { kind: "new" }
  | { kind: "replay"; statusCode: number; body: string }
  /** `seconds`: how long ago the running request took the key. */
  | { kind: "running"; seconds: number }
  | { kind: "mismatch" };

const TTL = "24 hours";

/** Takes the key for this request, or says how an earlier request with the same key went. */
export async function claimIdempotencyKey(
  q: Queryable,
  orgId: string,
  key: string,
  method: string,
  path: string,
  requestHash: string,
): Promise<IdempotencyClaim> {
  // A record older than the TTL is forgotten: the key may be used again.
  await q.query(
    `delete from idempotency_keys where org_id = $1 and key = $2 and created_at < now() - interval '${TTL}'`,
    [orgId, key],
  );
  const ins = await q.query(
    `insert into idempotency_keys (org_id, key, method, path, request_hash, state)
     values ($1, $2, $3, $4, $5, 'running') on conflict do nothing`,
    [orgId, key, method, path, requestHash],
  );
  if (ins.rowCount > 0) return { kind: "new" };
  const r = await q.query<{
    method: string;
    path: string;
    request_hash: string;
    state: string;
    status_code: number;
    response_body: string;
    seconds: number;
  }>(
    `select method, path, request_hash, state, status_code, response_body,
       extract(epoch from now() - created_at)::float8 as seconds
     from idempotency_keys where org_id = $1 and key = $2`,
    [orgId, key],
  );
  const row = r.rows[0];
  if (!row) return claimIdempotencyKey(q, orgId, key, method, path, requestHash);
  if (row.request_hash !== requestHash || row.method !== method || row.path !== path)
    return { kind: "mismatch" };
  if (row.state === "running") return { kind: "running", seconds: row.seconds };
  return { kind: "replay", statusCode: row.status_code, body: row.response_body };
}

/**
 * PII deletion and the storing of a response that names its jobs take turns per organization
 * (an advisory lock: shared by responses, exclusive for a deletion's scrub). A response is stored
 * after its request committed: without the turn, a deletion committing between the two would find
 * no stored response to scrub (the key still running), and the response would then keep the
 * contact's fields for a replay to show.
 */
async function idempotencyTurn(q: Queryable, orgId: string, mode: "shared" | "exclusive"): Promise<void> {
  await q.query(
    `select ${mode === "shared" ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock"}(hashtextextended('cobbery.idempotency:' || $1, 0))`,
    [orgId],
  );
}

export async function completeIdempotencyKey(
  db: Db,
  orgId: string,
  key: string,
  statusCode: number,
  body: string,
  jobIds: readonly string[],
): Promise<void> {
  await db.tx(async (q) => {
    if (jobIds.length > 0) await idempotencyTurn(q, orgId, "shared");
    await q.query(
      `update idempotency_keys set state = 'done', status_code = $3, response_body = $4, job_ids = $5::text[]
       where org_id = $1 and key = $2`,
      [orgId, key, statusCode, body, jobIds],
    );
    if (jobIds.length === 0) return;
    // A deletion that committed before this turn: its jobs are scrubbed here.
    const deleted = await q.query<{ id: string }>(
      "select id from jobs where org_id = $1 and id = any($2::text[]) and state = 'deleted'",
      [orgId, jobIds],
    );
    await scrubStoredResponses(
      q,
      orgId,
      deleted.rows.map((r) => r.id),
    );
  });
}

/** Forgets a key whose request failed on our side, so that the client may try again. */
export async function releaseIdempotencyKey(q: Queryable, orgId: string, key: string): Promise<void> {
  await q.query("delete from idempotency_keys where org_id = $1 and key = $2 and state = 'running'", [
    orgId,
    key,
  ]);
}

export async function purgeExpiredIdempotencyKeys(q: Queryable): Promise<number> {
  const r = await q.query(`delete from idempotency_keys where created_at < now() - interval '${TTL}'`);
  return r.rowCount;
}

/** The fields of a Job that PII deletion erases (contract: they read null afterwards). */
const JOB_PII_FIELDS = ["PhoneNumber", "ContactName", "Data", "Result", "Summary"] as const;

/**
 * `body` with the PII of these jobs erased wherever it appears, as the API now shows them: a Job's
 * PII fields null; a Call of one of them (an inbound sim call's answer) without the contact's
 * number (`To` outbound, `From` inbound) or transcript.
 */
function withoutPii(body: unknown, jobIds: ReadonlySet<string>): unknown {
  if (Array.isArray(body)) return body.map((x) => withoutPii(x, jobIds));
  if (body === null || typeof body !== "object") return body;
  const o = body as Record<string, unknown>;
  const out = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, withoutPii(v, jobIds)]));
  if (typeof o.Id === "string" && jobIds.has(o.Id))
    for (const f of JOB_PII_FIELDS) if (f in out) out[f] = null;
  if (typeof o.JobId === "string" && jobIds.has(o.JobId) && "Transcript" in o) {
    out[o.Direction === "inbound" ? "From" : "To"] = null;
    out.Transcript = [];
  }
  return out;
}

/**
 * Scrubs stored responses that echoed these jobs (their PII was deleted): a replay of the key
 * still answers the first response, without the contact's fields, and creates nothing new.
 */
export async function scrubIdempotentResponses(
  q: Queryable,
  orgId: string,
  jobIds: readonly string[],
): Promise<void> {
  if (jobIds.length === 0) return;
  await idempotencyTurn(q, orgId, "exclusive");
  await scrubStoredResponses(q, orgId, jobIds);
}

async function scrubStoredResponses(q: Queryable, orgId: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  const r = await q.query<{ key: string; response_body: string }>(
    `select key, response_body from idempotency_keys
     where org_id = $1 and job_ids && $2::text[] and state = 'done' order by key for update`,
    [orgId, jobIds],
  );
  if (r.rows.length === 0) return;
  const ids = new Set(jobIds);
  await q.query(
    `update idempotency_keys k set response_body = x.body
     from jsonb_to_recordset($2::jsonb) as x(key text, body text)
     where k.org_id = $1 and k.key = x.key`,
    [
      orgId,
      JSON.stringify(
        r.rows.map((row) => ({
          key: row.key,
          body: JSON.stringify(withoutPii(JSON.parse(row.response_body), ids)),
        })),
      ),
    ],
  );
}
