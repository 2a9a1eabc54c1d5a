/**
 * `cobbery worker` with timings: the same composition (createCore, newDispatcher) on a database
 * wrapper that times every statement, every transaction's pool wait, BEGIN and COMMIT, and the
 * transactions as a whole, grouped by their first statement. On SIGTERM it stops the dispatcher
 * like runWorker does and prints the timings as one JSON line on stdout.
 *
 * Used by run.ts with --profile instead of bin/cobbery; nothing in src/ is changed.
 */
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { createCore } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import type { Db, Queryable, QueryResult } from "../../src/store/db.ts";
import { openPostgres } from "../../src/store/index.ts";

interface Stat {
  n: number;
  ms: number;
  maxMs: number;
  rows: number;
}

const stats = new Map<string, Stat>();

function add(key: string, ms: number, rows = 0): void {
  let s = stats.get(key);
  if (!s) {
    s = { n: 0, ms: 0, maxMs: 0, rows: 0 };
    stats.set(key, s);
  }
  s.n++;
  s.ms += ms;
  s.rows += rows;
  if (ms > s.maxMs) s.maxMs = ms;
}

/** A short stable name for a statement: its first words, whitespace collapsed. */
function keyOf(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  // CTE statements: name them by what they end with too (the final insert/select).
  return flat.length > 90 ? `${flat.slice(0, 70)} … ${flat.slice(-30)}` : flat;
}

async function timed<T>(key: string, f: () => Promise<QueryResult<T>>): Promise<QueryResult<T>> {
  const t = performance.now();
  const r = await f();
  add(`sql ${key}`, performance.now() - t, r.rowCount);
  return r;
}

function wrapClient(c: pg.PoolClient, first: { key: string | null }): Queryable {
  return {
    async exec(sql: string): Promise<void> {
      await c.query(sql);
    },
    query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const key = keyOf(sql);
      first.key ??= key;
      return timed(key, async () => {
        const r = await c.query(sql, params as unknown[]);
        return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
      });
    },
  };
}

async function profiledDb(url: string): Promise<Db> {
  const db = await openPostgres(url);
  const pool = db.pool;
  return {
    kind: "postgres",
    exec: db.exec,
    query<T>(sql: string, params: readonly unknown[] = []) {
      return timed(`(no tx) ${keyOf(sql)}`, () => db.query<T>(sql, params));
    },
    // Same steps as src/store/postgres.ts's tx, each timed.
    async tx(fn) {
      const t0 = performance.now();
      const client = await pool.connect();
      const t1 = performance.now();
      add("tx: pool wait", t1 - t0);
      const first = { key: null as string | null };
      try {
        await client.query("begin");
        add("tx: BEGIN", performance.now() - t1);
        const out = await fn(wrapClient(client, first));
        const t2 = performance.now();
        await client.query("commit");
        add("tx: COMMIT", performance.now() - t2);
        add(`tx total (first stmt: ${first.key ?? "-"})`, performance.now() - t0);
        return out;
      } catch (e) {
        await client.query("rollback").catch(() => {});
        add(`tx ROLLED BACK (first stmt: ${first.key ?? "-"})`, performance.now() - t0);
        throw e;
      } finally {
        client.release();
      }
    },
    listen: db.listen,
    close: db.close,
  };
}

const config = loadConfig();
if (!config.databaseUrl) throw new Error("DATABASE_URL is required");
let started = performance.now();
let cpu0 = process.cpuUsage();
let elu0 = performance.eventLoopUtilization();
const db = await profiledDb(config.databaseUrl);
const app = await createCore(config, { db });
const dispatcher = app.newDispatcher();
await dispatcher.start();
process.stderr.write(`profiled worker ${dispatcher.id} is dispatching.\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await dispatcher.stop();
  await app.close();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const out = {
    worker: dispatcher.id,
    wallMs: performance.now() - started,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    eventLoopUtilization: elu.utilization,
    stats: Object.fromEntries([...stats.entries()].sort((a, b) => b[1].ms - a[1].ms)),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
}
// run.ts sends SIGUSR2 when the jobs are made due: the figures then cover the dispatching alone.
process.on("SIGUSR2", () => {
  stats.clear();
  started = performance.now();
  cpu0 = process.cpuUsage();
  elu0 = performance.eventLoopUtilization();
});
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
