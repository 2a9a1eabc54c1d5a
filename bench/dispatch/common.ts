import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const HERE = path.join(ROOT, "bench", "dispatch");

export const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test";

// int8 as numbers (counts, ids of the bare table), like the project's driver.
pg.types.setTypeParser(20, (v: string) => Number(v));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The URL of another database on the same server. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops and creates database `name` on the server of `adminUrl`; returns its URL. */
export async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}

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
      if (!opts.quietStderr && line.trim() !== "") process.stderr.write(`  [${label}] ${line}\n`);
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
