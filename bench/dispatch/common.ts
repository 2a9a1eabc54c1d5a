import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const HERE = path.join(ROOT, "bench", "dispatch");

export const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test";

// int8 as numbers (counts, ids of the bare table), like the project's driver.
pg.types.setTypeParser(20, (v: string) => Number(v));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Waits until `cond` is true, checking every `everyMs`; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Start-up chatter of the worker processes, not shown. */
const NOISE = /FastifyDeprecation|--trace-warnings|is dispatching\.$/;

/** A child process whose stdout is collected and stderr forwarded with a prefix. */
export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

export function startChild(
  label: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { quietStderr?: boolean } = {},
): Child {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  let errBuf = "";
  proc.stderr?.on("data", (d: Buffer) => {
    errBuf += d.toString();
    let i = errBuf.indexOf("\n");
    while (i >= 0) {
      const line = errBuf.slice(0, i);
      errBuf = errBuf.slice(i + 1);
      if (!opts.quietStderr && line.trim() !== "" && !NOISE.test(line))
        process.stderr.write(`  [${label}] ${line}\n`);
      i = errBuf.indexOf("\n");
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, stdout: () => out, exited };
}

/** SIGTERM to each child (by its own pid), then SIGKILL to those still running after `graceMs`. */
export async function stopChildren(children: readonly Child[], graceMs = 20_000): Promise<void> {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGTERM");
  const all = Promise.all(children.map((c) => c.exited));
  const timedOut = await Promise.race([all.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await all;
  }
}

export const nodeTsx = (script: string): [string, string[]] => [
  process.execPath,
  ["--import", "tsx", path.join(HERE, script)],
];

/** p50/p99 (seconds) of an interval expression over rows, with PostgreSQL's percentile_cont. */
export async function lagPercentiles(
  c: pg.Client,
  fromSql: string,
  lagSql: string,
): Promise<{ p50: number | null; p99: number | null; max: number | null }> {
  const r = await c.query<{ p50: number | null; p99: number | null; max: number | null }>(
    `select percentile_cont(0.5) within group (order by lag) as p50,
            percentile_cont(0.99) within group (order by lag) as p99,
            max(lag) as max
     from (select extract(epoch from (${lagSql}))::float8 as lag ${fromSql}) l`,
  );
  return r.rows[0] ?? { p50: null, p99: null, max: null };
}

/** The results a scenario reports, one row of the final table. */
export interface ScenarioResult {
  name: string;
  kind: "cobbery" | "pg-boss" | "bare";
  processes: number;
  settings: string;
  items: number;
  /** Items dialed / fetched / claimed. */
  done: number;
  /** Seconds from the first to the last dial (claim). */
  dialSpanS: number | null;
  /** Seconds from the due time (start) until every item ended. */
  totalS: number | null;
  /** Seconds from spawning the processes until they were ready (not counted in the rates). */
  bootS: number | null;
  ratePerS: number | null;
  totalRatePerS: number | null;
  lagP50S: number | null;
  lagP99S: number | null;
  lagMaxS: number | null;
  doubles: number | null;
  notes: string[];
  /** What went wrong with the run's outcome (not its speed): the run exits 1 when any is set. */
  wrong?: string[];
  /** Run with what-if changes to the bench database: not counted for the goals. */
  whatIf?: boolean;
  extra?: Record<string, unknown>;
}

export const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? "-"
    : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Server settings that matter for throughput, printed with the results. */
export async function serverFacts(url: string): Promise<string> {
  const c = await connect(url);
  try {
    const v = await c.query<{ v: string }>("select current_setting('server_version') as v");
    const s = await c.query<{ name: string; setting: string; unit: string | null }>(
      `select name, setting, unit from pg_settings where name in
        ('shared_buffers','synchronous_commit','fsync','autovacuum','max_connections','wal_level','commit_delay')
       order by name`,
    );
    return `PostgreSQL ${v.rows[0]?.v}; ${s.rows.map((r) => `${r.name}=${r.setting}${r.unit ? r.unit : ""}`).join(", ")}`;
  } finally {
    await c.end();
  }
}

/**
 * CPU seconds so far: the machine's busy and iowait time, each postgres process (those serving the
 * bench database apart), and the bench's child processes. Other work on the machine (other
 * databases, other processes) shows as "other": a run with much of it is not a clean measurement.
 */
export interface CpuSnapshot {
  at: number;
  busyS: number;
  iowaitS: number;
  selfS: number;
  /** pid -> CPU seconds of each postgres process (backends come and go: compared pid by pid). */
  postgres: Map<string, number>;
  /** pids of the backends connected to the bench database. */
  benchBackends: Set<string>;
  children: Map<string, number>;
}

const TICK = 100; // USER_HZ on Linux

function procCpuS(stat: string): number {
  // Fields after the ")" of the command name: state is field 3; utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / TICK;
}

function machine(): { busyS: number; iowaitS: number } {
  const first = fs
    .readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , iowait = 0, irq = 0, softirq = 0, steal = 0] = first;
  return { busyS: (user + nice + system + irq + softirq + steal) / TICK, iowaitS: iowait / TICK };
}

export async function cpuSnapshot(
  c: pg.Client,
  database: string,
  childPids: readonly number[],
): Promise<CpuSnapshot> {
  const backends = await c.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1", [
    database,
  ]);
  const postgres = new Map<string, number>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat.includes("(postgres)")) postgres.set(d, procCpuS(stat));
    } catch {
      // gone meanwhile
    }
  }
  const children = new Map<string, number>();
  for (const p of childPids) {
    try {
      children.set(String(p), procCpuS(fs.readFileSync(`/proc/${p}/stat`, "utf8")));
    } catch {
      // exited
    }
  }
  const self = process.cpuUsage();
  return {
    at: Date.now(),
    ...machine(),
    selfS: (self.user + self.system) / 1e6,
    postgres,
    benchBackends: new Set(backends.rows.map((r) => String(r.pid))),
    children,
  };
}

