import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SimCallBehaviour } from "../../src/store/sim.ts";
import { waitFor } from "../helpers/app.ts";
import {
  attemptsDialedTwice,
  type ClusterApp,
  createJobs,
  newCampaign,
  phone,
  phoneJobs,
  registerSim,
  sleep,
  unfinished,
  useWorkerCluster,
} from "../helpers/workers.ts";

const MAX_ATTEMPTS = 2;

/** How number i behaves: 40% never registered (no answer), then no answer, invalid, busy then no answer. */
type Kind = "unregistered" | "no_answer" | "invalid" | "busy_then_no_answer";
const kindOf = (i: number): Kind =>
  ([
    "unregistered",
    "unregistered",
    "unregistered",
    "unregistered",
    "no_answer",
    "no_answer",
    "invalid",
    "invalid",
  ][i % 10] ?? "busy_then_no_answer") as Kind;
const ANSWERS: Record<Exclude<Kind, "unregistered">, SimCallBehaviour["Answer"][]> = {
  no_answer: ["no_answer"],
  invalid: ["invalid"],
  busy_then_no_answer: ["busy", "no_answer"],
};
/** End reasons a dialed call of each kind may have (worker_lost: its worker died during the call). */
const REASONS: Record<Kind, string[]> = {
  unregistered: ["no_answer", "worker_lost"],
  no_answer: ["no_answer", "worker_lost"],
  invalid: ["invalid_number", "worker_lost"],
  busy_then_no_answer: ["busy", "no_answer", "worker_lost"],
};

/** Creates n jobs of the mix in a new campaign; returns the campaign's id. */
async function setUp(c: ClusterApp, n: number, offset: number): Promise<string> {
  const cmp = await newCampaign(c.ctx, { MaxAttempts: MAX_ATTEMPTS, MaxConcurrentCalls: 100_000 });
  const contacts: Array<{ phone: string; answers: SimCallBehaviour["Answer"][] }> = [];
  for (let i = 0; i < n; i++) {
    const k = kindOf(i);
    if (k !== "unregistered") contacts.push({ phone: phone(offset + i), answers: ANSWERS[k] });
  }
  await registerSim(c.db, c.orgId, contacts);
  const ids = await createJobs(c.ctx, cmp, phoneJobs(n, offset));
  assert.equal(ids.length, n);
  return cmp;
}

/**
 * Checks every job of the campaign against its number's behaviour, and the invariants of the
 * dispatcher: each attempt dialed once, Attempts = dialed calls <= MaxAttempts, every call closed,
 * no lease left, one job.created event per job. Returns how many calls were lost with their worker.
 */
