/**
 * Analytics benchmark: `npm run bench:analytics [-- --jobs N --events N --requests N --keep]`.
 *
 * On the real PostgreSQL of --admin-url / BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/test),
 * in a fresh database `cobbery_bench_analytics` migrated with migrate():
 *  1. one campaign with N jobs (default 1,000,000: a spread of states and failure reasons, ~3% test
 *     jobs, ~10% deleted), their calls (~1.7 per job) and 5,000,000 events, written with INSERT ...
 *     SELECT generate_series in chunks: the triggers fill the counters; then one compaction;
 *  2. GET /v1/campaigns/{Id}/analytics over real HTTP (the app on a loopback port), 200 times after
 *     5 warm-ups: p50, p99, max, PASS/FAIL against p50 <= 100 ms and p99 <= 300 ms; the same while a
 *     writer changes jobs and calls (dispatcher-like statements) and the deltas pile up; the counters
 *     checked against a direct count of the tables (and how long that full count takes);
 *  3. the triggers' cost: a 100,000-row bulk job import (the COPY path of `jobs import`) and a run of
 *     small dispatcher-like updates, with the analytics triggers enabled and disabled, alternated.
 * The database is dropped at the end unless --keep.
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { compactAnalytics, toCampaignAnalytics } from "../../src/analytics/index.ts";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { BulkJobBatch, insertJobsBulk } from "../../src/store/bulkJobs.ts";
import {
  countCampaignDirectly,
  migrate,
  openPostgres,
  type PostgresDb,
  readCampaignCounts,
} from "../../src/store/index.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { dropDatabase, freshDatabase } from "../databases.ts";

const { values: args } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000000" },
    events: { type: "string", default: "5000000" },
    requests: { type: "string", default: "200" },
    "overhead-rows": { type: "string", default: "100000" },
    "admin-url": {
      type: "string",
      default: process.env.BENCH_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    },
    keep: { type: "boolean", default: false },
  },
});
const N_JOBS = Number(args.jobs);
const N_EVENTS = Number(args.events);
const N_REQUESTS = Number(args.requests);
const OVERHEAD_ROWS = Number(args["overhead-rows"]);
const ADMIN_URL = args["admin-url"];
const DB_NAME = "cobbery_bench_analytics";
const GOAL_P50_MS = 100;
const GOAL_P99_MS = 300;
const CHUNK = 100_000;

const log = (s: string) => process.stdout.write(`${s}\n`);
const fmt = (x: number, digits = 0) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  log(`  ${what}: ${fmt((performance.now() - t0) / 1000, 1)} s`);
  return r;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const CAMPAIGN = {
  Name: "bench analytics",
  Agent: { Type: "flow", Flow: { Start: "a", Nodes: { a: { Say: "Hi", End: true } } } },
  Schedule: {
    TimeZone: "America/New_York",
    Windows: [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: "00:00", End: "24:00" }],
  },
};

/**
 * Jobs g in [from, to] of the campaign. r = a hash of g in [0, 1000) picks the state: 35% completed
 * (objective met for most), 34% failed over every reason, 13% pending, 1% in_progress, 7% canceled,
 * 10% deleted (earlier state completed, failed or canceled); g % 33 = 0 are test jobs (~3%).
 */