/** CPU used between two snapshots by processes alive at the second (new ones counted whole). */
function grown(a: Map<string, number>, b: Map<string, number>, only?: Set<string>): number {
  let s = 0;
  for (const [pid, v] of b) if (!only || only.has(pid)) s += v - (a.get(pid) ?? 0);
  return s;
}

export interface CpuUse {
  seconds: number;
  cores: number;
  busy: number;
  benchPostgres: number;
  otherPostgres: number;
  children: number;
  other: number;
  iowait: number;
}

/** Average cores used between two snapshots, machine-wide and by group. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const s = Math.max(0.001, (b.at - a.at) / 1000);
  const busy = (b.busyS - a.busyS) / s;
  const benchPostgres = grown(a.postgres, b.postgres, b.benchBackends) / s;
  const allPostgres = grown(a.postgres, b.postgres) / s;
  const children = grown(a.children, b.children) / s;
  const self = (b.selfS - a.selfS) / s;
  return {
    seconds: s,
    cores: os.cpus().length,
    busy,
    benchPostgres,
    otherPostgres: allPostgres - benchPostgres,
    children,
    other: Math.max(0, busy - allPostgres - children - self),
    iowait: (b.iowaitS - a.iowaitS) / s,
  };
}

export const cpuText = (u: CpuUse): string =>
  `CPU: ${u.busy.toFixed(2)} of ${u.cores} cores busy: postgres for the bench db ${u.benchPostgres.toFixed(2)}, ` +
  `other postgres processes (wal writer, checkpointer, other databases) ${u.otherPostgres.toFixed(2)}, ` +
  `bench worker processes ${u.children.toFixed(2)}, anything else ${u.other.toFixed(2)}; iowait ${u.iowait.toFixed(2)}`;

/**
 * Waits (up to `maxS`) until the machine is quiet: under 0.25 cores busy over 2 s and no active
 * session on other databases. Other engineers may share the machine; a busy run is flagged.
 */
export async function waitQuiet(c: pg.Client, maxS: number): Promise<string | null> {
  const deadline = Date.now() + maxS * 1000;
  let said = false;
  for (;;) {
    const m0 = machine();
    await sleep(2000);
    const m1 = machine();
    const busy = (m1.busyS - m0.busyS) / 2;
    const act = await c.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
       where state not in ('idle') and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    const others = act.rows[0]!.n;
    if (busy < 0.25 && others === 0) return null;
    const what = `machine busy (${busy.toFixed(2)} cores, ${others} other active database sessions)`;
    if (Date.now() > deadline) return `${what} at the start: figures may be low`;
    if (!said) {
      process.stderr.write(`  waiting for a quiet machine: ${what}\n`);
      said = true;
    }
  }
}

/** Rows written per table of the connected database, and the server's WAL position. */
export interface WriteSnapshot {
  walLsn: string;
  tables: Map<string, { ins: number; upd: number; hot: number; del: number; indexes: number }>;
}

export async function writeSnapshot(c: pg.Client): Promise<WriteSnapshot> {
  // Backends report their counts at most once a second and when they exit: read after they stopped,
  // and make this session report its own writes (the due-time update) first (PostgreSQL 15+).
  await c.query("select pg_stat_force_next_flush()").catch(() => {});
  await c.query("select pg_stat_clear_snapshot()");
  const wal = await c.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
  const r = await c.query<{
    rel: string;
    ins: number;
    upd: number;
    hot: number;
    del: number;
    indexes: number;
  }>(
    `select s.schemaname || '.' || s.relname as rel, s.n_tup_ins as ins, s.n_tup_upd as upd,
       s.n_tup_hot_upd as hot, s.n_tup_del as del,
       (select count(*)::int from pg_index i where i.indrelid = s.relid) as indexes
     from pg_stat_user_tables s`,
  );
  return { walLsn: wal.rows[0]!.lsn, tables: new Map(r.rows.map((x) => [x.rel, x])) };
}

