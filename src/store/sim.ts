import type { Queryable } from "./db.ts";

export interface SimCallBehaviour {
  Answer: "human" | "voicemail" | "no_answer" | "busy" | "failed" | "invalid";
  Replies: string[];
}

export async function registerSimContact(
  q: Queryable,
  orgId: string,
  phone: string,
  calls: SimCallBehaviour[],
): Promise<void> {
  await q.query(
    `insert into sim_contacts (org_id, phone_number, calls) values ($1, $2, $3::jsonb)
     on conflict (org_id, phone_number) do update set calls = excluded.calls, calls_made = 0, created_at = now()`,
    [orgId, phone, JSON.stringify(calls)],
  );
}

/**
 * How each of these outbound calls behaves: the n-th call to a registered number follows its
 * calls[n] (the last entry repeats); unregistered numbers are null (they never answer). Counts
 * several calls to one number in one batch in order.
 */
export async function takeSimBehaviours(
  q: Queryable,
  calls: ReadonlyArray<{ orgId: string; phone: string }>,
): Promise<Array<SimCallBehaviour | null>> {
  if (calls.length === 0) return [];
  const counts = new Map<string, { org_id: string; phone_number: string; n: number }>();
  for (const c of calls) {
    const k = `${c.orgId} ${c.phone}`;
    const e = counts.get(k);
    if (e) e.n++;
    else counts.set(k, { org_id: c.orgId, phone_number: c.phone, n: 1 });
  }
  const r = await q.query<{
    org_id: string;
    phone_number: string;
    calls: SimCallBehaviour[];
    before: number;
  }>(
    // Locked in key order first: this runs inside dialing transactions, which must not deadlock.
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(org_id text, phone_number text, n integer)),
     locked as (
       select s.org_id, s.phone_number, x.n from sim_contacts s
       join x on s.org_id = x.org_id and s.phone_number = x.phone_number
       order by s.org_id, s.phone_number for update of s
     )
     update sim_contacts s set calls_made = s.calls_made + l.n
     from locked l where s.org_id = l.org_id and s.phone_number = l.phone_number
     returning s.org_id, s.phone_number, s.calls, s.calls_made - l.n as before`,
    [JSON.stringify([...counts.values()])],
  );
  const next = new Map(
    r.rows.map((row) => [`${row.org_id} ${row.phone_number}`, { calls: row.calls, i: row.before }]),
  );
  return calls.map((c) => {
    const e = next.get(`${c.orgId} ${c.phone}`);
    if (!e || e.calls.length === 0) return null;
    const b = e.calls[Math.min(e.i, e.calls.length - 1)] ?? null;
    e.i++;
    return b;
  });
}