const INSERT_JOBS = `
  insert into jobs (id, org_id, campaign_id, phone_number, test_job, state, state_before_deletion, failure_reason,
    objective_met, attempts, next_call_at, created_at, updated_at, ended_at, metadata)
  select 'job_bench' || lpad(g::text, 9, '0'), $1, $2,
    case when s.state = 'deleted' then null else '+1415' || lpad((g % 10000000)::text, 7, '0') end,
    g % 33 = 0, s.state, s.before, s.reason, s.met,
    case when s.state in ('pending', 'canceled') then g % 2 when s.reason = 'max_attempts_exceeded' then 3
      else 1 + (g / 7) % 2 end,
    case when s.state = 'pending' then now() + interval '1 day' end,
    now() - interval '1 day', now(), case when s.state not in ('pending', 'in_progress') then now() end,
    jsonb_build_object('segment', g % 5)
  from generate_series($3::int, $4::int) g
  cross join lateral (select ((g::bigint * 2654435761) % 1000)::int as r) h
  cross join lateral (select
    case when r < 350 then 'completed' when r < 690 then 'failed' when r < 820 then 'pending'
      when r < 830 then 'in_progress' when r < 900 then 'canceled' else 'deleted' end as state,
    case when r >= 900 then (array['completed', 'failed', 'canceled'])[1 + r % 3] end as before,
    case when r >= 350 and r < 450 then 'campaign_objective_missed' when r >= 450 and r < 600 then 'max_attempts_exceeded'
      when r >= 600 and r < 630 then 'contact_refused' when r >= 630 and r < 650 then 'wrong_contact'
      when r >= 650 and r < 670 then 'opted_out' when r >= 670 and r < 685 then 'invalid_phone_number'
      when r >= 685 and r < 690 then 'configuration_error' when r >= 900 and r % 3 = 1 then 'max_attempts_exceeded' end
      as reason,
    case when r < 300 then true when r >= 350 and r < 450 then false when r >= 900 and r % 3 = 0 then true end as met
  ) s`;

/** One call per attempt of jobs [from, to]; the last attempt of a completed job is answered by a human. */
const INSERT_CALLS = `
  insert into calls (id, org_id, campaign_id, job_id, direction, from_number, to_number, status, answered_by, attempt,
    test_job, started_at, dialed_at, answered_at, ended_at, duration_seconds, billed_seconds, end_reason, local_hour)
  select 'call_' || substr(j.id, 5) || '_' || a, j.org_id, j.campaign_id, j.id, 'outbound', '+14155550100', j.phone_number,
    x.status, x.answered_by, a, j.test_job, j.created_at + interval '1 hour' * a, j.created_at + interval '1 hour' * a,
    case when x.answered_by is not null then j.created_at + interval '1 hour' * a + interval '5 seconds' end,
    j.created_at + interval '1 hour' * a + interval '2 minutes', x.duration, coalesce(x.duration, 0),
    x.end_reason, (8 + (hashtext(j.id) & 1023) % 13 + a)::smallint % 24
  from jobs j
  cross join generate_series(1, j.attempts) a
  cross join lateral (select
    case when a = j.attempts and coalesce(j.state_before_deletion, j.state) = 'completed' then 'human'
      when (hashtext(j.id) + a) % 7 = 0 then 'voicemail' end as answered_by) y
  cross join lateral (select y.answered_by,
    case when y.answered_by is null then 'no_answer' else 'completed' end as status,
    case when y.answered_by = 'human' then 60 + (hashtext(j.id) & 1023) % 240 when y.answered_by = 'voicemail' then 20
      else 0 end as duration,
    case when y.answered_by is null then 'no_answer' when y.answered_by = 'voicemail' then 'voicemail'
      else 'completed' end as end_reason) x
  where j.campaign_id = $1 and j.id between 'job_bench' || lpad($2::text, 9, '0') and 'job_bench' || lpad($3::text, 9, '0')`;

const INSERT_EVENTS = `
  insert into events (org_id, campaign_id, job_id, event, test_job, properties)
  select $1, $2, 'job_bench' || lpad((1 + g % $5::int)::text, 9, '0'),
    (array['job.created', 'job.dialing', 'call.started', 'call.answered', 'call.ended', 'job.completed',
      'job.failed', 'job.scheduled'])[1 + g % 8], g % 33 = 0, jsonb_build_object('n', g % 100)
  from generate_series($3::int, $4::int) g`;

