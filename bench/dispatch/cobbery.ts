import path from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { migrate, openPostgres } from "../../src/store/index.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import { createJobsBatch } from "../../src/usecases/jobs/createJobs.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { freshDatabase } from "../databases.ts";
import {
  type Child,
  connect,
  fmt,
  lagPercentiles,
  nodeTsx,
  ROOT,
  runUntilDone,
  type ScenarioResult,
  sleep,
  startChild,
  stopChildren,
  waitFor,
  waitQuiet,
} from "./common.ts";

export const COBBERY_DB = "cobbery_bench_dispatch";

export interface CobberyOptions {
  adminUrl: string;
  jobs: number;
  workers: number;
  batchSize: number;
  maxInFlight: number;
  pollMs: number;
  /** Use bench/dispatch/profiledWorker.ts (timings per statement) instead of bin/cobbery worker. */
  profile: boolean;
  timeoutS: number;
  /** How long to wait for other load on the machine to stop before measuring. */
  quietWaitS: number;
  /** What-if changes to the bench database (TWEAKS), for sizing proposals; [] = Cobbery as it is. */
  tweaks: string[];
}

const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** Always open, one attempt, limits out of the way: every job gets exactly one no-answer call. */
const CAMPAIGN = {
  Name: "bench dispatch",
  Agent: { Type: "flow", Flow: { Start: "a", Nodes: { a: { Say: "Hi", End: true } } } },
  Schedule: {
    TimeZone: "UTC",
    Windows: [{ Days: ALL_DAYS, Start: "00:00", End: "24:00" }],
    MaxAttempts: 1,
    MaxConcurrentCalls: 100_000,
  },
};

/** The i-th distinct French mobile number (+33 6 ...): valid, one zone, not registered in the sim. */
const phoneOf = (i: number) => `+336${String(10_000_000 + i).padStart(8, "0")}`;

/**
 * What-if changes to the bench database only (never to src/), to size the proposals in README.md:
 * each says how much one kind of write costs. They are not what Cobbery ships.
 */
export const TWEAKS: Record<string, { what: string; sql: string[] }> = {
  fillfactor: {
    what: "jobs and calls at fillfactor 50 (more room for HOT updates than the shipped 85 and 70)",
    sql: ["alter table jobs set (fillfactor = 50)", "alter table calls set (fillfactor = 50)"],
  },
  "lean-events": {
    what: "events with its primary key only (no org, job, campaign, tx indexes)",
    sql: [
      "drop index events_org",
      "drop index events_job",
      "drop index events_campaign",
      "drop index events_tx",
    ],
  },
  "lean-jobs": {
    what: "jobs without the API's indexes (jobs_campaign, jobs_org, jobs_org_phone)",
    sql: ["drop index jobs_campaign", "drop index jobs_org", "drop index jobs_org_phone"],
  },
  "no-analytics": {
    what: "no analytics counters (the statement triggers on jobs and calls disabled)",
    sql: [
      "alter table jobs disable trigger jobs_analytics_update",
      "alter table calls disable trigger calls_analytics_insert",
      "alter table calls disable trigger calls_analytics_update",
    ],
  },
  "async-commit": {
    what: "synchronous_commit = off for the bench database (no WAL flush wait at commit)",
    sql: ["alter database %DB% set synchronous_commit = off"],
  },
};

/** A migrated database with one organization, one campaign and `jobs` pending jobs, parked far ahead. */
export async function prepareCobbery(
  adminUrl: string,
  jobs: number,
  tweaks: readonly string[] = [],
  dbName = COBBERY_DB,
): Promise<{ url: string; orgId: string; campaignId: string; createS: number }> {
  const url = await freshDatabase(adminUrl, dbName);
  const db = await openPostgres(url, 4);
  try {
    await migrate(db);
    for (const t of tweaks) {
      const tweak = TWEAKS[t];
      if (!tweak) throw new Error(`unknown tweak ${t}: one of ${Object.keys(TWEAKS).join(", ")}`);
      for (const sql of tweak.sql) await db.query(sql.replace("%DB%", `"${dbName}"`));
    }
    const { orgId } = await db.tx((q) => createApiKey(q, "bench"));
    const deps = { db, config: loadConfig({}), logger: createLogger("silent") };
    const ctx = { deps, orgId };
    const campaign = await createCampaign({ ctx, input: CAMPAIGN });
    const t0 = Date.now();
    for (let from = 0; from < jobs; from += 10_000) {
      const inputs = [];
      for (let i = from; i < Math.min(jobs, from + 10_000); i++) inputs.push({ PhoneNumber: phoneOf(i) });
      const r = await createJobsBatch({ ctx, campaign, inputs });
      if (r.Errors.length > 0) throw new Error(`createJobsBatch: ${JSON.stringify(r.Errors[0])}`);
    }
    const createS = (Date.now() - t0) / 1000;
    // Not due until the workers are up: run() makes them due at one fixed time.
    await db.query("update jobs set next_call_at = '2999-01-01Z' where state = 'pending'");
    for (const t of ["jobs", "events", "campaigns", "organizations"]) await db.query(`vacuum (analyze) ${t}`);
    return { url, orgId, campaignId: campaign.Id, createS };
  } finally {
    await db.close();
  }
}