async function checkEndStates(c: ClusterApp, cmp: string, n: number): Promise<number> {
  const rows = await c.db.query<{
    id: string;
    phone_number: string;
    state: string;
    failure_reason: string | null;
    attempts: number;
    lease_owner: string | null;
    live_call_id: string | null;
    attempts_dialed: number[];
    reasons: string[];
  }>(
    `select j.id, j.phone_number, j.state, j.failure_reason, j.attempts, j.lease_owner, j.live_call_id,
       coalesce(array_agg(k.attempt order by k.attempt) filter (where k.dialed_at is not null), '{}') as attempts_dialed,
       coalesce(array_agg(k.end_reason order by k.attempt) filter (where k.dialed_at is not null), '{}') as reasons
     from jobs j left join calls k on k.job_id = j.id
     where j.campaign_id = $1 group by j.id`,
    [cmp],
  );
  assert.equal(rows.rows.length, n);
  const problems: string[] = [];
  const byEnd = new Map<string, number>();
  for (const j of rows.rows) {
    const kind = kindOf(Number(j.phone_number.slice(-4)));
    const fail = (what: string) =>
      problems.length < 10 && problems.push(`${j.id} (${kind}): ${what} ${JSON.stringify(j)}`);
    const end = `${kind} ${j.state}/${j.failure_reason} attempts=${j.attempts}`;
    byEnd.set(end, (byEnd.get(end) ?? 0) + 1);
    if (j.lease_owner !== null || j.live_call_id !== null) fail("lease left");
    // Attempts count the dialed calls, numbered 1..Attempts, each dialed once.
    if (j.attempts !== j.attempts_dialed.length) fail("Attempts differs from the dialed calls");
    if (j.attempts_dialed.some((a, i) => a !== i + 1)) fail("attempts not numbered 1..n");
    if (j.reasons.some((r) => !REASONS[kind].includes(r))) fail("unexpected end reason");
    // Only the last call may have ended the job; the others were lost with their worker.
    if (j.reasons.slice(0, -1).some((r) => r === "invalid_number")) fail("called again after invalid_number");
    if (j.state !== "failed") {
      fail("not failed");
      continue;
    }
    if (kind === "invalid" && j.reasons.at(-1) === "invalid_number") {
      if (j.failure_reason !== "invalid_phone_number") fail("expected invalid_phone_number");
      // 1, plus the attempts lost with a worker before the carrier said the number does not exist.
      if (j.attempts !== 1 + j.reasons.filter((r) => r === "worker_lost").length) fail("attempts");
    } else {
      // No answer (or every attempt lost): failed after exactly MaxAttempts calls.
      if (j.failure_reason !== "max_attempts_exceeded") fail("expected max_attempts_exceeded");
      if (j.attempts !== MAX_ATTEMPTS) fail(`expected ${MAX_ATTEMPTS} attempts`);
    }
  }
  assert.deepEqual(problems, [], JSON.stringify(Object.fromEntries(byEnd)));
  assert.deepEqual(await attemptsDialedTwice(c.db), []);
  const calls = await c.db.query<{
    open: number;
    lost: number;
    lost_dialed: number;
    started: number;
    dialed: number;
  }>(
    `select count(*) filter (where ended_at is null)::int as open,
       count(*) filter (where end_reason = 'worker_lost')::int as lost,
       count(*) filter (where end_reason = 'worker_lost' and dialed_at is not null)::int as lost_dialed,
       (select count(*) from events where event = 'call.started' and campaign_id = $1)::int as started,
       count(dialed_at)::int as dialed
     from calls where campaign_id = $1`,
    [cmp],
  );
  const k = calls.rows[0]!;
  assert.equal(k.open, 0, "every call is closed");
  // The live-call counters the claims read, written by killed workers too, count nothing live.
  const counted = await c.db.query<{ n: number }>(
    "select coalesce(sum(n), 0)::int as n from live_calls where campaign_id = $1",
    [cmp],
  );
  assert.equal(counted.rows[0]?.n, 0);
  // A call.started event for each dialed call, none for calls never dialed.
  assert.equal(k.started, k.dialed);
  const created = await c.db.query<{ jobs: number; events: number; per_job_not_one: number }>(
    `select (select count(*) from jobs where campaign_id = $1)::int as jobs,
       (select count(*) from events where event = 'job.created' and campaign_id = $1)::int as events,
       (select count(*) from jobs j where j.campaign_id = $1 and
          (select count(*) from events e where e.job_id = j.id and e.event = 'job.created') <> 1)::int as per_job_not_one`,
    [cmp],
  );
  assert.deepEqual(created.rows[0], { jobs: n, events: n, per_job_not_one: 0 });
  process.stderr.write(
    `# ${cmp}: ${JSON.stringify({ calls: k, ends: Object.fromEntries([...byEnd].sort()) })}\n`,
  );
  return k.lost;
}

