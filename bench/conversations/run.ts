/**
 * Conversation benchmark: N concurrent simulated conversations of ten turns with a flow agent, in
 * one process. (a) the runtime alone (actor + FlowAgent + SimMedia, no database); (b) end to end
 * through the app and its dispatcher on in-memory PGlite, and on a real PostgreSQL with --postgres.
 *
 *   npm run bench:conversations [-- --calls 1000 --postgres]
 *   node --expose-gc --import tsx bench/conversations/run.ts --help
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type E2eResult, endToEnd } from "./endToEnd.ts";
import { type Profile, startProfile, stopProfile, summarize, summaryText } from "./profile.ts";
import {
  type MemoryResult,
  memoryRun,
  probeFloorNs,
  STEPS_PER_CALL,
  type TimedResult,
  throughputRun,
  timedRun,
} from "./runtime.ts";
import { QUESTIONS } from "./scenario.ts";
import { fmt, fullGc, log, pctText, table, us } from "./stats.ts";

const HELP = `Usage: node --expose-gc --import tsx bench/conversations/run.ts [options]

  --calls N        conversations at once (default 1000)
  --park-at K      memory pass: park every call at its K-th listen() (default 5)
  --runs R         warm throughput runs of the runtime (default 3)
  --only WHAT      "runtime" (a) or "e2e" (b); default both
  --postgres       also run (b) on a real PostgreSQL (throwaway database cobbery_bench_conversations)
  --admin-url URL  server for --postgres (default $BENCH_ADMIN_URL or postgres://postgres@127.0.0.1:5432/test)
  --pool N         the app's pool size on PostgreSQL (default 10, as openDatabase)
  --batch N        COBBERY_DISPATCH_BATCH_SIZE for (b) (default: the app's default)
  --poll-ms N      COBBERY_DISPATCH_POLL_MS for (b) (default: the app's default)
  --timeout S      give up on (b) after S seconds (default 300)
  --keep-db        keep the PostgreSQL database for inspection
  --cpu-prof-dir D write D/<pass>.cpuprofile and print where the time goes: one extra runtime run
                   (not counted) and each end-to-end window (those figures are then marked profiled:
                   sampling slows them down)
`;

const { values: a } = parseArgs({
  options: {
    calls: { type: "string", default: "1000" },
    "park-at": { type: "string", default: "5" },
    runs: { type: "string", default: "3" },
    only: { type: "string" },
    postgres: { type: "boolean", default: false },
    "admin-url": {
      type: "string",
      default: process.env.BENCH_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    },
    pool: { type: "string", default: "10" },
    batch: { type: "string" },
    "poll-ms": { type: "string" },
    timeout: { type: "string", default: "300" },
    "keep-db": { type: "boolean", default: false },
    "cpu-prof-dir": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (a.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const calls = int("calls", a.calls);
const parkAt = int("park-at", a["park-at"]);
const runs = int("runs", a.runs);
if (parkAt > QUESTIONS) throw new Error(`--park-at must be at most ${QUESTIONS}`);
if (a.only && a.only !== "runtime" && a.only !== "e2e") throw new Error('--only must be "runtime" or "e2e"');
const doRuntime = a.only !== "e2e";
const doE2e = a.only !== "runtime";

const profDir = a["cpu-prof-dir"] ? path.resolve(a["cpu-prof-dir"]) : null;
if (profDir) mkdirSync(profDir, { recursive: true });
const profiles: string[] = [];
/** Start/stop sampling around one measured pass (no-ops without --cpu-prof-dir). */
const profiler = (name: string, under?: string) => ({
  async start() {
    if (profDir) await startProfile();
  },
  async stop() {
    if (!profDir) return;
    const file = path.join(profDir, `${name}.cpuprofile`);
    const p: Profile = await stopProfile(file);
    profiles.push(
      summaryText(
        summarize(p, under),
        25,
        `profile ${name}${under ? ` (samples under ${under})` : ""}, ${file}`,
      ),
    );
  },
});

const rows: string[][] = [];
const row = (layer: string, measure: string, value: string) => rows.push([layer, measure, value]);
const details: string[] = [];

log(
  `Conversation benchmark: ${fmt(calls)} concurrent conversations of ${QUESTIONS} turns, flow agent, one process.`,
);
const machine = `Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(" ")} at start`;
log(`${machine}; gc ${(globalThis as { gc?: unknown }).gc ? "exposed" : "enabled at run time"}.`);