export async function runCobbery(o: CobberyOptions): Promise<ScenarioResult> {
  const name = `Cobbery ${o.workers}w b${o.batchSize} f${o.maxInFlight}${o.tweaks.length ? ` +${o.tweaks.join("+")}` : ""}${o.profile ? " (profiled)" : ""}`;
  process.stderr.write(`\n== ${name}: ${fmt(o.jobs)} jobs\n`);
  const prep = await prepareCobbery(o.adminUrl, o.jobs, o.tweaks);
  if (o.tweaks.length > 0)
    process.stderr.write(`  what-if: ${o.tweaks.map((t) => TWEAKS[t]?.what).join("; ")}\n`);
  process.stderr.write(`  created ${fmt(o.jobs)} jobs in ${prep.createS.toFixed(1)} s (createJobsBatch)\n`);
  const c = await connect(prep.url);
  const env = {
    ...process.env,
    DATABASE_URL: prep.url,
    LOG_LEVEL: "warn",
    COBBERY_TELEPHONY: "sim",
    COBBERY_ORG_MAX_CONCURRENT_CALLS: "1000000",
    COBBERY_DISPATCH_BATCH_SIZE: String(o.batchSize),
    COBBERY_DISPATCH_MAX_IN_FLIGHT: String(o.maxInFlight),
    COBBERY_DISPATCH_POLL_MS: String(o.pollMs),
    BENCH_WHATIF: o.tweaks.join("+"),
  };
  const children: Child[] = [];
  const notes: string[] = [];
  try {
    const busy = await waitQuiet(c, o.quietWaitS);
    if (busy) notes.push(busy);
    const spawnAt = Date.now();
    for (let i = 0; i < o.workers; i++) {
      const [cmd, args] = o.profile
        ? nodeTsx("profiledWorker.ts")
        : [
            process.execPath,
            // BENCH_NODE_ARGS: extra node flags for the workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
            [
              ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
              path.join(ROOT, "bin", "cobbery"),
              "worker",
            ],
          ];
      children.push(startChild(`worker ${i + 1}`, cmd, args, env));
    }
    await waitFor(
      `${o.workers} workers to register`,
      async () =>
        (await c.query<{ n: number }>("select count(*)::int as n from workers where stopped_at is null"))
          .rows[0]!.n >= o.workers,
      60_000,
      100,
    );
    const bootS = (Date.now() - spawnAt) / 1000;
    await sleep(300); // let each worker reach its first idle poll

    const { due, doneAt, cpu, writes } = await runUntilDone(c, {
      database: COBBERY_DB,
      items: o.jobs,
      children,
      timeoutS: o.timeoutS,
      notes,
      makeDue: async (at) => {
        await c.query("update jobs set next_call_at = $1 where state = 'pending'", [at]);
      },
      table: "jobs",
      remaining: async () =>
        (
          await c.query<{ n: number; t: Date }>(
            "select count(*)::int as n, clock_timestamp() as t from jobs where state in ('pending', 'in_progress')",
          )
        ).rows[0]!,
      onDueSet: () => {
        for (const ch of children) if (o.profile) ch.proc.kill("SIGUSR2");
      },
    });

    const s = (
      await c.query<{ dialed: number; first: Date | null; last: Date | null; calls: number }>(
        `select count(*) filter (where dialed_at is not null)::int as dialed, min(dialed_at) as first,
           max(dialed_at) as last, count(*)::int as calls from calls`,
      )
    ).rows[0]!;
    const lag = await lagPercentiles(
      c,
      "from calls, bench_run where calls.dialed_at is not null",
      "calls.dialed_at - bench_run.due_at",
    );
    const doubles = (
      await c.query<{ n: number }>(
        `select count(*)::int as n from (select job_id from calls where dialed_at is not null
         group by job_id having count(*) > 1) d`,
      )
    ).rows[0]!.n;
    const ends = await c.query<{ state: string; reason: string | null; n: number }>(
      "select state, failure_reason as reason, count(*)::int as n from jobs group by 1, 2 order by 3 desc",
    );
    const expected = ends.rows.find((r) => r.state === "failed" && r.reason === "max_attempts_exceeded");
    const wrong: string[] = [];
    if ((expected?.n ?? 0) !== o.jobs)
      wrong.push(`job endings: ${ends.rows.map((r) => `${r.state}/${r.reason ?? "-"}=${r.n}`).join(", ")}`);
    if (s.calls !== s.dialed) wrong.push(`${s.calls - s.dialed} calls were not dialed`);
    if (doubles > 0) wrong.push(`${doubles} jobs dialed more than once`);
    notes.push(...wrong);
    const events = (await c.query<{ n: number }>("select count(*)::int as n from events")).rows[0]!.n;
    const spanS = s.first && s.last ? (s.last.getTime() - s.first.getTime()) / 1000 : null;
    const totalS = doneAt ? (doneAt.getTime() - due.getTime()) / 1000 : null;
    const profiles = o.profile
      ? children.map((ch) => {
          try {
            return JSON.parse(ch.stdout().trim().split("\n").at(-1) ?? "null");
          } catch {
            return null;
          }
        })
      : undefined;
    return {
      name,
      kind: "cobbery",
      processes: o.workers,
      settings: `batch ${o.batchSize}, in flight ${o.maxInFlight}, poll ${o.pollMs} ms${o.tweaks.length ? `; WHAT-IF (bench database only): ${o.tweaks.map((t) => TWEAKS[t]?.what).join("; ")}` : ""}`,
      items: o.jobs,
      done: s.dialed,
      dialSpanS: spanS,
      totalS,
      bootS,
      ratePerS: spanS ? s.dialed / spanS : null,
      totalRatePerS: totalS ? s.dialed / totalS : null,
      lagP50S: lag.p50,
      lagP99S: lag.p99,
      lagMaxS: lag.max,
      doubles,
      notes,
      wrong,
      whatIf: o.tweaks.length > 0,
      extra: { events, profiles, cpu, writes },
    };
  } finally {
    await stopChildren(children).catch(() => {});
    await c.end();
  }
}
