/**
 * Dispatch benchmark: N due jobs, the simulated carrier answering at once with no answer, Cobbery
 * worker processes on a real PostgreSQL, against two references on the same server: pg-boss
 * (fetch + complete) and a bare loop of the minimal claim statement. See README.md.
 *
 *   npm run bench:dispatch -- [--jobs 100000] [--cobbery 1:1000:4000,4:1000:4000] [--profile] ...
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runCobbery, TWEAKS } from "./cobbery.ts";
import { DEFAULT_ADMIN_URL, fmt, type ScenarioResult, serverFacts, table } from "./common.ts";
import { pgBossVersion, runBare, runPgBoss } from "./refs.ts";

const { values: a } = parseArgs({
  options: {
    jobs: { type: "string", default: "100000" },
    cobbery: { type: "string", default: "1:1000:4000,4:1000:4000" },
    sweep: { type: "boolean", default: false },
    "pgboss-workers": { type: "string", default: "4" },
    "pgboss-batch": { type: "string", default: "100" },
    "bare-workers": { type: "string", default: "4" },
    "bare-batch": { type: "string", default: "100" },
    "poll-ms": { type: "string", default: "100" },
    only: { type: "string", default: "bare,pgboss,cobbery" },
    profile: { type: "boolean", default: false },
    "timeout-s": { type: "string", default: "600" },
    "quiet-wait-s": { type: "string", default: "120" },
    "admin-url": { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (a.help) {
  process.stdout.write(`Usage: npm run bench:dispatch -- [options]
  --jobs N              jobs (and pg-boss jobs, bare rows) per scenario (default 100000)
  --cobbery LIST        Cobbery runs as workers:batchSize:maxInFlight, comma-separated (default 1:1000:4000,4:1000:4000)
              (a 4th field adds what-if changes to the bench database, joined by +: e.g. 4:200:2000:lean-events+fillfactor;
               one of ${Object.keys(TWEAKS).join(", ")}; see README.md)
  --sweep               also run 4:100:1000, 4:500:2000, 2:1000:4000 and 4:2000:8000
  --pgboss-workers N    pg-boss worker processes (default 4); --pgboss-batch N fetch batchSize (default 100)
  --bare-workers N      bare loop processes (default 4); --bare-batch N rows per statement (default 100)
  --poll-ms N           idle poll of Cobbery workers (COBBERY_DISPATCH_POLL_MS) and pg-boss workers (default 100)
  --only LIST           scenarios to run among bare,pgboss,cobbery (default all)
  --profile             run Cobbery workers through bench/dispatch/profiledWorker.ts and print per-statement timings
  --timeout-s N         give up a scenario after N seconds (default 600)
  --quiet-wait-s N      before each scenario, wait up to N s for other load on the machine to stop (default 120)
  --admin-url URL       server to create the bench databases on (default $BENCH_ADMIN_URL or ${DEFAULT_ADMIN_URL})
  --json FILE           also write all results as JSON
`);
  process.exit(0);
}

const int = (s: string | undefined, what: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${s}`);
  return n;
};

const adminUrl = a["admin-url"] ?? process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL;
const jobs = int(a.jobs, "--jobs");
const pollMs = int(a["poll-ms"], "--poll-ms");
const timeoutS = int(a["timeout-s"], "--timeout-s");
const quietWaitS = Number(a["quiet-wait-s"] ?? 120);
const only = new Set((a.only ?? "").split(",").map((s) => s.trim()));
const cobberyRuns = [
  ...(a.cobbery ?? "").split(","),
  ...(a.sweep ? ["4:100:1000", "4:500:2000", "2:1000:4000", "4:2000:8000"] : []),
]
  .map((s) => s.trim())
  .filter((s) => s !== "")
  .map((s) => {
    const [w, b, f, t] = s.split(":");
    return {
      workers: int(w, "--cobbery workers"),
      batchSize: int(b ?? "200", "--cobbery batch"),
      maxInFlight: int(f ?? "2000", "--cobbery in flight"),
      tweaks: t ? t.split("+") : [],
    };
  });

const facts = await serverFacts(adminUrl);
process.stderr.write(`Dispatch benchmark, ${fmt(jobs)} jobs per scenario. ${facts}\n`);

const results: ScenarioResult[] = [];
if (only.has("bare")) {
  results.push(
    await runBare({
      adminUrl,
      rows: jobs,
      workers: int(a["bare-workers"], "--bare-workers"),
      batchSize: int(a["bare-batch"], "--bare-batch"),
      quietWaitS,
    }),
  );
}
if (only.has("pgboss")) {
  results.push(
    await runPgBoss({
      adminUrl,
      jobs,
      workers: int(a["pgboss-workers"], "--pgboss-workers"),
      batchSize: int(a["pgboss-batch"], "--pgboss-batch"),
      pollMs,
      timeoutS,
      quietWaitS,
    }),
  );
}
if (only.has("cobbery")) {
  for (const r of cobberyRuns) {
    results.push(
      await runCobbery({ adminUrl, jobs, ...r, pollMs, profile: a.profile ?? false, timeoutS, quietWaitS }),
    );
  }
}

// ---- report ----
const out: string[] = [];
out.push("");
out.push(`Dispatch benchmark: ${fmt(jobs)} items per scenario, same server. ${facts}`);
out.push(
  "rate = items / (last dial - first dial); end-to-end = items / (due time -> every item ended); lag = dial - due time.",
);
out.push("");
out.push(
  table(
    [
      "scenario",
      "items",
      "rate/s",
      "end-to-end/s",
      "first-last s",
      "due-done s",
      "lag p50 s",
      "lag p99 s",
      "lag max s",
      "doubles",
      "boot s",
    ],
    results.map((r) => [
      r.name,
      fmt(r.done),
      fmt(r.ratePerS),
      fmt(r.totalRatePerS),
      fmt(r.dialSpanS, 2),
      fmt(r.totalS, 2),
      fmt(r.lagP50S, 2),
      fmt(r.lagP99S, 2),
      fmt(r.lagMaxS, 2),
      fmt(r.doubles),
      fmt(r.bootS, 1),
    ]),
  ),
);
out.push("");
for (const r of results) {
  out.push(`${r.name}: ${r.settings}`);
  for (const n of r.notes) out.push(`    ${n}`);
  if (r.extra && typeof r.extra.events === "number") out.push(`    events written: ${fmt(r.extra.events)}`);
}

const pgboss = results.find((r) => r.kind === "pg-boss");
const bare = results.find((r) => r.kind === "bare");
const c4 = results.filter((r) => r.kind === "cobbery" && r.processes === 4 && !r.whatIf);
if (c4.length > 0 && (pgboss || bare)) {
  const best = c4.reduce((x, y) => ((y.totalRatePerS ?? 0) > (x.totalRatePerS ?? 0) ? y : x));
  out.push("");
  out.push(`Goals, with the best 4-worker Cobbery run as shipped (${best.name}; what-if runs excluded):`);
  const rows: string[][] = [];
  const goal = (label: string, ref: ScenarioResult | undefined, target: number) => {
    if (!ref) return;
    const e2e = (best.totalRatePerS ?? 0) / (ref.totalRatePerS ?? Number.NaN);
    const span = (best.ratePerS ?? 0) / (ref.ratePerS ?? Number.NaN);
    rows.push([
      label,
      `>= ${target.toFixed(1)}x`,
      `${e2e.toFixed(2)}x`,
      `${span.toFixed(2)}x`,
      e2e >= target ? "PASS" : "FAIL",
    ]);
  };
  goal(`Cobbery(4) / ${pgboss?.name ?? "pg-boss"}`, pgboss, 1.0);
  goal(`Cobbery(4) / ${bare?.name ?? "bare loop"}`, bare, 0.5);
  out.push(table(["ratio", "goal", "end-to-end", "first-last", "verdict (end-to-end)"], rows));
  const doubles = results.filter((r) => r.kind === "cobbery").reduce((n, r) => n + (r.doubles ?? 0), 0);
  out.push(`Double dials over all Cobbery runs: ${doubles} (must be 0): ${doubles === 0 ? "PASS" : "FAIL"}`);
  if (c4.length > 1)
    for (const r of c4)
      out.push(
        `  ${r.name}: ${pgboss ? `${((r.totalRatePerS ?? 0) / (pgboss.totalRatePerS ?? 1)).toFixed(2)}x pg-boss` : ""}${bare ? `, ${((r.totalRatePerS ?? 0) / (bare.totalRatePerS ?? 1)).toFixed(2)}x bare` : ""}`,
      );
}

const profiles = results.flatMap((r) =>
  Array.isArray(r.extra?.profiles) ? [{ r, p: r.extra.profiles }] : [],
);
for (const { r, p } of profiles) {
  out.push("");
  out.push(`Profile of ${r.name} (per worker process, from the due time to the stop):`);
  for (const w of p as Array<{
    worker: string;
    wallMs: number;
    cpuUserMs: number;
    cpuSystemMs: number;
    eventLoopUtilization: number;
    stats: Record<string, { n: number; ms: number; maxMs: number; rows: number }>;
  } | null>) {
    if (!w) continue;
    out.push(
      `  ${w.worker}: wall ${(w.wallMs / 1000).toFixed(1)} s, CPU ${((w.cpuUserMs + w.cpuSystemMs) / 1000).toFixed(1)} s, event loop ${(w.eventLoopUtilization * 100).toFixed(0)}% busy`,
    );
    out.push(
      table(
        ["what", "count", "total s", "avg ms", "max ms", "rows"],
        Object.entries(w.stats)
          .slice(0, 25)
          .map(([k, s]) => [
            k.length > 100 ? `${k.slice(0, 100)}…` : k,
            fmt(s.n),
            fmt(s.ms / 1000, 2),
            fmt(s.ms / s.n, 2),
            fmt(s.maxMs, 1),
            fmt(s.rows),
          ]),
      )
        .split("\n")
        .map((l) => `    ${l}`)
        .join("\n"),
    );
  }
}
out.push("");
out.push(`pg-boss version: ${pgBossVersion()}`);
process.stdout.write(`${out.join("\n")}\n`);
if (a.json) writeFileSync(a.json, JSON.stringify({ facts, jobs, results }, null, 2));
// Speed goals are reported above; a wrong outcome (a double dial, a job not ended as expected) fails.
const wrong = results.flatMap((r) => (r.wrong ?? []).map((w) => `${r.name}: ${w}`));
if (wrong.length > 0) {
  process.stderr.write(`Wrong outcomes:\n${wrong.map((w) => `  ${w}`).join("\n")}\n`);
  process.exitCode = 1;
}