if (doRuntime) {
  log("\n(a) runtime alone: runConversation + FlowAgent + SimMedia, in-memory sink");
  const cold = await throughputRun(calls);
  log(`  cold run: ${fmt(cold.wallMs, 0)} ms, ${fmt(cold.perS)} conversations/s`);
  const warm: Array<{ wallMs: number; cpuMs: number }> = [];
  for (let r = 0; r < runs; r++) {
    fullGc();
    const w = await throughputRun(calls);
    warm.push(w);
    log(
      `  warm run ${r + 1}: ${fmt(w.wallMs, 0)} ms, ${fmt(w.perS)} conversations/s, CPU ${fmt(w.cpuMs, 0)} ms`,
    );
  }
  if (profDir) {
    // One more run, sampled: the profiler slows what it samples, so it is not counted above.
    const prof = profiler("runtime-warm", "runConversation");
    fullGc();
    await prof.start();
    const w = await throughputRun(calls);
    await prof.stop();
    log(`  profiled run (not counted): ${fmt(w.wallMs, 0)} ms`);
  }
  warm.sort((x, y) => x.wallMs - y.wallMs);
  const mid = warm[Math.floor(warm.length / 2)]!;
  const median = mid.wallMs;
  fullGc();
  const floor = probeFloorNs();
  const timed: TimedResult = await timedRun(calls);
  log(
    `  timed run (probes on): ${fmt(timed.wallMs, 0)} ms; ${fmt(timed.own.n)} turns; own time = ${fmt(timed.ownShare * 100, 0)}% of wall`,
  );
  const mem: MemoryResult[] = [];
  for (const kind of ["actor", "runner-like"] as const) {
    fullGc();
    const m = await memoryRun(calls, parkAt, kind);
    mem.push(m);
    log(
      `  memory (${kind}): heap ${fmt(m.baseHeap / 2 ** 20, 1)} MB -> ${fmt(m.parkedHeap / 2 ** 20, 1)} MB with ${fmt(calls)} calls parked (${fmt(m.entriesPerParkedCall, 0)} transcript entries each) -> ${fmt(m.afterHeap / 2 ** 20, 1)} MB after`,
    );
  }

  const A = "(a) runtime";
  row(
    A,
    "conversations/s (warm, median)",
    `${fmt(calls / (median / 1000))}  (${fmt(median, 0)} ms wall, ${fmt(mid.cpuMs, 0)} ms CPU)`,
  );
  row(A, "conversations/s (cold, first run)", `${fmt(cold.perS)}  (${fmt(cold.wallMs, 0)} ms wall)`);
  row(A, "runtime time per turn (actor + agent)", pctText(timed.own));
  row(A, "  of which agent open()/hear()", pctText(timed.agent));
  row(A, "  of which actor bookkeeping", pctText(timed.actor));
  for (const k of timed.byKind)
    row(A, `  turns answering ${k.kind} (${fmt(k.turns)})`, `${pctText(k.own)}, mean ${us(k.own.mean)}`);
  row(
    A,
    `turn latency, ${fmt(calls)} interleaved`,
    pctText(timed.latency, (x) => `${fmt(x / 1e6, 1)} ms`),
  );
  row(A, "memory per live call (actor, agent, media, sink)", `${fmt(mem[0]!.perCallBytes / 1024, 1)} KB`);
  row(A, "memory per live call (+ runner.talk's holdings)", `${fmt(mem[1]!.perCallBytes / 1024, 1)} KB`);

  details.push(
    [
      "(a) notes",
      `  turns: ${fmt(timed.own.n)} (${STEPS_PER_CALL} per call: open() and ${QUESTIONS} hear()); mean own time ${us(timed.own.mean)} per turn; probe floor ${fmt(floor, 0)} ns per segment (3-4 segments a turn).`,
      `  own time is synchronous work between the actor's resumptions (probes: turn.at, step.say, the Date say() returns); microtask hops and SimMedia calls excluded (SimMedia: ${pctText(timed.media)} per turn).`,
      `  turn latency = listen() settled -> next say() called: with ${fmt(calls)} calls on one thread this is mostly the other calls' turns queued in between.`,
      `  timed run wall ${fmt(timed.wallMs, 0)} ms (probes cost ${fmt((timed.wallMs / median - 1) * 100, 0)}% over the unprobed median).`,
      `  memory: parked at listen() #${parkAt}; heap after full GC, (parked - before) / ${fmt(calls)}. "+ runner.talk" adds per call a campaign copy (loadJobContext), AbortController, MaxCallSeconds timer, live-map entry.`,
    ].join("\n"),
  );
}

