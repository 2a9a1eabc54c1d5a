import pg from "pg";
import { migrate, openPostgres } from "../../src/store/index.ts";
const admin = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
await admin.connect(); await admin.query("drop database if exists cobbery_analytics_scratch with (force)"); await admin.query("create database cobbery_analytics_scratch"); await admin.end();
const db = await openPostgres("postgres://postgres@127.0.0.1:5432/cobbery_analytics_scratch", 1);
await migrate(db);
await db.query("insert into organizations (id, name) values ('o','o')");
await db.query(`insert into campaigns (id, org_id, name, status, agent, analysis_schema, inbound_mode, inbound_reject_message, schedule) values ('c','o','c','active','{}','{}','lookup','no','{"TimeZone":"America/New_York","Windows":[{"Days":["mon"],"Start":"00:00","End":"24:00"}]}')`);
await db.query(`insert into jobs (id, org_id, campaign_id, phone_number, state) select 'j'||g, 'o', 'c', '+1415555'||lpad(g::text,4,'0'), 'pending' from generate_series(1,5000) g`);
await db.query(`insert into calls (id, org_id, campaign_id, job_id, direction, status, attempt, started_at) select 'k'||g, 'o','c','j'||g,'outbound','queued',1,now() from generate_series(1,5000) g`);
const trig = async (names: string[], on: boolean) => { for (const n of names) await db.query(`alter table calls ${on ? "enable" : "disable"} trigger ${n}`); };
const all = ["calls_analytics_local_hour", "calls_analytics_insert", "calls_analytics_update", "calls_analytics_delete"];
async function run(label: string) {
  const t0 = performance.now();
  for (let r = 0; r < 100; r++) {
    const ids = Array.from({ length: 50 }, (_, k) => `k${1 + ((r * 50 + k) % 5000)}`);
    await db.query("update calls set dialed_at = now(), local_hour = null where id = any($1::text[])", [ids]);
    await db.query("update calls set dialed_at = null, local_hour = null where id = any($1::text[])", [ids]);
  }
  console.log(label, ((performance.now() - t0) / 200).toFixed(3), "ms/statement");
}
for (let rep = 0; rep < 2; rep++) {
  await trig(all, false); await run("all off        ");
  await trig(["calls_analytics_local_hour"], true); await run("row trigger    ");
  await trig(["calls_analytics_local_hour"], false); await trig(["calls_analytics_update"], true); await run("stmt trigger   ");
  await trig(all, true); await run("all on         ");
}
await db.close();
