/** The two references: pg-boss fetch+complete, and a bare loop of the minimal claim statement. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { PgBoss } from "pg-boss";
import { freshDatabase } from "../databases.ts";
import {
  type Child,
  connect,
  cpuBetween,
  cpuSnapshot,
  cpuText,
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
  writeSnapshot,
  writesBetween,
} from "./common.ts";

export const PGBOSS_DB = "cobbery_bench_pgboss";
export const BARE_DB = "cobbery_bench_bare";
const QUEUE = "bench";

export function pgBossVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "pg-boss", "package.json"), "utf8"));
  return String(pkg.version);
}

const ready = (children: readonly Child[]) => () =>
  Promise.resolve(children.every((ch) => ch.stdout().includes("ready\n")));

export async function runPgBoss(o: {
  adminUrl: string;
  jobs: number;
  workers: number;
  batchSize: number;
  pollMs: number;
  timeoutS: number;
  quietWaitS: number;
}): Promise<ScenarioResult> {
  const version = pgBossVersion();
  const name = `pg-boss ${version} ${o.workers}w b${o.batchSize}`;
  process.stderr.write(`\n== ${name}: ${fmt(o.jobs)} jobs\n`);
  const url = await freshDatabase(o.adminUrl, PGBOSS_DB);
  // Install, create the queue and insert the jobs, parked far ahead like Cobbery's.
  const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false });
  boss.on("error", (e) => process.stderr.write(`pg-boss error: ${String(e)}\n`));
  await boss.start();
  const queueOptions = { retryLimit: 0, expireInSeconds: 900, deleteAfterSeconds: 7 * 24 * 3600 };
  await boss.createQueue(QUEUE, queueOptions);
  const t0 = Date.now();
  for (let from = 0; from < o.jobs; from += 10_000) {
    const batch = [];
    for (let i = from; i < Math.min(o.jobs, from + 10_000); i++)
      batch.push({ data: { i }, startAfter: new Date("2999-01-01Z") });
    await boss.insert(QUEUE, batch);
  }
  await boss.stop({ graceful: false, close: true });
  process.stderr.write(`  inserted ${fmt(o.jobs)} jobs in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const c = await connect(url);
  await c.query("vacuum (analyze) pgboss.job");
  const children: Child[] = [];
  const notes: string[] = [
    `queue ${JSON.stringify(queueOptions)}; workers: fetch({batchSize: ${o.batchSize}}) then complete(ids), ` +
      `empty fetch waits ${o.pollMs} ms; supervise/schedule/migrate off in workers`,
  ];
  try {
    const busy = await waitQuiet(c, o.quietWaitS);
    if (busy) notes.push(busy);
    const env = {
      ...process.env,
      DATABASE_URL: url,
      QUEUE,
      BATCH: String(o.batchSize),
      POLL_MS: String(o.pollMs),
    };
    const spawnAt = Date.now();
    for (let i = 0; i < o.workers; i++) {
      const [cmd, args] = nodeTsx("pgbossWorker.ts");
      children.push(startChild(`pg-boss ${i + 1}`, cmd, args, env));
    }
    await waitFor("pg-boss workers to start", ready(children), 60_000, 100);
    const bootS = (Date.now() - spawnAt) / 1000;
    await sleep(300);
    const { due, doneAt, cpu, writes } = await runUntilDone(c, {
      database: PGBOSS_DB,
      items: o.jobs,
      children,
      timeoutS: o.timeoutS,
      notes,
      makeDue: async (at) => {
        await c.query("update pgboss.job set start_after = $1 where name = $2 and state = 'created'", [
          at,
          QUEUE,
        ]);
      },
      table: "pgboss.job",
      remaining: async () =>
        (
          await c.query<{ n: number; t: Date }>(
            "select count(*)::int as n, clock_timestamp() as t from pgboss.job where name = $1 and state <> 'completed'",
            [QUEUE],
          )
        ).rows[0]!,
    });
    const s = (
      await c.query<{ fetched: number; first: Date | null; last: Date | null; retried: number }>(
        `select count(started_on)::int as fetched, min(started_on) as first, max(started_on) as last,
           count(*) filter (where retry_count > 0)::int as retried
         from pgboss.job where name = $1`,
        [QUEUE],
      )
    ).rows[0]!;
    const lag = await lagPercentiles(
      c,
      `from pgboss.job, public.bench_run where name = '${QUEUE}' and started_on is not null`,
      "started_on - bench_run.due_at",
    );
    const spanS = s.first && s.last ? (s.last.getTime() - s.first.getTime()) / 1000 : null;
    const totalS = doneAt ? (doneAt.getTime() - due.getTime()) / 1000 : null;
    const stats = children.map((ch) => {
      try {
        return JSON.parse(ch.stdout().trim().split("\n").at(-1) ?? "null");
      } catch {
        return null;
      }
    });
    const fetchedByWorkers = stats.reduce((a, x) => a + (x?.fetched ?? 0), 0);
    return {
      name,
      kind: "pg-boss",
      processes: o.workers,
      settings: `pg-boss ${version}, fetch batchSize ${o.batchSize}, complete(ids) per batch, poll ${o.pollMs} ms`,
      items: o.jobs,
      done: s.fetched,
      dialSpanS: spanS,
      totalS,
      bootS,
      ratePerS: spanS ? s.fetched / spanS : null,
      totalRatePerS: totalS ? s.fetched / totalS : null,
      lagP50S: lag.p50,
      lagP99S: lag.p99,
      lagMaxS: lag.max,
      // A job fetched twice would be retried (retry_count > 0) or fetched more than once by workers.
      doubles: s.retried + Math.max(0, fetchedByWorkers - s.fetched),
      notes,
      extra: { workers: stats, cpu, writes },
    };
  } finally {
    await stopChildren(children).catch(() => {});
    await c.end();
  }
}

export async function runBare(o: {
  adminUrl: string;
  rows: number;
  workers: number;
  batchSize: number;
  quietWaitS: number;
}): Promise<ScenarioResult> {
  const name = `bare claim loop ${o.workers}p b${o.batchSize}`;
  process.stderr.write(`\n== ${name}: ${fmt(o.rows)} rows\n`);
  const url = await freshDatabase(o.adminUrl, BARE_DB);
  const c = await connect(url);
  const children: Child[] = [];
  try {
    await c.query(
      `create table q (id bigint generated always as identity primary key, due timestamptz not null,
         locked boolean not null default false)`,
    );
    await c.query(
      "insert into q (due) select now() - make_interval(secs => $1 - g) from generate_series(1, $1) g",
      [o.rows],
    );
    await c.query("create index q_due on q (due) where not locked");
    await c.query("vacuum (analyze) q");
    const busy = await waitQuiet(c, o.quietWaitS);
    const env = { ...process.env, DATABASE_URL: url, BATCH: String(o.batchSize) };
    for (let i = 0; i < o.workers; i++) {
      const [cmd, args] = nodeTsx("bareWorker.ts");
      children.push(startChild(`bare ${i + 1}`, cmd, args, env));
    }
    await waitFor("bare workers to connect", ready(children), 60_000, 50);
    const pids = children.map((ch) => ch.proc.pid ?? 0);
    const cpu0 = await cpuSnapshot(c, BARE_DB, pids);
    const ws0 = await writeSnapshot(c);
    for (const ch of children) ch.proc.kill("SIGUSR2");
    // Each prints its figures when it claims nothing more, then waits for SIGTERM.
    await waitFor(
      "the bare loops to finish",
      () => Promise.resolve(children.every((ch) => ch.stdout().includes("{"))),
      Math.max(120_000, o.rows * 2),
      20,
    );
    const cpu1 = await cpuSnapshot(c, BARE_DB, pids);
    await stopChildren(children);
    const cpu = cpuBetween(cpu0, cpu1);
    const writes = await writesBetween(c, ws0, await sleep(1000).then(() => writeSnapshot(c)), o.rows);
    const stats = children.map(
      (ch) =>
        JSON.parse(ch.stdout().trim().split("\n").at(-1) ?? "null") as {
          rows: number;
          statements: number;
          startedAt: number;
          lastRowAt: number;
        },
    );
    const rows = stats.reduce((a, s) => a + s.rows, 0);
    const start = Math.min(...stats.map((s) => s.startedAt));
    const end = Math.max(...stats.map((s) => s.lastRowAt));
    const wallS = (end - start) / 1000;
    const locked = (await c.query<{ n: number }>("select count(*)::int as n from q where locked")).rows[0]!.n;
    return {
      name,
      kind: "bare",
      processes: o.workers,
      settings: `autocommit UPDATE ... WHERE id IN (SELECT ... ORDER BY due LIMIT ${o.batchSize} FOR UPDATE SKIP LOCKED), partial index (due) where not locked`,
      items: o.rows,
      done: rows,
      dialSpanS: wallS,
      totalS: wallS,
      bootS: null,
      ratePerS: rows / wallS,
      totalRatePerS: rows / wallS,
      lagP50S: null,
      lagP99S: null,
      lagMaxS: null,
      // Rows claimed by more than one process would make the sum exceed the locked rows.
      doubles: rows - locked,
      notes: [
        ...(busy ? [busy] : []),
        `${stats.reduce((a, s) => a + s.statements, 0)} statements, rows locked: ${locked}`,
        cpuText(cpu),
        writes.text,
      ],
      extra: { cpu, writes },
    };
  } finally {
    await stopChildren(children).catch(() => {});
    await c.end();
  }
}