if (doE2e) {
  const targets: Array<"pglite" | "postgres"> = a.postgres ? ["pglite", "postgres"] : ["pglite"];
  for (const target of targets) {
    log(`\n(b) end to end on ${target}: createApp, flow campaign, ${fmt(calls)} jobs, dispatcher`);
    fullGc();
    const r: E2eResult = await endToEnd({
      around: profiler(`e2e-${target}`),
      calls,
      db: target,
      adminUrl: a["admin-url"]!,
      poolMax: int("pool", a.pool),
      batchSize: a.batch ? int("batch", a.batch) : null,
      pollMs: a["poll-ms"] ? int("poll-ms", a["poll-ms"]) : null,
      timeoutS: int("timeout", a.timeout),
      keepDb: a["keep-db"] === true,
    });
    log(
      `  ${fmt(r.wallMs, 0)} ms, ${fmt(r.perS, 0)} conversations/s; ${r.completed}/${r.calls} completed, ${r.fullResults} full Results, ${r.fullTranscripts} full transcripts; peak live ${r.peakLive}`,
    );
    for (const p of r.problems) log(`  PROBLEM: ${p}`);
    const B = `(b) ${target}${profDir ? " (profiled)" : ""}`;
    row(B, "wall time, dispatcher.start -> all jobs ended", `${fmt(r.wallMs / 1000, 2)} s`);
    row(B, "conversations/s", fmt(r.perS, 0));
    row(
      B,
      "completed / full Result / full transcript",
      `${fmt(r.completed)} / ${fmt(r.fullResults)} / ${fmt(r.fullTranscripts)} of ${fmt(r.calls)}${r.problems.length ? "  FAIL" : "  OK"}`,
    );
    row(B, "conversations live at once (peak)", fmt(r.peakLive));
    row(
      B,
      "per call, answered -> job closed",
      pctText(r.perCall, (x) => `${fmt(x / 1e6, 0)} ms`),
    );
    row(
      B,
      "statements / transactions per call",
      `${fmt(r.statements / r.calls, 1)} / ${fmt(r.transactions / r.calls, 1)}`,
    );
    row(
      B,
      "node CPU per conversation / cores / event loop busy",
      `${fmt((r.cpuCores * r.wallMs) / r.calls, 1)} ms / ${fmt(r.cpuCores, 2)} / ${fmt(r.elu * 100, 0)}%`,
    );
    details.push(
      [
        `${B} notes`,
        `  ${r.db}; ${r.settings}; setup (not timed) ${fmt(r.setupMs / 1000, 1)} s.`,
        `  first call answered at ${fmt(r.firstAnsweredMs, 0)} ms, last at ${fmt(r.lastAnsweredMs, 0)} ms after dispatcher.start().`,
        `  sim carrier still holds ${r.simLiveAfter ?? "?"} SimMedia objects after every call ended.`,
        target === "pglite"
          ? "  statements in the window (n, ms awaited in total, PGlite's own ms in total and per statement):"
          : "  statements in the window (n, ms awaited in total, ms awaited per statement):",
        ...r.topStatements.map((s) =>
          target === "pglite"
            ? `    ${(s.n ? String(s.n) : "-").padStart(6)}  ${fmt(s.ms, 0).padStart(10)}  ${fmt(s.serviceMs, 0).padStart(7)}  ${(s.n ? fmt(s.serviceMs / s.n, 2) : "-").padStart(6)}  ${s.key}`
            : `    ${String(s.n).padStart(6)}  ${fmt(s.ms, 0).padStart(10)}  ${fmt(s.ms / s.n, 2).padStart(6)}  ${s.key}`,
        ),
        ...r.problems.map((p) => `  PROBLEM: ${p}`),
      ].join("\n"),
    );
  }
}

process.stdout.write(
  `\n${machine}\n${table(["layer", "measure", "value"], rows)}\n\n${[...details, ...profiles].join("\n\n")}\n`,
);
// PGlite and pg leave nothing running, but a stray handle must not keep the bench alive.
process.exit(0);
