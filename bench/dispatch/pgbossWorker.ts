/**
 * One pg-boss worker process for the reference run: fetch up to BATCH jobs, complete their ids in one
 * call, again; an empty fetch waits POLL_MS. Prints "ready" once started, and its counts as one JSON
 * line when it gets SIGTERM.
 */
import { performance } from "node:perf_hooks";
import { PgBoss } from "pg-boss";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");
const queue = process.env.QUEUE ?? "bench";
const batchSize = Number(process.env.BATCH ?? 100);
const pollMs = Number(process.env.POLL_MS ?? 100);

const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, migrate: false, max: 4 });
boss.on("error", (e) => process.stderr.write(`pg-boss error: ${String(e)}\n`));
await boss.start();
process.stdout.write("ready\n");

let stopping = false;
let fetched = 0;
let fetches = 0;
let emptyFetches = 0;
let fetchMs = 0;
let completeMs = 0;
const cpu0 = process.cpuUsage();

async function loop(): Promise<void> {
  while (!stopping) {
    const t0 = performance.now();
    const jobs = await boss.fetch(queue, { batchSize });
    const t1 = performance.now();
    fetchMs += t1 - t0;
    fetches++;
    if (jobs.length === 0) {
      emptyFetches++;
      await new Promise((r) => setTimeout(r, pollMs));
      continue;
    }
    fetched += jobs.length;
    await boss.complete(
      queue,
      jobs.map((j) => j.id),
    );
    completeMs += performance.now() - t1;
  }
}

const running = loop();
process.on("SIGTERM", () => {
  stopping = true;
  void running
    .then(() => boss.stop({ graceful: false, close: true }))
    .finally(() => {
      const cpu = process.cpuUsage(cpu0);
      const out = {
        fetched,
        fetches,
        emptyFetches,
        fetchMs,
        completeMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
    });
});
