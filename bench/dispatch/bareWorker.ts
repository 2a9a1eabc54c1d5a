/**
 * One process of the bare reference loop: the minimal claim statement in autocommit, BATCH rows at a
 * time, until it claims nothing. Prints "ready" once connected, starts on SIGUSR2, and prints its
 * counts and times (epoch ms) as one JSON line when done, then waits for SIGTERM.
 */
import pg from "pg";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");
const batchSize = Number(process.env.BATCH ?? 100);

const c = new pg.Client({ connectionString: url });
await c.connect();
const claim = `update q set locked = true where id in (
  select id from q where not locked order by due limit $1 for update skip locked)`;
await c.query({ name: "claim", text: claim, values: [0] }); // prepare it before the start
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.once("SIGUSR2", () => resolve()));

const startedAt = Date.now();
let rows = 0;
let statements = 0;
let lastRowAt = startedAt;
for (;;) {
  const r = await c.query({ name: "claim", text: claim, values: [batchSize] });
  statements++;
  const n = r.rowCount ?? 0;
  if (n === 0) {
    // Rows other processes hold (SKIP LOCKED) come back only if their claim fails: none here.
    const left = await c.query<{ n: string }>("select count(*) as n from q where not locked");
    if (Number(left.rows[0]?.n ?? 0) === 0) break;
    continue;
  }
  rows += n;
  lastRowAt = Date.now();
}
process.stdout.write(`${JSON.stringify({ rows, statements, startedAt, lastRowAt })}\n`);
// Stays connected until run.ts has sampled the CPU of this process and its backend.
process.once("SIGTERM", () => void c.end().finally(() => process.exit(0)));
