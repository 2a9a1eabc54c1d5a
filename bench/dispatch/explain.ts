/**
 * EXPLAIN (ANALYZE, BUFFERS) of every statement one dispatch round runs (claim; then the dial, with
 * the sim's behaviour lookup and the close of its calls that end at once), on realistic data: N jobs
 * due, of which `--warm` were already dispatched (their calls and events in the tables). Runs the
 * real src/ functions on a database wrapper that, for each statement, explains it inside a
 * savepoint, rolls that back, then runs it for real.
 *
 *   node --import tsx bench/dispatch/explain.ts [--jobs 100000] [--warm 50000] [--batch 200]
 */
import { parseArgs } from "node:util";
import { claimDueJobs } from "../../src/dispatcher/claim.ts";
import { dialClaims } from "../../src/dispatcher/dial.ts";
import { createLogger } from "../../src/logging/index.ts";
import type { Db, Queryable, QueryResult } from "../../src/store/db.ts";
import { openPostgres } from "../../src/store/index.ts";
import { SimCarrier } from "../../src/telephony/sim/simCarrier.ts";
import { prepareCobbery } from "./cobbery.ts";
import { DEFAULT_ADMIN_URL } from "./common.ts";

const { values: a } = parseArgs({
  options: {
    jobs: { type: "string", default: "100000" },
    warm: { type: "string", default: "50000" },
    batch: { type: "string", default: "200" },
    "admin-url": { type: "string" },
  },
});
const jobs = Number(a.jobs);
const warm = Number(a.warm);
const batch = Number(a.batch);
const adminUrl = a["admin-url"] ?? process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL;
const logger = createLogger("warn");

const flat = (sql: string) => sql.replace(/\s+/g, " ").trim();
const plans: string[] = [];

async function explainThenRun<T>(
  q: Queryable,
  sql: string,
  params: readonly unknown[],
): Promise<QueryResult<T>> {
  if (/^\s*(select now\(\)|begin|commit)/i.test(sql)) return q.query<T>(sql, params);
  await q.query("savepoint bench_explain");
  const r = await q.query<{ "QUERY PLAN": string }>(
    `explain (analyze, buffers, verbose false) ${sql}`,
    params,
  );
  await q.query("rollback to savepoint bench_explain");
  plans.push(`---- ${flat(sql).slice(0, 160)}\n${r.rows.map((x) => x["QUERY PLAN"]).join("\n")}`);
  return q.query<T>(sql, params);
}

/** A Db whose statements are explained before they run; statements outside a transaction get one. */
function explaining(db: Db): Db {
  const wrap = (q: Queryable): Queryable => ({
    exec: q.exec,
    query: <T>(sql: string, params: readonly unknown[] = []) => explainThenRun<T>(q, sql, params),
  });
  return {
    ...db,
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      db.tx((q) => explainThenRun<T>(q, sql, params)),
    tx: (fn) => db.tx((q) => fn(wrap(q))),
  };
}

/** One dispatch round through the src functions: claim, then dial and close. */
async function round(db: Db, workerId: string): Promise<number> {
  const sim = new SimCarrier();
  const claims = await claimDueJobs(db, {
    workerId,
    limit: batch,
    leaseSeconds: 30,
    orgMaxConcurrentCalls: 1_000_000,
  });
  if (claims.length === 0) return 0;
  // The sim knows its unanswered endings when it takes the calls: the dial writes them.
  const dialed = await dialClaims(db, sim, claims, logger);
  if (dialed.some((d) => !d.placed.ended)) throw new Error("the sim answered");
  return claims.length;
}

const prep = await prepareCobbery(adminUrl, jobs, [], "cobbery_bench_explain");
process.stderr.write(`prepared ${jobs} jobs in ${prep.createS.toFixed(1)} s\n`);
const db = await openPostgres(prep.url, 4);
try {
  await db.query("insert into workers (id, pid, host) values ('wrk_explain', 0, 'bench')");
  await db.query("update jobs set next_call_at = now() where state = 'pending'");
  await db.query("vacuum (analyze) jobs");
  const t0 = Date.now();
  let done = 0;
  while (done < warm) {
    const n = await round(db, "wrk_explain");
    if (n === 0) break;
    done += n;
  }
  process.stderr.write(`warmed: ${done} jobs dispatched in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  // The planner sees the tables as they are mid-run (no autovacuum on this server).
  await db.query("analyze");
  await round(explaining(db), "wrk_explain");
  const sizes = await db.query<{ rel: string; rows: number; size: string }>(
    `select relname as rel, n_live_tup::int as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
     from pg_stat_user_tables where relname in ('jobs', 'calls', 'events') order by relname`,
  );
  process.stdout.write(
    `EXPLAIN (ANALYZE, BUFFERS) of one dispatch round of ${batch} jobs, ${jobs} jobs, ${done} already dispatched.\n` +
      `Tables: ${sizes.rows.map((r) => `${r.rel} ${r.rows} rows ${r.size}`).join(", ")}\n\n` +
      `${plans.join("\n\n")}\n`,
  );
} finally {
  await db.close();
}
