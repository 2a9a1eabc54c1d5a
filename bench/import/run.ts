/**
 * Import benchmark: `node --import tsx bench/import/run.ts [--rows N]` (default 1,000,000).
 *
 * Against the real PostgreSQL of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), in a
 * fresh database `cobbery_bench_import`:
 *  (a) Cobbery: the CLI's own import (`jobs import`, every row validated, COPY bulk path) of a CSV of N
 *      synthetic valid US numbers, in a child process; jobs/s, wall time, peak RSS;
 *  (b) the physical limit on the same database: psql \copy of the same file into a staging table,
 *      then one INSERT ... SELECT into `jobs` (all its indexes) plus one job.created event per job.
 * Both start from empty jobs/events tables after a CHECKPOINT, so neither pays for the other's writes.
 */
import { execFileSync, fork } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openPostgres, type PostgresDb } from "../../src/store/index.ts";
import { BENCH_DB, createOrgAndCampaign, freshMigratedDatabase } from "./db.ts";
import { generateCsv } from "./generate.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA_DIR = path.resolve(here, "..", ".data");

const GOAL_JOBS_PER_S = 100_000;
const GOAL_RATIO = 2;
const GOAL_RSS_MB = 300;

interface ChildReport {
  wallMs: number;
  exitCode: number;
  maxRssBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

const log = (s: string) => process.stdout.write(`${s}\n`);
const fmt = (x: number, digits = 0) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

const loadavg = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

async function counts(db: PostgresDb, campaignId: string): Promise<{ jobs: number; events: number }> {
  const r = await db.query<{ jobs: number; events: number }>(
    `select (select count(*)::int from jobs where campaign_id = $1) as jobs,
            (select count(*)::int from events where campaign_id = $1) as events`,
    [campaignId],
  );
  return r.rows[0]!;
}

/** Empty tables and a clean buffer cache state for the next measurement. */
async function reset(db: PostgresDb): Promise<void> {
  await db.query("truncate events, jobs cascade");
  await db.query("checkpoint");
}

function runCobbery(
  url: string,
  campaignId: string,
  file: string,
): Promise<{ report: ChildReport; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let report: ChildReport | undefined;
    const child = fork(path.join(here, "child.ts"), [campaignId, file], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, DATABASE_URL: url },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.on("message", (m) => {
      report = m as ChildReport;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const wallMs = performance.now() - started;
      if (!report) reject(new Error(`the importer exited ${code} without a report`));
      else resolve({ report, wallMs });
    });
  });
}