async function fill(db: PostgresDb, orgId: string, campaignId: string): Promise<void> {
  log(`Filling: ${fmt(N_JOBS)} jobs, their calls, ${fmt(N_EVENTS)} events (load ${loadavg()})`);
  await timed(`${fmt(N_JOBS)} jobs`, async () => {
    for (let from = 1; from <= N_JOBS; from += CHUNK)
      await db.query(INSERT_JOBS, [orgId, campaignId, from, Math.min(N_JOBS, from + CHUNK - 1)]);
  });
  await timed("calls", async () => {
    for (let from = 1; from <= N_JOBS; from += CHUNK)
      await db.query(INSERT_CALLS, [campaignId, from, Math.min(N_JOBS, from + CHUNK - 1)]);
  });
  await timed(`${fmt(N_EVENTS)} events`, async () => {
    for (let from = 1; from <= N_EVENTS; from += 5 * CHUNK)
      await db.query(INSERT_EVENTS, [
        orgId,
        campaignId,
        from,
        Math.min(N_EVENTS, from + 5 * CHUNK - 1),
        N_JOBS,
      ]);
  });
  await timed("vacuum analyze", () => db.query("vacuum analyze"));
  const c = await db.query<{ jobs: number; calls: number; events: number; deltas: number }>(
    `select (select count(*)::int from jobs) as jobs, (select count(*)::int from calls) as calls,
       (select count(*)::int from events) as events,
       (select count(*)::int from analytics_job_deltas) + (select count(*)::int from analytics_call_deltas) as deltas`,
  );
  const r = c.rows[0]!;
  log(
    `  rows: ${fmt(r.jobs)} jobs, ${fmt(r.calls)} calls, ${fmt(r.events)} events, ${fmt(r.deltas)} delta rows`,
  );
  await timed("compaction", () => compactAnalytics(db));
  const after = await db.query<{ n: number }>(
    "select (select count(*)::int from analytics_job_deltas) + (select count(*)::int from analytics_call_deltas) as n",
  );
  log(`  delta rows after compaction: ${fmt(after.rows[0]!.n)}`);
}

interface Latencies {
  p50: number;
  p99: number;
  max: number;
}