// Worker processes share one database: PGlite is one process, so this suite needs the real
// PostgreSQL (COBBERY_TEST_DB=postgres).
if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("worker processes that crash (SIGKILL) lose no job and dial no attempt twice", () => {
    const cluster = useWorkerCluster();

    test("control: 4 workers, no crash, 4,000 jobs all end as their numbers behave", async () => {
      const { c, fleet } = cluster;
      const N = 4_000;
      const cmp = await setUp(c, N, 10_000);
      const workers = await Promise.all([fleet.start(), fleet.start(), fleet.start(), fleet.start()]);
      const started = Date.now();
      // A job left in_progress under the lease of a live worker would never end.
      await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 90_000, "every job to end");
      process.stderr.write(`# control: ${JSON.stringify({ took: Date.now() - started })}\n`);
      await checkEndStates(c, cmp, N);
      for (const w of workers) assert.ok(w.alive(), `a worker died: ${w.stderr()}`);
      // Stopped gracefully, they exit 0.
      for (const w of workers) fleet.signal(w, "SIGTERM");
      const codes = await Promise.all(workers.map((w) => w.exited));
      assert.deepEqual(codes, [0, 0, 0, 0]);
    });

    test("4 workers over 10,000 jobs, one killed with SIGKILL each time another tenth has ended, and replaced", async () => {
      const { c, fleet } = cluster;
      const N = 10_000;
      const cmp = await setUp(c, N, 0);
      await Promise.all([fleet.start(), fleet.start(), fleet.start(), fleet.start()]);
      let done = false;
      let kills = 0;
      // Kills follow the progress, not the clock, so that they land all through the run however fast
      // the workers go: each time another tenth of the jobs has ended (at most one kill every 300 ms),
      // the worker holding the most leases is killed and a new one started. A kill waits while fewer
      // than 3 workers are dispatching (starting is slow on a busy machine).
      const starting: Array<Promise<unknown>> = [];
      const killer = (async () => {
        let next = N - N / 10;
        while (!done) {
          await sleep(300);
          const alive = fleet.workers.filter((w) => w.alive() && w.id !== "");
          if (done || alive.length < 3 || (await unfinished(c.db, cmp)) > next) continue;
          // The victim holds leases when it dies (claimed calls not yet written ended), so that the
          // kill interrupts work in flight: the worker holding the most is frozen (SIGSTOP), its
          // leases are counted while it can no longer end them, and it is killed only if it still
          // holds some; otherwise it is resumed and another is looked for shortly.
          let victim: (typeof alive)[number] | undefined;
          for (let tries = 0; !victim && !done && tries < 200; tries++) {
            const owners = await c.db.query<{ owner: string }>(
              `select lease_owner as owner from jobs where lease_owner = any($1)
               group by 1 order by count(*) desc limit 1`,
              [alive.map((w) => w.id)],
            );
            const candidate = alive.find((w) => w.id === owners.rows[0]?.owner);
            if (candidate) {
              fleet.signal(candidate, "SIGSTOP");
              const held = await c.db.query<{ n: number }>(
                "select count(*)::int as n from jobs where lease_owner = $1",
                [candidate.id],
              );
              if ((held.rows[0]?.n ?? 0) > 0) victim = candidate;
              else fleet.signal(candidate, "SIGCONT");
            }
            if (!victim) await sleep(5);
          }
          if (!victim) continue;
          next -= N / 10;
          fleet.signal(victim, "SIGKILL");
          kills++;
          await victim.exited;
          starting.push(fleet.start().catch((e: unknown) => e));
        }
      })();
      const started = Date.now();
      try {
        await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 180_000, "every job to end");
      } finally {
        done = true;
        await killer;
        await Promise.allSettled(starting);
        await fleet.killRunning();
      }
      const took = Date.now() - started;
      const lost = await checkEndStates(c, cmp, N);
      process.stderr.write(`# crash: ${JSON.stringify({ took, kills, lostCalls: lost })}\n`);
      assert.ok(kills >= 2, `only ${kills} kills: the jobs ended too fast to test crashes`);
      // The kills did hit workers with calls in flight.
      assert.ok(lost > 0, "no call was lost with a killed worker");
    });
  });
}
