import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { phoneZonePrefixes } from "../../src/analytics/index.ts";
import { zonesForPhoneNumber } from "../../src/schedule/index.ts";
import { type Db, listMigrations, migrate } from "../../src/store/index.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { assertCountersMatch } from "./support.ts";

const ANALYTICS_VERSION = 4;

/** An organization and a campaign written directly (the use cases need every migration). */
async function seedCampaign(db: Db, scheduleZone: string): Promise<{ orgId: string; campaignId: string }> {
  const orgId = `org_${Math.random().toString(36).slice(2)}`;
  const campaignId = `cmp_${Math.random().toString(36).slice(2)}`;
  await db.query("insert into organizations (id, name) values ($1, $1)", [orgId]);
  await db.query(
    `insert into campaigns (id, org_id, name, status, agent, analysis_schema, inbound_mode, inbound_reject_message, schedule)
     values ($1, $2, 'c', 'active', '{}', '{}', 'lookup', 'no', $3::json)`,
    [campaignId, orgId, JSON.stringify({ TimeZone: scheduleZone })],
  );
  return { orgId, campaignId };
}

describe("analytics migration", () => {
  let database: TestDatabase;
  let db: Db;
  before(async () => {
    database = await freshDatabase();
    db = database.db;
  });
  after(() => database.drop());

  test("backfills the counters and the local hours of existing jobs and calls", async () => {
    for (const m of listMigrations().filter((x) => x.version < ANALYTICS_VERSION)) await db.exec(m.sql);
    const { orgId, campaignId } = await seedCampaign(db, "America/Chicago");
    // 40 jobs of every state, 5 test jobs, 3 deleted; two calls each for 20 of them.
    await db.query(
      `insert into jobs (id, org_id, campaign_id, phone_number, test_job, state, state_before_deletion, failure_reason,
         objective_met, time_zone)
       select 'job_' || g, $1, $2, case when g % 2 = 0 then '+33612345678' else '+14155550123' end, g > 40,
         (array['pending','in_progress','completed','canceled','failed','deleted'])[1 + g % 6],
         case when g % 6 = 5 then 'completed' end,
         case when g % 6 = 4 then 'wrong_contact' end,
         case when g % 3 = 0 then g % 2 = 0 end,
         case when g % 5 = 0 then 'Asia/Tokyo' end
       from generate_series(1, 45) g`,
      [orgId, campaignId],
    );
    await db.query(
      `insert into calls (id, org_id, campaign_id, job_id, direction, status, answered_by, attempt, test_job, started_at,
         dialed_at, answered_at, ended_at, duration_seconds)
       select 'call_' || g || '_' || a, $1, $2, 'job_' || g, 'outbound', 'completed',
         case when a = 2 then 'human' end, a, g > 40, now() - interval '1 hour' * g,
         case when g % 7 <> 0 then now() - interval '1 hour' * g end,
         case when a = 2 then now() - interval '1 hour' * g end, now(), 30 * a
       from generate_series(1, 45) g, generate_series(1, 2) a
       where g % 2 = 1`,
      [orgId, campaignId],
    );
    await db.tx((q) => q.exec(listMigrations().find((m) => m.version === ANALYTICS_VERSION)!.sql));
    await assertCountersMatch(db, orgId, campaignId, "after the backfill");
    const hours = await db.query<{ n: number }>(
      `select count(*)::int as n from calls where dialed_at is not null and not test_job and (local_hour is null
         or local_hour <> extract(hour from dialed_at at time zone
           case when job_id in (select id from jobs where time_zone is not null) then 'Asia/Tokyo'
             else 'America/Los_Angeles' end))`,
    );
    assert.equal(hours.rows[0]!.n, 0, "every dialed call has its contact's local hour");
    const rows = await db.query<{ n: number }>("select count(*)::int as n from analytics_job_deltas");
    assert.ok(rows.rows[0]!.n > 0);
    // The rest of the migrations apply on top.
    await db.exec(
      "create table schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())",
    );
    for (const m of listMigrations().filter((x) => x.version <= ANALYTICS_VERSION))
      await db.query("insert into schema_migrations (version, name) values ($1, $2)", [m.version, m.name]);
    await migrate(db);
    await assertCountersMatch(db, orgId, campaignId, "after every migration");
  });

  test("the phone zones are the library's map, and the SQL lookup agrees with zonesForPhoneNumber", async () => {
    await migrate(db);
    const map = phoneZonePrefixes();
    const table = await db.query<{ zones: Record<string, string> }>(
      "select analytics_phone_zones() as zones",
    );
    assert.deepEqual(
      new Map(Object.entries(table.rows[0]!.zones)),
      map,
      "re-generate the rows with bench/analytics/phoneZonesSql.ts (in a new migration)",
    );
    const numbers = [
      ...[...map.keys()].map((p) => `+${p}`),
      "+14155550123",
      "+1 (212) 555-0123",
      "+447911123456",
      "+80012345678",
      "+999",
      "14155550123",
      "+1415x",
    ];
    const sql = await db.query<{ n: string; zone: string }>(
      "select n, analytics_contact_zone(null, n, 'Pacific/Kiritimati') as zone from unnest($1::text[]) as n",
      [numbers],
    );
    const wrong = sql.rows.filter((r) => r.zone !== (zonesForPhoneNumber(r.n)[0] ?? "Pacific/Kiritimati"));
    assert.deepEqual(wrong, []);
  });

  test("the contact's zone: the job's first, unknown zones skipped, never an error", async () => {
    await migrate(db);
    const zone = async (job: string | null, phone: string | null, schedule: string | null) =>
      (
        await db.query<{ z: string }>("select analytics_contact_zone($1, $2, $3) as z", [
          job,
          phone,
          schedule,
        ])
      ).rows[0]!.z;
    assert.equal(await zone("Asia/Tokyo", "+14155550123", "Europe/Paris"), "Asia/Tokyo");
    assert.equal(await zone("asia/tokyo", null, "Europe/Paris"), "Asia/Tokyo");
    assert.equal(await zone(null, "+14155550123", "Europe/Paris"), "America/Los_Angeles");
    assert.equal(await zone(null, null, "Europe/Paris"), "Europe/Paris");
    assert.equal(await zone("Mars/Olympus_Mons", "+999", "Europe/Paris"), "Europe/Paris");
    assert.equal(await zone("Mars/Olympus_Mons", null, "Venus/Base"), "UTC");

    // A campaign whose zone the server does not know still places its calls (counted at the UTC hour).
    const { orgId, campaignId } = await seedCampaign(db, "Mars/Olympus_Mons");
    await db.query(
      `insert into jobs (id, org_id, campaign_id, phone_number, state) values ('job_mars', $1, $2, '+999123', 'in_progress')`,
      [orgId, campaignId],
    );
    await db.query(
      `insert into calls (id, org_id, campaign_id, job_id, direction, status, attempt, started_at)
       values ('call_mars', $1, $2, 'job_mars', 'outbound', 'queued', 1, now())`,
      [orgId, campaignId],
    );
    await db.query("update calls set status = 'ringing', dialed_at = now() where id = 'call_mars'");
    const c = await db.query<{ ok: boolean }>(
      "select local_hour = extract(hour from dialed_at at time zone 'UTC') as ok from calls where id = 'call_mars'",
    );
    assert.equal(c.rows[0]!.ok, true);
    await assertCountersMatch(db, orgId, campaignId, "unknown zone");
  });
});
