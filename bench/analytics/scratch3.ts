import { openPostgres } from "../../src/store/index.ts";
const db = await openPostgres("postgres://postgres@127.0.0.1:5432/cobbery_analytics_scratch", 1);
const q = async (label: string, sql: string) => {
  const v: number[] = [];
  for (let i = 0; i < 7; i++) { const e = await db.query<any>(`explain (analyze, format json) ${sql}`); v.push(e.rows[0]["QUERY PLAN"][0]["Execution Time"]); }
  v.sort((a, b) => a - b); console.log(label.padEnd(30), (v[0]! / 5000 * 1000).toFixed(2), "us/row (min)", (v[3]! / 5000 * 1000).toFixed(2), "median");
};
for (let i = 0; i < 2; i++) {
await q("local_hour", "select analytics_local_hour('c', 'j' || g, null, now()) from generate_series(1,5000) g");
await q("t_local_hour2", "select t_local_hour2('c', 'j' || g, null, now()) from generate_series(1,5000) g");
}
console.log((await db.query("select t_local_hour2('c', 'j1', null, now()) a, analytics_local_hour('c', 'j1', null, now()) b")).rows);
await db.close();
