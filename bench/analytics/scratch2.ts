import { openPostgres } from "../../src/store/index.ts";
const db = await openPostgres("postgres://postgres@127.0.0.1:5432/cobbery_analytics_scratch", 1);
for (const n of ["calls_analytics_local_hour", "calls_analytics_insert", "calls_analytics_update", "calls_analytics_delete"]) await db.query(`alter table calls enable trigger ${n}`);
const res: Record<string, number[]> = {};
for (let r = 0; r < 40; r++) {
  const ids = Array.from({ length: 50 }, (_, k) => `k${1 + ((r * 50 + k) % 5000)}`);
  for (const [label, sql] of [["dial", "update calls set dialed_at = now(), local_hour = null where id = any($1::text[])"], ["end", "update calls set answered_by='human', answered_at=now(), duration_seconds=30 where id = any($1::text[])"], ["reset", "update calls set dialed_at = null, local_hour = null, answered_by=null, answered_at=null, duration_seconds=null where id = any($1::text[])"]] as const) {
    await db.query("begin");
    const e = await db.query<{ "QUERY PLAN": any }>(`explain (analyze, format json) ${sql}`, [ids]);
    await db.query("rollback");
    const plan = e.rows[0]!["QUERY PLAN"][0];
    (res[`${label} total`] ??= []).push(plan["Execution Time"]);
    for (const t of plan.Triggers ?? []) (res[`${label} ${t["Trigger Name"]}`] ??= []).push(t.Time);
  }
}
for (const [k, v] of Object.entries(res)) { v.sort((a, b) => a - b); console.log(k.padEnd(40), "min", v[0]!.toFixed(3), "median", v[Math.floor(v.length / 2)]!.toFixed(3), "ms"); }
await db.close();