function runLimit(
  url: string,
  orgId: string,
  campaignId: string,
  file: string,
): { wallMs: number; timings: string } {
  const script = `\\set ON_ERROR_STOP on
\\timing on
create unlogged table limit_stage (n bigint generated always as identity, phone text, name text, zip text, segment text, account text);
\\copy limit_stage (phone, name, zip, segment, account) from '${file.replaceAll("'", "''")}' with (format csv, header true)
begin;
insert into jobs (id, org_id, campaign_id, phone_number, contact_name, metadata, data, test_job, state, next_call_at)
select 'job_' || lpad(n::text, 26, '0'), '${orgId}', '${campaignId}', phone, name,
  jsonb_build_object('zip', zip, 'segment', segment), jsonb_build_object('account', account), false, 'pending', now()
from limit_stage;
insert into events (org_id, campaign_id, job_id, event, test_job, properties)
select org_id, campaign_id, id, 'job.created', test_job, '{"state": "pending"}' from jobs where campaign_id = '${campaignId}';
commit;
drop table limit_stage;
`;
  const sqlFile = path.join(DATA_DIR, "limit.sql");
  writeFileSync(sqlFile, script);
  const started = performance.now();
  const out = execFileSync("psql", [url, "-q", "-X", "-f", sqlFile], { encoding: "utf8" });
  const wallMs = performance.now() - started;
  const times = [...out.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1]));
  return {
    wallMs,
    timings: `\\copy ${fmt((times[1] ?? 0) / 1000, 1)} s, INSERT ... SELECT jobs ${fmt((times[3] ?? 0) / 1000, 1)} s, events ${fmt((times[4] ?? 0) / 1000, 1)} s, commit ${fmt((times[5] ?? 0) / 1000, 1)} s`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" } } });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new Error("--rows must be a positive integer");
  const adminUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

  log(`Generating ${fmt(rows)} rows ...`);
  const file = await generateCsv(DATA_DIR, rows);
  log(`Fresh database ${BENCH_DB} ...`);
  const url = await freshMigratedDatabase(adminUrl, BENCH_DB);
  const db = await openPostgres(url, 2);
  try {
    const server = await db.query<{ v: string }>("select current_setting('server_version') as v");
    log(`PostgreSQL ${server.rows[0]!.v}, file ${path.relative(process.cwd(), file)}`);

    const loadBefore = loadavg();
    // (a) Cobbery
    const a = await createOrgAndCampaign(db, "bench-cobbery");
    await reset(db);
    log("\n(a) Cobbery: bin/cobbery jobs import (child process) ...");
    const cob = await runCobbery(url, a.campaignId, file);
    if (cob.report.exitCode !== 0) throw new Error(`the import exited ${cob.report.exitCode}`);
    const ca = await counts(db, a.campaignId);
    if (ca.jobs !== rows || ca.events !== rows)
      throw new Error(`expected ${rows} jobs and events, found ${ca.jobs} and ${ca.events}`);

    // (b) the limit
    const b = await createOrgAndCampaign(db, "bench-limit");
    await reset(db);
    log("\n(b) limit: psql \\copy + INSERT ... SELECT ...");
    const lim = runLimit(url, b.orgId, b.campaignId, file);
    const cb = await counts(db, b.campaignId);
    if (cb.jobs !== rows || cb.events !== rows)
      throw new Error(`limit: expected ${rows} jobs and events, found ${cb.jobs}`);
    log(`    ${lim.timings}`);

    const cobRate = rows / (cob.wallMs / 1000);
    const limRate = rows / (lim.wallMs / 1000);
    const ratio = cob.wallMs / lim.wallMs;
    const rssMb = cob.report.maxRssBytes / 1024 / 1024;
    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    log(
      `\nImport of ${fmt(rows)} jobs (CSV ${fmt(statSync(file).size / 1024 / 1024, 1)} MB), ${os.cpus().length} CPUs`,
    );
    log(
      `load average before (a): ${loadBefore}, at the end: ${loadavg()} (other work on the machine skews both runs)`,
    );
    const table = [
      ["measure", "value", "goal", ""],
      ["Cobbery wall time (CLI process)", `${fmt(cob.wallMs / 1000, 1)} s`, "", ""],
      ["  of which the import itself", `${fmt(cob.report.wallMs / 1000, 1)} s`, "", ""],
      [
        "  importer CPU user+sys",
        `${fmt((cob.report.cpuUserMs + cob.report.cpuSystemMs) / 1000, 1)} s`,
        "",
        "",
      ],
      ["Cobbery jobs/s", fmt(cobRate), `>= ${fmt(GOAL_JOBS_PER_S)}`, verdict(cobRate >= GOAL_JOBS_PER_S)],
      ["limit wall time (psql)", `${fmt(lim.wallMs / 1000, 1)} s`, "", ""],
      ["limit jobs/s", fmt(limRate), "", ""],
      [
        "ratio (Cobbery time / limit time)",
        `${fmt(ratio, 2)}x`,
        `<= ${GOAL_RATIO}x`,
        verdict(ratio <= GOAL_RATIO),
      ],
      ["Cobbery peak RSS", `${fmt(rssMb, 0)} MB`, `< ${GOAL_RSS_MB} MB`, verdict(rssMb < GOAL_RSS_MB)],
    ];
    const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table)
      log(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      );
  } finally {
    await db.close();
  }
}

await main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
