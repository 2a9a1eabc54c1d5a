/**
 * (b) End to end: the app (createApp) on a database, one flow campaign, N jobs whose simulated
 * contacts answer as humans with the ten replies, and one started dispatcher with room for all N
 * calls at once. Measures the wall time from dispatcher.start() until every job has ended, and
 * checks that each one completed with its full Result and transcript.
 */
import { performance } from "node:perf_hooks";
import { PGlite } from "@electric-sql/pglite";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createConversationRunner } from "../../src/conversation/runner.ts";
import type { AnsweredCallHandler } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import type { Db, Queryable, QueryResult } from "../../src/store/db.ts";
import { openPglite, openPostgres } from "../../src/store/index.ts";
import { registerSimContact } from "../../src/store/sim.ts";
import { createTelephony } from "../../src/telephony/index.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import { createJobsBatch } from "../../src/usecases/jobs/createJobs.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { dropDatabase, freshDatabase } from "../databases.ts";
import {
  campaignInput,
  ENTRIES_PER_CALL,
  indexOfPhone,
  phoneOf,
  repliesFor,
  wrongFields,
} from "./scenario.ts";
import { log, nowNs, type Percentiles, percentiles, sleep } from "./stats.ts";

export const BENCH_DB = "cobbery_bench_conversations";

export interface E2eOptions {
  calls: number;
  db: "pglite" | "postgres";
  /** Server to create the throwaway database on (postgres only). */
  adminUrl: string;
  /** Pool size of the app's connection pool (postgres only; the app's default is 10). */
  poolMax: number;
  /** COBBERY_DISPATCH_BATCH_SIZE / COBBERY_DISPATCH_POLL_MS, when given; else the defaults. */
  batchSize: number | null;
  pollMs: number | null;
  timeoutS: number;
  keepDb: boolean;
  /** Called right before dispatcher.start() and right after the last job ended (profiling). */
  around?: { start(): Promise<void>; stop(): Promise<void> };
}

export interface StatementStat {
  key: string;
  n: number;
  /** Time awaited (queueing included). */
  ms: number;
  /** PGlite only: time inside PGlite running it (see timePglite); BEGIN/COMMIT are their own rows. */
  serviceMs: number;
}

export interface E2eResult {
  db: string;
  calls: number;
  /** dispatcher.start() -> the last job ended. */
  wallMs: number;
  perS: number;
  /** dispatcher.start() -> the first / last call answered. */
  firstAnsweredMs: number;
  lastAnsweredMs: number;
  /** Most conversations live at once (in the answered-call handler). */
  peakLive: number;
  /** Answered -> job closed, per call (load context, converse, analyse, finish transaction). */
  perCall: Percentiles;
  completed: number;
  fullResults: number;
  fullTranscripts: number;
  problems: string[];
  /** Database statements during the measured window. */
  statements: number;
  transactions: number;
  topStatements: StatementStat[];
  /** CPU of this process during the window, in cores; event-loop utilisation. */
  cpuCores: number;
  elu: number;
  /** SimMedia objects the sim carrier still holds after every call ended. */
  simLiveAfter: number | null;
  setupMs: number;
  settings: string;
}

/** A short stable name for a statement: its first words, whitespace collapsed. */
function keyOf(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

/** Counts every statement and transaction (and the time awaited on each) while `on`. */
class CountingDb implements Db {
  on = false;
  readonly stats = new Map<string, StatementStat>();
  transactions = 0;
  readonly kind: Db["kind"];

  constructor(private readonly inner: Db) {
    this.kind = inner.kind;
  }

  stat(key: string): StatementStat {
    let s = this.stats.get(key);
    if (!s) {
      s = { key, n: 0, ms: 0, serviceMs: 0 };
      this.stats.set(key, s);
    }
    return s;
  }

  private wrap(q: Queryable): Queryable {
    return {
      exec: (sql) => q.exec(sql),
      query: async <T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
        const t = performance.now();
        const r = await q.query<T>(sql, params);
        if (this.on) {
          const s = this.stat(keyOf(sql));
          s.n++;
          s.ms += performance.now() - t;
        }
        return r;
      },
    };
  }

  query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    return this.wrap(this.inner).query<T>(sql, params);
  }
  exec(sql: string): Promise<void> {
    return this.inner.exec(sql);
  }
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    if (this.on) this.transactions++;
    return this.inner.tx((q) => fn(this.wrap(q)));
  }
  listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>> {
    return this.inner.listen(channel, fn);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * PGlite's own time per statement: PGlite runs each protocol message (Parse, Bind, Execute, Sync,
 * or a simple Query such as BEGIN) synchronously in execProtocolRawSync, one at a time; the time in
 * it is charged to the SQL of the last Parse or Query message. Patched on the prototype at run time
 * (node_modules is not changed); undone by the returned function.
 */