async function measureReads(url: string, key: string, campaignId: string, n: number): Promise<Latencies> {
  const get = async () => {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/campaigns/${campaignId}/analytics`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${body}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 5; i++) await get();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await get());
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1)! };
}

const show = (l: Latencies) => `p50 ${fmt(l.p50, 1)} ms, p99 ${fmt(l.p99, 1)} ms, max ${fmt(l.max, 1)} ms`;

/**
 * Dispatcher-like writes until stopped: claims (pending -> in_progress, 50 jobs) and closes (back to
 * pending), calls dialed and ended; each statement writes a few delta rows.
 */
function startWriter(db: PostgresDb, campaignId: string): { stop: () => Promise<number> } {
  let stopping = false;
  let statements = 0;
  const loop = (async () => {
    let i = 0;
    while (!stopping) {
      const from = 1 + ((i * 50) % Math.max(1, N_JOBS - 50));
      const ids = Array.from({ length: 50 }, (_, k) => `job_bench${String(from + k).padStart(9, "0")}`);
      await db.query(
        "update jobs set state = case when state = 'pending' then 'in_progress' when state = 'in_progress' then 'pending' else state end, updated_at = now() where id = any($1::text[])",
        [ids],
      );
      await db.query(
        "update calls set duration_seconds = duration_seconds + 1 where job_id = any($1::text[]) and campaign_id = $2 and attempt = 1",
        [ids, campaignId],
      );
      statements += 2;
      i++;
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return statements;
    },
  };
}

async function checkCounters(db: PostgresDb, orgId: string, campaignId: string): Promise<void> {
  const counters = await readCampaignCounts(db, orgId, campaignId);
  const t0 = performance.now();
  const direct = await countCampaignDirectly(db, campaignId);
  const directMs = performance.now() - t0;
  const a = toCampaignAnalytics(counters!);
  const b = toCampaignAnalytics(direct);
  const same = JSON.stringify(a) === JSON.stringify(b);
  log(
    `  counters = direct count of the tables: ${same ? "yes" : "NO"}; the direct count takes ${fmt(directMs)} ms`,
  );
  log(`  Jobs: ${JSON.stringify(a.Jobs)}`);
  log(
    `  Calls: Total ${a.Calls.Total}, Answered ${a.Calls.Answered}, AnswerRate ${a.Calls.AnswerRate.toFixed(3)}, AverageDurationSeconds ${a.Calls.AverageDurationSeconds.toFixed(1)}, ByAttempt ${JSON.stringify(a.Calls.ByAttempt)}`,
  );
  if (!same) {
    log(`  counters: ${JSON.stringify(a)}`);
    log(`  direct:   ${JSON.stringify(b)}`);
    process.exitCode = 1;
  }
}

const TRIGGERS = [
  ["jobs", "jobs_analytics_insert"],
  ["jobs", "jobs_analytics_update"],
  ["jobs", "jobs_analytics_delete"],
  ["calls", "calls_analytics_insert"],
  ["calls", "calls_analytics_update"],
  ["calls", "calls_analytics_delete"],
  ["calls", "calls_analytics_local_hour"],
] as const;

async function setTriggers(db: PostgresDb, on: boolean): Promise<void> {
  for (const [table, name] of TRIGGERS)
    await db.query(`alter table ${table} ${on ? "enable" : "disable"} trigger ${name}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The triggers' cost on a bulk import and on small dispatcher-like statements, on and off alternately. */
async function measureOverhead(db: PostgresDb, orgId: string): Promise<void> {
  log(`Trigger overhead (load ${loadavg()})`);
  const deps = { db, config: loadConfig({ LOG_LEVEL: "silent" }), logger: createLogger("silent") };
  const cmp = (await createCampaign({ ctx: { deps, orgId }, input: { ...CAMPAIGN, Name: "overhead" } })).Id;
  const reps = 3;
  const importMs: Record<"on" | "off", number[]> = { on: [], off: [] };
  let seq = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (const mode of rep % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
      await setTriggers(db, mode === "on");
      const batch = new BulkJobBatch();
      for (let i = 0; i < OVERHEAD_ROWS; i++) {
        seq++;
        batch.add(
          i,
          {
            id: `job_ovh${String(seq).padStart(10, "0")}`,
            phone_number: `+1212${String(seq % 10_000_000).padStart(7, "0")}`,
            external_id: null,
            contact_name: null,
            metadata: { n: i % 7 },
            data: null,
            test_job: i % 33 === 0,
            hangup_opt_out: null,
            time_zone: null,
          },
          1,
        );
      }
      await db.query("checkpoint");
      const t0 = performance.now();
      await insertJobsBulk(db, orgId, cmp, batch, () => [new Date().toISOString()]);
      importMs[mode].push(performance.now() - t0);
    }
  }
  await setTriggers(db, true);
  const on = median(importMs.on);
  const off = median(importMs.off);
  log(
    `  ${fmt(OVERHEAD_ROWS)}-row bulk import (COPY + move + events), median of ${reps}: triggers on ${fmt(on)} ms, off ${fmt(off)} ms, overhead ${fmt(on - off)} ms (${fmt(((on - off) / off) * 100, 1)}%)`,
  );
  log(
    `    on:  ${importMs.on.map((x) => fmt(x)).join(", ")} ms; off: ${importMs.off.map((x) => fmt(x)).join(", ")} ms`,
  );

  // An INSERT ... SELECT of as many jobs timed by the server (EXPLAIN ANALYZE, rolled back), with the
  // trigger enabled and disabled (in the rolled-back transaction) alternately; with it enabled the
  // plan also reports the trigger's own time.
  const client = await db.pool.connect();
  try {
    const server: Record<"on" | "off", number[]> = { on: [], off: [] };
    const triggerMs: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of rep % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        await client.query("begin");
        if (mode === "off") await client.query("alter table jobs disable trigger jobs_analytics_insert");
        const e = await client.query(`explain (analyze, format json) ${INSERT_JOBS}`, [
          orgId,
          cmp,
          2_000_001,
          2_000_000 + OVERHEAD_ROWS,
        ]);
        await client.query("rollback");
        const plan = (e.rows[0] as { "QUERY PLAN": Array<Record<string, any>> })["QUERY PLAN"][0]!;
        server[mode].push(plan["Execution Time"] as number);
        const t = (plan.Triggers as Array<{ "Trigger Name": string; Time: number }> | undefined)?.find(
          (x) => x["Trigger Name"] === "jobs_analytics_insert",
        );
        if (t) triggerMs.push(t.Time);
      }
    }
    const on = median(server.on);
    const off = median(server.off);
    log(
      `  ${fmt(OVERHEAD_ROWS)}-row INSERT ... SELECT into jobs, server time (EXPLAIN ANALYZE), median of ${reps}: triggers on ${fmt(on)} ms, off ${fmt(off)} ms, overhead ${fmt(on - off)} ms (${fmt(((on - off) / off) * 100, 1)}%), of which the trigger function ${fmt(median(triggerMs), 1)} ms`,
    );
  } finally {
    client.release();
  }

  // Dispatcher-like statements: 50 jobs pending -> in_progress and back, their call dialed and ended.
  const rounds = 200;
  const smallMs: Record<"on" | "off", number[]> = { on: [], off: [] };
  const ids = await db.query<{ id: string }>(
    "select id from jobs where campaign_id = $1 order by id limit $2",
    [cmp, rounds * 50],
  );
  await db.query("update jobs set state = 'pending' where campaign_id = $1 and state <> 'pending'", [cmp]);
  await db.query(
    `insert into calls (id, org_id, campaign_id, job_id, direction, status, attempt, started_at)
     select 'call_ovh' || substr(id, 8), org_id, campaign_id, id, 'outbound', 'queued', 1, now()
     from jobs where id = any($1::text[])`,
    [ids.rows.map((r) => r.id)],
  );
  const STATEMENTS: Array<[string, string]> = [
    [
      "claim (jobs pending -> in_progress)",
      "update jobs set state = 'in_progress', updated_at = now() where id = any($1::text[])",
    ],
    [
      "dial (calls dialed: the local-hour trigger runs)",
      "update calls set status = 'ringing', dialed_at = now(), local_hour = null where job_id = any($1::text[])",
    ],
    [
      "end (calls answered and ended)",
      `update calls set status = 'completed', answered_by = 'human', answered_at = now(), ended_at = now(),
         duration_seconds = 42 where job_id = any($1::text[])`,
    ],
    [
      "release (jobs in_progress -> pending)",
      "update jobs set state = 'pending', updated_at = now() where id = any($1::text[])",
    ],
    [
      "reset (calls back to queued)",
      `update calls set status = 'queued', dialed_at = null, answered_by = null, answered_at = null, ended_at = null,
         duration_seconds = null, local_hour = null where job_id = any($1::text[])`,
    ],
  ];
  const perKind: Record<"on" | "off", number[][]> = {
    on: STATEMENTS.map(() => []),
    off: STATEMENTS.map(() => []),
  };
  for (let rep = 0; rep < reps; rep++) {
    for (const mode of rep % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
      await setTriggers(db, mode === "on");
      const spent = STATEMENTS.map(() => 0);
      for (let i = 0; i < rounds; i++) {
        const batch = ids.rows.slice(i * 50, i * 50 + 50).map((r) => r.id);
        for (const [k, [, sql]] of STATEMENTS.entries()) {
          const t = performance.now();
          await db.query(sql, [batch]);
          spent[k] = (spent[k] ?? 0) + performance.now() - t;
        }
      }
      smallMs[mode].push(spent.reduce((x, y) => x + y, 0) / (rounds * STATEMENTS.length));
      for (const [k, x] of spent.entries()) perKind[mode][k]?.push(x / rounds);
    }
  }
  await setTriggers(db, true);
  const sOn = median(smallMs.on);
  const sOff = median(smallMs.off);
  log(
    `  small statements (50 rows each), median of ${reps}: on ${fmt(sOn, 3)} ms, off ${fmt(sOff, 3)} ms per statement, overhead ${fmt(sOn - sOff, 3)} ms (${fmt(((sOn - sOff) / sOff) * 100, 1)}%)`,
  );
  for (const [k, [what]] of STATEMENTS.entries()) {
    const on1 = median(perKind.on[k] ?? []);
    const off1 = median(perKind.off[k] ?? []);
    log(
      `    ${what}: on ${fmt(on1, 3)} ms, off ${fmt(off1, 3)} ms, +${fmt(((on1 - off1) / 50) * 1000, 1)} µs per row`,
    );
  }
}