/** WAL bytes between two snapshots (server-wide) and rows written per table, per item. */
export async function writesBetween(
  c: pg.Client,
  a: WriteSnapshot,
  b: WriteSnapshot,
  items: number,
): Promise<{ walBytesPerItem: number; text: string; perTable: Record<string, unknown> }> {
  const w = await c.query<{ d: number }>("select pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 as d", [
    b.walLsn,
    a.walLsn,
  ]);
  const walBytesPerItem = (w.rows[0]?.d ?? 0) / Math.max(1, items);
  const perTable: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const [rel, t] of b.tables) {
    const o = a.tables.get(rel) ?? { ins: 0, upd: 0, hot: 0, del: 0 };
    const ins = t.ins - o.ins;
    const upd = t.upd - o.upd;
    const hot = t.hot - o.hot;
    const del = t.del - o.del;
    if (ins + upd + del === 0) continue;
    const per = (x: number) => (x / Math.max(1, items)).toFixed(2);
    perTable[rel] = { ins, upd, hot, del, indexes: t.indexes };
    parts.push(
      `${rel} (${t.indexes} indexes): ${per(ins)} inserts, ${per(upd)} updates (${per(hot)} HOT)${del ? `, ${per(del)} deletes` : ""}`,
    );
  }
  return {
    walBytesPerItem,
    perTable,
    text: `per item: WAL ${Math.round(walBytesPerItem)} bytes (server-wide); ${parts.join("; ")}`,
  };
}

export interface DueRun {
  /** The one due time every item got (table public.bench_run). */
  due: Date;
  /** When the last item was seen done; null on a timeout. */
  doneAt: Date | null;
  cpu: CpuUse;
  writes: Awaited<ReturnType<typeof writesBetween>>;
}

/**
 * The measured part of a queue scenario, the same for every system: gives every parked item one due
 * time five seconds ahead (kept in public.bench_run), waits until `remaining` reports none left (or
 * the timeout), then stops the workers; CPU is sampled over due time -> done, writes over the whole
 * span. Notes (late due-time update, timeout, CPU, writes) are added to `notes`.
 */
export async function runUntilDone(
  c: pg.Client,
  o: {
    database: string;
    items: number;
    children: readonly Child[];
    timeoutS: number;
    notes: string[];
    /** Makes every parked item due at `due` (one statement), and the table to analyze after. */
    makeDue: (due: Date) => Promise<void>;
    table: string;
    /** Items not done yet, with the database clock. */
    remaining: () => Promise<{ n: number; t: Date }>;
    /** Called once the due time is set, before the clock starts (e.g. to signal profilers). */
    onDueSet?: () => void;
  },
): Promise<DueRun> {
  await c.query("create table public.bench_run (due_at timestamptz not null)");
  const due = (
    await c.query<{ due: Date }>(
      "insert into public.bench_run select now() + interval '5 seconds' returning due_at as due",
    )
  ).rows[0]!.due;
  await o.makeDue(due);
  await c.query(`vacuum (analyze) ${o.table}`);
  const readyAt = (await c.query<{ t: Date }>("select clock_timestamp() as t")).rows[0]!.t;
  if (readyAt.getTime() >= due.getTime())
    o.notes.push(`the due-time update committed ${readyAt.getTime() - due.getTime()} ms after the due time`);
  o.onDueSet?.();
  const pids = o.children.map((ch) => ch.proc.pid ?? 0);
  const ws0 = await writeSnapshot(c);
  await sleep(Math.max(0, due.getTime() - readyAt.getTime()));
  const cpu0 = await cpuSnapshot(c, o.database, pids);
  let doneAt: Date | null = null;
  let left = o.items;
  let lastPrint = Date.now();
  const deadline = Date.now() + o.timeoutS * 1000;
  let cpu1 = cpu0;
  while (Date.now() < deadline) {
    const r = await o.remaining();
    left = r.n;
    if (left === 0) {
      doneAt = r.t;
      cpu1 = await cpuSnapshot(c, o.database, pids);
      break;
    }
    if (Date.now() - lastPrint > 5000) {
      lastPrint = Date.now();
      process.stderr.write(`  ${fmt(o.items - left)} of ${fmt(o.items)} done\n`);
    }
    await sleep(200);
  }
  if (!doneAt) {
    cpu1 = await cpuSnapshot(c, o.database, pids);
    o.notes.push(`timed out after ${o.timeoutS} s with ${left} not done`);
  }
  const cpu = cpuBetween(cpu0, cpu1);
  o.notes.push(cpuText(cpu));
  await stopChildren(o.children);
  const writes = await writesBetween(c, ws0, await sleep(1000).then(() => writeSnapshot(c)), o.items);
  o.notes.push(writes.text);
  return { due, doneAt, cpu, writes };
}
