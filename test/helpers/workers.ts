// Helpers for the multi-process dispatcher tests: an app on a shared PostgreSQL database, real
// `cobbery worker` processes, bulk setup through the use cases, and queries over jobs and calls.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { after, afterEach, before } from "node:test";
import pg from "pg";
import { type App, createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { type Db, getCampaign, openPostgres } from "../../src/store/index.ts";
import type { SimCallBehaviour } from "../../src/store/sim.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import type { Ctx } from "../../src/usecases/context.ts";
import { createJobsBatch } from "../../src/usecases/jobs/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import type { ApiResponse } from "./app.ts";
import { freshDatabase, TEST_DATABASE_URL, type TestDatabase } from "./db.ts";

export const BIN = path.resolve("bin/cobbery");
export const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A flow campaign open at every hour, retried at once; `schedule` is merged into its Schedule. */
export function openCampaign(schedule: Record<string, unknown> = {}, name = "Dispatch test") {
  return {
    Name: name,
    Agent: {
      Type: "flow",
      Flow: { Start: "bye", Nodes: { bye: { Say: "Thank you.", End: true } } },
    },
    AnalysisSchema: { type: "object", properties: {} },
    Schedule: {
      TimeZone: "America/New_York",
      Windows: [{ Days: ALL_DAYS, Start: "00:00", End: "24:00" }],
      RetryDelaySeconds: 0,
      ...schedule,
    },
  };
}

/** Distinct valid US numbers: +1415555XXXX (10,000 of them), then +1212555XXXX. */
export function phone(i: number): string {
  const prefix = i < 10_000 ? "+1415555" : "+1212555";
  return `${prefix}${String(i % 10_000).padStart(4, "0")}`;
}

/** Job inputs for n distinct numbers, phone(from) to phone(from + n - 1). */
export function phoneJobs(n: number, from = 0): Array<{ PhoneNumber: string }> {
  return Array.from({ length: n }, (_, i) => ({ PhoneNumber: phone(from + i) }));
}

export interface ClusterApp {
  app: App;
  database: TestDatabase;
  /** The throwaway database's URL, for the worker processes. */
  url: string;
  db: Db;
  /** The HTTP API's base URL. */
  base: string;
  /** Organization "acme": its id, key and use-case context. */
  orgId: string;
  key: string;
  ctx: Ctx;
  request<T = any>(method: string, p: string, body?: unknown, key?: string): Promise<ApiResponse<T>>;
  /** Another organization, with its own key and context. */
  newOrg(name: string): Promise<{ orgId: string; key: string; ctx: Ctx }>;
  close(): Promise<void>;
}

/**
 * Cobbery (API only, no dispatcher) on a fresh database of the real PostgreSQL server, listening on
 * a loopback port. Worker processes and in-process dispatchers share that database.
 */
export async function startClusterApp(env: Record<string, string> = {}): Promise<ClusterApp> {
  const database = await freshDatabase("postgres");
  try {
    if (database.url === null) throw new Error("a real PostgreSQL database is needed");
    const url = database.url;
    const config: Config = loadConfig({ LOG_LEVEL: "silent", DATABASE_URL: url, ...env });
    const app = await createApp(config, { db: database.db, logger: createLogger("silent") });
    await app.api.listen({ port: 0, host: "127.0.0.1" });
    const address = app.api.server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const base = `http://127.0.0.1:${address.port}`;
    const org = async (name: string) => {
      const k = await createApiKey(database.db, name);
      return { orgId: k.orgId, key: k.key, ctx: { deps: app.deps, orgId: k.orgId } };
    };
    const acme = await org("acme");
    const request = async <T>(method: string, p: string, body?: unknown, key = acme.key) => {
      const headers: Record<string, string> = { authorization: `Bearer ${key}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(base + p, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: (text === "" ? null : JSON.parse(text)) as T,
        headers: res.headers,
      };
    };
    return {
      app,
      database,
      url,
      db: database.db,
      base,
      orgId: acme.orgId,
      key: acme.key,
      ctx: acme.ctx,
      request,
      newOrg: org,
      async close() {
        await app.api.close();
        await dropDatabase(database);
      },
    };
  } catch (e) {
    await dropDatabase(database);
    throw e;
  }
}

/** Drops the throwaway database, even when its pool was already closed (a failed start closes it). */
async function dropDatabase(database: TestDatabase): Promise<void> {
  try {
    await database.drop();
  } catch {
    if (database.url === null) return;
    const name = new URL(database.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    } finally {
      await admin.end();
    }
  }
}

/** Creates a campaign through the use case; returns its id. */
export async function newCampaign(ctx: Ctx, schedule: Record<string, unknown> = {}, name?: string) {
  return (await createCampaign({ ctx, input: openCampaign(schedule, name) })).Id;
}

/** Creates jobs through the batch use case, `batchSize` per transaction; returns their ids in order. */
export async function createJobs(
  ctx: Ctx,
  campaignId: string,
  inputs: readonly Record<string, unknown>[],
  batchSize = 5_000,
): Promise<string[]> {
  const campaign = await getCampaign(ctx.deps.db, ctx.orgId, campaignId);
  if (!campaign) throw new Error(`no campaign ${campaignId}`);
  const ids: string[] = [];
  for (let i = 0; i < inputs.length; i += batchSize) {
    const r = await createJobsBatch({ ctx, campaign, inputs: inputs.slice(i, i + batchSize) });
    if (r.Errors.length > 0) throw new Error(`job creation failed: ${JSON.stringify(r.Errors[0])}`);
    ids.push(...r.Items.map((j) => j.Id));
  }
  return ids;
}

/**
 * Registers how numbers behave in the simulated carrier, in one statement (the same row
 * registerSimContact writes: the n-th call follows answers[n], the last repeats).
 */
export async function registerSim(
  db: Db,
  orgId: string,
  contacts: ReadonlyArray<{ phone: string; answers: SimCallBehaviour["Answer"][] }>,
): Promise<void> {
  for (let i = 0; i < contacts.length; i += 5_000) {
    const rows = contacts.slice(i, i + 5_000).map((c) => ({
      phone_number: c.phone,
      calls: c.answers.map((Answer) => ({ Answer, Replies: [] })),
    }));
    await db.query(
      `insert into sim_contacts (org_id, phone_number, calls)
       select $1, x.phone_number, x.calls from jsonb_to_recordset($2::jsonb) as x(phone_number text, calls jsonb)
       on conflict (org_id, phone_number) do update set calls = excluded.calls, calls_made = 0`,
      [orgId, JSON.stringify(rows)],
    );
  }
}

/** Jobs by state, for one campaign (or all). */
export async function stateCounts(db: Db, campaignId?: string): Promise<Record<string, number>> {
  const r = await db.query<{ state: string; n: number }>(
    `select state, count(*)::int as n from jobs where ($1::text is null or campaign_id = $1) group by state`,
    [campaignId ?? null],
  );
  return Object.fromEntries(r.rows.map((x) => [x.state, x.n]));
}

/** Jobs not ended yet (pending or in_progress). */
export async function unfinished(db: Db, campaignId?: string): Promise<number> {
  const r = await db.query<{ n: number }>(
    `select count(*)::int as n from jobs where state in ('pending', 'in_progress')
       and ($1::text is null or campaign_id = $1)`,
    [campaignId ?? null],
  );
  return r.rows[0]!.n;
}

/** Attempts dialed more than once: (job, attempt) pairs with several dialed calls. */
export async function attemptsDialedTwice(
  db: Db,
): Promise<Array<{ job_id: string; attempt: number; n: number }>> {
  const r = await db.query<{ job_id: string; attempt: number; n: number }>(
    `select job_id, attempt, count(*)::int as n from calls where dialed_at is not null
     group by 1, 2 having count(*) > 1 limit 20`,
  );
  return r.rows;
}

/** Calls of the campaign handed to the carrier (dialed_at set). */
export async function dialedCalls(db: Db, campaignId: string): Promise<number> {
  const r = await db.query<{ n: number }>(
    "select count(*)::int as n from calls where campaign_id = $1 and dialed_at is not null",
    [campaignId],
  );
  return r.rows[0]!.n;
}

/** The campaign's jobs grouped by how they ended: state, reason, Attempts and dialed calls; n jobs each. */
export async function jobOutcomes(
  db: Db,
  campaignId: string,
): Promise<Array<{ state: string; reason: string; attempts: number; calls: number; n: number }>> {
  const r = await db.query<{ state: string; reason: string; attempts: number; calls: number; n: number }>(
    `select j.state, j.failure_reason as reason, j.attempts,
       (select count(*) from calls k where k.job_id = j.id and k.dialed_at is not null)::int as calls,
       count(*)::int as n
     from jobs j where j.campaign_id = $1 group by 1, 2, 3, 4 order by 1, 2, 3, 4`,
    [campaignId],
  );
  return r.rows;
}

/** A pool of connections of its own (for samplers that must not wait behind the app's pool). */
export const openPool = (url: string, max = 2) => openPostgres(url, max);

export interface WorkerProcess {
  proc: ChildProcess;
  pid: number;
  /** The dispatcher's id (workers.id), printed by the worker once it dispatches. */
  id: string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  alive(): boolean;
}

/**
 * Real `cobbery worker` processes on one database. Every process started here is killed by
 * killAll() (call it in `after`), and at the latest when the test process exits.
 */
export class WorkerFleet {
  readonly workers: WorkerProcess[] = [];
  private readonly onExit = () => {
    for (const w of this.workers) {
      if (w.alive()) {
        try {
          process.kill(w.pid, "SIGCONT");
          process.kill(w.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  };

  constructor(
    private readonly url: string,
    private readonly env: Record<string, string> = {},
  ) {
    process.on("exit", this.onExit);
  }

  /** Starts a worker and resolves once it is dispatching. */
  async start(env: Record<string, string> = {}, timeoutMs = 60_000): Promise<WorkerProcess> {
    const proc = spawn(BIN, ["worker"], {
      env: {
        ...process.env,
        DATABASE_URL: this.url,
        LOG_LEVEL: "warn",
        COBBERY_DISPATCH_LEASE_SECONDS: "2",
        COBBERY_DISPATCH_POLL_MS: "50",
        ...this.env,
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    if (proc.pid === undefined) throw new Error("the worker did not start");
    let err = "";
    let exitedWith: number | string | null = null;
    const exited = new Promise<number | string>((resolve) => {
      proc.on("exit", (code, signal) => {
        exitedWith = code ?? signal ?? "unknown";
        resolve(exitedWith);
      });
    });
    proc.stderr?.on("data", (c: Buffer) => {
      // Keep the start and the tail only: a long run may log a lot.
      err = err.length > 200_000 ? err.slice(0, 20_000) + err.slice(-100_000) : err;
      err += c.toString();
    });
    const w: WorkerProcess = {
      proc,
      pid: proc.pid,
      id: "",
      stderr: () => err,
      exited,
      alive: () => exitedWith === null,
    };
    this.workers.push(w);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /Cobbery worker (wrk_\S+) is dispatching/.exec(err);
      if (m) {
        w.id = m[1] as string;
        return w;
      }
      if (!w.alive()) throw new Error(`worker exited (${exitedWith}) before dispatching: ${err}`);
      if (Date.now() > deadline) throw new Error(`worker did not start within ${timeoutMs} ms: ${err}`);
      await sleep(20);
    }
  }

  /** Sends a signal to a worker (ignored when it has exited). */
  signal(w: WorkerProcess, sig: NodeJS.Signals): void {
    if (!w.alive()) return;
    try {
      process.kill(w.pid, sig);
    } catch {
      // exited meanwhile
    }
  }

  /**
   * SIGKILLs every worker still running (resuming stopped ones first) and waits for them to exit:
   * a test that fails leaves none behind to take the next test's jobs.
   */
  async killRunning(): Promise<void> {
    for (const w of this.workers) {
      this.signal(w, "SIGCONT");
      this.signal(w, "SIGKILL");
    }
    await Promise.all(this.workers.map((w) => w.exited));
  }

  /** killRunning(), for good (in `after`). */
  async killAll(): Promise<void> {
    await this.killRunning();
    process.off("exit", this.onExit);
  }
}

export interface WorkerCluster {
  c: ClusterApp;
  fleet: WorkerFleet;
}

/**
 * The hooks every multi-process suite registered alike: before its tests, startClusterApp() and a
 * fleet of workers (no organization-wide call limit; `fleetEnv` added); after each test, the workers
 * still running are killed (a test that fails leaves none behind to take the next test's jobs);
 * after all, the workers, then `cleanUp` (the suite's own apps), then the database. Read `c` and
 * `fleet` inside the tests.
 */
export function useWorkerCluster(
  fleetEnv: Record<string, string> = {},
  cleanUp?: () => Promise<void>,
): WorkerCluster {
  const s = {} as WorkerCluster;
  before(async () => {
    s.c = await startClusterApp();
    s.fleet = new WorkerFleet(s.c.url, { COBBERY_ORG_MAX_CONCURRENT_CALLS: "100000", ...fleetEnv });
  });
  afterEach(async () => {
    await s.fleet?.killRunning();
  });
  after(async () => {
    await s.fleet?.killAll();
    await cleanUp?.();
    await s.c?.close();
  });
  return s;
}