async function main(): Promise<void> {
  log(`Analytics benchmark on ${new URL(ADMIN_URL).host}, ${os.cpus().length} CPUs, load ${loadavg()}`);
  const url = await freshDatabase(ADMIN_URL, DB_NAME);
  const db = await openPostgres(url, 4);
  let app: Awaited<ReturnType<typeof createApp>> | null = null;
  try {
    await migrate(db);
    const { orgId, key } = await db.tx((q) => createApiKey(q, "bench"));
    const deps = { db, config: loadConfig({ LOG_LEVEL: "silent" }), logger: createLogger("silent") };
    const campaignId = (await createCampaign({ ctx: { deps, orgId }, input: CAMPAIGN })).Id;
    await fill(db, orgId, campaignId);

    // Reads measured back to back: the per-organization rate limit would answer them 429.
    app = await createApp(loadConfig({ LOG_LEVEL: "silent", DATABASE_URL: url, COBBERY_RATE_LIMIT: "0" }), {
      db: await openPostgres(url, 4),
      logger: createLogger("silent"),
    });
    await app.api.listen({ port: 0, host: "127.0.0.1" });
    const address = app.api.server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const base = `http://127.0.0.1:${address.port}`;

    log(
      `Reads: GET /v1/campaigns/{Id}/analytics over HTTP, ${N_REQUESTS} requests after 5 warm-ups (load ${loadavg()})`,
    );
    const idle = await measureReads(base, key, campaignId, N_REQUESTS);
    const pass = idle.p50 <= GOAL_P50_MS && idle.p99 <= GOAL_P99_MS;
    log(`  idle: ${show(idle)}`);

    const writerDb = await openPostgres(url, 1);
    const writer = startWriter(writerDb, campaignId);
    const busy = await measureReads(base, key, campaignId, N_REQUESTS);
    const statements = await writer.stop();
    await writerDb.close();
    const deltas = await db.query<{ n: number }>(
      "select (select count(*)::int from analytics_job_deltas) + (select count(*)::int from analytics_call_deltas) as n",
    );
    log(
      `  with a writer (${fmt(statements)} dispatcher-like statements meanwhile; ${fmt(deltas.rows[0]!.n)} delta rows now): ${show(busy)}`,
    );
    await checkCounters(db, orgId, campaignId);
    await measureOverhead(db, orgId);
    log(
      `RESULT: p50 ${fmt(idle.p50, 1)} ms (goal <= ${GOAL_P50_MS}), p99 ${fmt(idle.p99, 1)} ms (goal <= ${GOAL_P99_MS}), max ${fmt(idle.max, 1)} ms: ${pass ? "PASS" : "FAIL"}`,
    );
    if (!pass) process.exitCode = 1;
  } finally {
    await app?.close();
    await db.close();
    if (!args.keep) await dropDatabase(ADMIN_URL, DB_NAME);
  }
}

await main();