function timePglite(db: CountingDb): () => void {
  const proto = PGlite.prototype as unknown as { execProtocolRawSync(m: Uint8Array): Uint8Array };
  const original = proto.execProtocolRawSync;
  const utf8 = new TextDecoder();
  const cstring = (m: Uint8Array, from: number): [string, number] => {
    let i = from;
    while (i < m.length && m[i] !== 0) i++;
    return [utf8.decode(m.subarray(from, i)), i + 1];
  };
  let current = "(protocol)";
  proto.execProtocolRawSync = function (this: unknown, m: Uint8Array): Uint8Array {
    if (m[0] === 0x50)
      current = keyOf(cstring(m, cstring(m, 5)[1])[0]); // Parse: name, query
    else if (m[0] === 0x51) current = keyOf(cstring(m, 5)[0]); // Query
    const t = performance.now();
    try {
      return original.call(this, m);
    } finally {
      if (db.on) db.stat(current).serviceMs += performance.now() - t;
    }
  };
  return () => {
    proto.execProtocolRawSync = original;
  };
}

export async function endToEnd(o: E2eOptions): Promise<E2eResult> {
  const setupStart = Date.now();
  const n = o.calls;
  let url = "";
  let inner: Db;
  if (o.db === "postgres") {
    url = await freshDatabase(o.adminUrl, BENCH_DB);
    inner = await openPostgres(url, o.poolMax);
  } else {
    inner = await openPglite(null);
  }
  const db = new CountingDb(inner);
  const untime = o.db === "pglite" ? timePglite(db) : () => {};
  const env: Record<string, string> = {
    DATABASE_URL: url,
    COBBERY_TELEPHONY: "sim",
    COBBERY_DISPATCH_MAX_IN_FLIGHT: String(n),
    COBBERY_ORG_MAX_CONCURRENT_CALLS: String(n),
    LOG_LEVEL: "silent",
    COBBERY_RATE_LIMIT: "0",
  };
  if (o.batchSize !== null) env.COBBERY_DISPATCH_BATCH_SIZE = String(o.batchSize);
  if (o.pollMs !== null) env.COBBERY_DISPATCH_POLL_MS = String(o.pollMs);
  const config = loadConfig(env);
  const logger = createLogger("silent");

  // The app's own composition, with the runner's handler wrapped to see each call start and end.
  const telephony = createTelephony(config);
  const runner = createConversationRunner({ db, config, logger, llm: null });
  let live = 0;
  let peakLive = 0;
  let done = 0;
  let answeredFirst = 0;
  let answeredLast = 0;
  const perCall = new Float64Array(n);
  let allDone!: () => void;
  const allDonePromise = new Promise<void>((r) => {
    allDone = r;
  });
  const onAnswered: AnsweredCallHandler = async (d, outcome, closer) => {
    const t0 = nowNs();
    if (answeredFirst === 0) answeredFirst = t0;
    answeredLast = t0;
    peakLive = Math.max(peakLive, ++live);
    try {
      await runner.onAnswered(d, outcome, closer);
    } finally {
      live--;
      if (done < n) perCall[done] = nowNs() - t0;
      if (++done === n) allDone();
    }
  };
  const app = await createApp(config, { db, logger, telephony, onAnswered });
  let dispatcher: ReturnType<typeof app.newDispatcher> | null = null;
  try {
    const { orgId } = await createApiKey(db, "bench");
    const ctx = { deps: app.deps, orgId };
    const campaign = await createCampaign({ ctx, input: campaignInput(n) });
    for (let i = 0; i < n; i++)
      await registerSimContact(db, orgId, phoneOf(i), [{ Answer: "human", Replies: repliesFor(i) }]);
    for (let from = 0; from < n; from += 1000) {
      const inputs = [];
      for (let i = from; i < Math.min(n, from + 1000); i++)
        inputs.push({ PhoneNumber: phoneOf(i), ContactName: `Contact ${i}` });
      const r = await createJobsBatch({ ctx, campaign, inputs });
      if (r.Errors.length > 0) throw new Error(`createJobsBatch: ${JSON.stringify(r.Errors[0])}`);
    }
    const setupMs = Date.now() - setupStart;
    const ended = async () =>
      (
        await inner.query<{ n: number }>(
          "select count(*)::int as n from jobs where campaign_id = $1 and state not in ('pending', 'in_progress')",
          [campaign.Id],
        )
      ).rows[0]!.n;

    dispatcher = app.newDispatcher();
    await o.around?.start();
    db.on = true;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = nowNs();
    await dispatcher.start();
    // The handler counts completions; a slow poll of the database catches jobs that end otherwise
    // (unanswered, failed) so that the wait cannot hang.
    const deadline = Date.now() + o.timeoutS * 1000;
    let timedOut = false;
    for (;;) {
      const finished = await Promise.race([allDonePromise.then(() => true), sleep(2000).then(() => false)]);
      if (finished) break;
      if ((await ended()) >= n) break;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
    }
    const t1 = nowNs();
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    db.on = false;
    await o.around?.stop();
    const wallMs = (t1 - t0) / 1e6;
    await dispatcher.stop(5000);
    dispatcher = null;

    // Checks, straight from the tables.
    const problems: string[] = [];
    if (timedOut) problems.push(`timed out after ${o.timeoutS} s with ${done} of ${n} calls done`);
    const jobs = await inner.query<{
      id: string;
      phone_number: string;
      state: string;
      result: Record<string, unknown> | null;
    }>("select id, phone_number, state, result from jobs where campaign_id = $1", [campaign.Id]);
    const calls = await inner.query<{ job_id: string; entries: number; end_reason: string | null }>(
      "select job_id, jsonb_array_length(transcript)::int as entries, end_reason from calls where campaign_id = $1",
      [campaign.Id],
    );
    let completed = 0;
    let fullResults = 0;
    const states = new Map<string, number>();
    for (const j of jobs.rows) {
      states.set(j.state, (states.get(j.state) ?? 0) + 1);
      if (j.state === "completed") completed++;
      const wrong = wrongFields(j.result, indexOfPhone(j.phone_number));
      if (wrong.length === 0) fullResults++;
      else if (problems.length < 5) problems.push(`job ${j.id}: Result ${wrong.join(" ")}`);
    }
    if (completed < n) problems.push(`job states: ${JSON.stringify(Object.fromEntries(states))}`);
    const fullTranscripts = calls.rows.filter(
      (c) => c.entries === ENTRIES_PER_CALL && c.end_reason === "completed",
    ).length;
    if (calls.rows.length !== n) problems.push(`${calls.rows.length} calls for ${n} jobs`);
    const simLive = (telephony as unknown as { live?: Map<string, unknown> }).live;
    const statements = [...db.stats.values()];
    return {
      db: o.db === "postgres" ? `PostgreSQL (pool ${o.poolMax})` : "PGlite (in memory)",
      calls: n,
      wallMs,
      perS: done / (wallMs / 1000),
      firstAnsweredMs: answeredFirst ? (answeredFirst - t0) / 1e6 : Number.NaN,
      lastAnsweredMs: answeredLast ? (answeredLast - t0) / 1e6 : Number.NaN,
      peakLive,
      perCall: percentiles(perCall.subarray(0, Math.min(done, n))),
      completed,
      fullResults,
      fullTranscripts,
      problems,
      statements: statements.reduce((k, s) => k + s.n, 0),
      transactions: db.transactions,
      topStatements: statements.sort((a, b) => (o.db === "pglite" ? b.serviceMs - a.serviceMs : b.ms - a.ms)),
      cpuCores: (cpu.user + cpu.system) / 1000 / wallMs,
      elu: elu.utilization,
      simLiveAfter: simLive ? simLive.size : null,
      setupMs,
      settings: `batch ${config.dispatch.batchSize}, max in flight ${config.dispatch.maxInFlight}, org max ${config.orgMaxConcurrentCalls}, poll ${config.dispatch.pollMs} ms, campaign MaxConcurrentCalls ${n}`,
    };
  } finally {
    if (dispatcher) await dispatcher.stop(2000).catch(() => {});
    await app.close();
    untime();
    if (o.db === "postgres" && !o.keepDb) {
      dropDatabase(o.adminUrl, BENCH_DB).catch((e) =>
        log(`  could not drop ${BENCH_DB}: ${(e as Error).message}`),
      );
    }
  }
}
