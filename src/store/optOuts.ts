import { statesFrom } from "../domain/jobStates.ts";
import type { Queryable } from "./db.ts";
import type { JobRow } from "./jobRows.ts";

export async function insertOptOut(
  q: Queryable,
  orgId: string,
  phone: string,
): Promise<{ created: boolean; createdAt: Date }> {
  const ins = await q.query<{ created_at: Date }>(
    "insert into opt_outs (org_id, phone_number) values ($1, $2) on conflict do nothing returning created_at",
    [orgId, phone],
  );
  if (ins.rows[0]) return { created: true, createdAt: ins.rows[0].created_at };
  const r = await q.query<{ created_at: Date }>(
    "select created_at from opt_outs where org_id = $1 and phone_number = $2",
    [orgId, phone],
  );
  return { created: false, createdAt: r.rows[0]!.created_at };
}

/** Ends the number's not-yet-ended jobs failed/opted_out, in every campaign of the organization. */
export async function failJobsOfOptedOutNumber(
  q: Queryable,
  orgId: string,
  phone: string,
): Promise<JobRow[]> {
  // Locks in id order first, as every other multi-job statement does, so that none deadlock.
  await q.query(
    "select id from jobs where org_id = $1 and phone_number = $2 and state = any($3::text[]) order by id for update",
    [orgId, phone, statesFrom("fail")],
  );
  const r = await q.query<JobRow>(
    `update jobs set state = 'failed', failure_reason = 'opted_out',
       failure_message = 'The number was added to the opt-out list.', next_call_at = null,
       ended_at = now(), updated_at = now()
     where org_id = $1 and phone_number = $2 and state = any($3::text[])
     returning *`,
    [orgId, phone, statesFrom("fail")],
  );
  return r.rows;
}

export async function deleteOptOut(q: Queryable, orgId: string, phone: string): Promise<boolean> {
  const r = await q.query("delete from opt_outs where org_id = $1 and phone_number = $2", [orgId, phone]);
  return r.rowCount > 0;
}

export async function listOptOuts(
  q: Queryable,
  orgId: string,
  after: number | null,
  limit: number,
): Promise<Array<{ seq: number; phone_number: string; created_at: Date }>> {
  const r = await q.query<{ seq: number; phone_number: string; created_at: Date }>(
    `select seq, phone_number, created_at from opt_outs where org_id = $1 and ($2::bigint is null or seq > $2)
     order by seq limit $3`,
    [orgId, after, limit],
  );
  return r.rows;
}
