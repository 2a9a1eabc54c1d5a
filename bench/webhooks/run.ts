/**
 * Webhook delivery benchmark: `npm run bench:webhooks -- [--deliveries N] [--latency-ms L]`.
 *
 * A real `bin/cobbery serve` process (its campaign paused: nothing is dialed) on the embedded database and on the real
 * PostgreSQL, a webhook subscribed to `job.created`, and N jobs created through the batch API: each
 * makes one delivery. A receiver on loopback (answering 204 after L ms) counts what arrives. Printed:
 * deliveries per second from the end of the import to the last delivery, the lag from each event to
 * its delivery (p50, p99), and the TCP connections the receiver accepted. In the same run, the limit:
 * the same receiver fed by a bare loop of POSTs with the same number in flight over kept connections.
 */
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fmt, percentiles, sleep } from "../conversations/stats.ts";
import { freshDatabase } from "../databases.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const { values: args } = parseArgs({
  options: {
    deliveries: { type: "string", default: "20000" },
    "latency-ms": { type: "string", default: "0" },
    "hanging-beside": { type: "boolean", default: false },
    only: { type: "string", default: "pglite,postgres,bare" },
    "admin-url": {
      type: "string",
      default: process.env.BENCH_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  process.stdout.write(
    "Usage: npm run bench:webhooks -- [--deliveries N] [--latency-ms L] [--hanging-beside] [--only pglite,postgres,bare] [--admin-url URL]\n",
  );
  process.exit(0);
}
const N = Number(args.deliveries);
const LATENCY_MS = Number(args["latency-ms"]);
const only = new Set(args.only.split(","));
/**
 * A second webhook gets the same events at an endpoint that never answers (each attempt waits out
 * the 10 s timeout): the figures are then the measured webhook's beside it, over at most HANG_WINDOW_MS.
 */
const HANGING = args["hanging-beside"];
const HANG_WINDOW_MS = 60_000;
/** One webhook's attempts in flight at most, per worker (src/webhooks/settings.ts): the bare loop uses as many. */
const IN_FLIGHT = 50;
const KEY = "bench_webhooks_key_0123456789";
const PORT = 18_180;

/** Figures go to stdout. */
const log = (s: string) => process.stdout.write(`${s}\n`);

/** The receiver: answers 204 after the latency, and remembers when each delivery came and its event's time. */
class Receiver {
  constructor(private readonly hang = false) {}
  arrivals: number[] = [];
  lagsMs: number[] = [];
  connections = 0;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const now = Date.now();
      this.arrivals.push(performance.now());
      const at = Date.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")).timestamp ?? "");
      if (!Number.isNaN(at)) this.lagsMs.push(now - at);
      if (!this.hang) setTimeout(() => res.writeHead(204).end(), LATENCY_MS);
    });
  });
  url = "";
  async start(): Promise<this> {
    this.server.on("connection", () => this.connections++);
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }
  close = async () => {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  };
}

interface Figures {
  name: string;
  rate: number;
  drainS: number;
  lagP50: number | null;
  lagP99: number | null;
  connections: number;
}

async function api(method: string, p: string, body?: unknown): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${PORT}${p}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

async function serve(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(path.join(root, "bin", "cobbery"), ["serve", "--port", String(PORT)], {
    cwd: root,
    env: {
      ...process.env,
      COBBERY_API_KEY: KEY,
      COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true",
      // The bench creates jobs as fast as it can: no per-organization rate limit.
      COBBERY_RATE_LIMIT: "0",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`http://127.0.0.1:${PORT}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await sleep(100);
  }
  throw new Error("the server did not start");
}

async function cobbery(name: string, env: Record<string, string>): Promise<Figures> {
  const rx = await new Receiver().start();
  const hanging = HANGING ? await new Receiver(true).start() : null;
  const child = await serve(env);
  try {
    if (hanging) await api("POST", "/v1/webhooks", { Url: hanging.url, Events: ["job.created"] });
    await api("POST", "/v1/webhooks", { Url: rx.url, Events: ["job.created"] });
    const campaign = await api("POST", "/v1/campaigns", {
      Name: "webhook bench",
      Status: "paused",
      Agent: { Type: "flow", Flow: { Start: "bye", Nodes: { bye: { Say: "Goodbye.", End: true } } } },
      Schedule: { TimeZone: "UTC" },
    });
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000) {
      const Jobs = Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
        PhoneNumber: `+1617${String(2_000_000 + i + k).padStart(7, "0")}`,
      }));
      await api("POST", `/v1/campaigns/${campaign.Id}/jobs/batch`, { Jobs });
    }
    const imported = performance.now();
    log(`  ${name}: ${fmt(N)} jobs created in ${fmt((imported - t0) / 1000, 1)} s`);
    const deadline = imported + (hanging ? HANG_WINDOW_MS : 600_000);
    while (rx.arrivals.length < N && performance.now() < deadline) await sleep(50);
    if (rx.arrivals.length === 0 || (rx.arrivals.length < N && !hanging))
      throw new Error(
        `${name}: ${rx.arrivals.length} of ${N} deliveries in ${(deadline - imported) / 1000} s`,
      );
    if (rx.arrivals.length < N)
      log(`  ${name}: ${fmt(rx.arrivals.length)} of ${fmt(N)} deliveries within ${HANG_WINDOW_MS / 1000} s`);
    const last = Math.max(...rx.arrivals);
    const lag = percentiles(rx.lagsMs);
    return {
      name,
      rate: rx.arrivals.length / ((last - imported) / 1000),
      drainS: (last - imported) / 1000,
      lagP50: lag.p50 / 1000,
      lagP99: lag.p99 / 1000,
      connections: rx.connections,
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await rx.close();
    await hanging?.close();
  }
}

/** The limit: N POSTs to the same receiver, IN_FLIGHT at a time, over kept connections. */
async function bare(): Promise<Figures> {
  const rx = await new Receiver().start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const body = JSON.stringify({
    type: "job.created",
    timestamp: new Date().toISOString(),
    data: { Id: "job_x" },
  });
  let next = 0;
  const t0 = performance.now();
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        rx.url,
        { method: "POST", agent, headers: { "content-type": "application/json" } },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < N) await one();
    }),
  );
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  await rx.close();
  return {
    name: `bare POST loop, ${IN_FLIGHT} in flight`,
    rate: N / s,
    drainS: s,
    lagP50: null,
    lagP99: null,
    connections: rx.connections,
  };
}

log(
  `Webhook delivery benchmark: ${fmt(N)} deliveries, receiver latency ${LATENCY_MS} ms, ${IN_FLIGHT} attempts in flight per webhook and worker${HANGING ? ", beside a webhook whose endpoint never answers" : ""}.`,
);
const results: Figures[] = [];
if (only.has("pglite"))
  results.push(
    await cobbery("Cobbery, embedded database", {
      COBBERY_DATA_DIR: path.join(root, "bench", ".data", `webhooks-${Date.now()}`),
    }),
  );
if (only.has("postgres")) {
  const url = await freshDatabase(args["admin-url"], "cobbery_bench_webhooks");
  results.push(await cobbery("Cobbery, PostgreSQL", { DATABASE_URL: url }));
}
if (only.has("bare")) results.push(await bare());
log("");
log("scenario                              deliveries/s  drain s  lag p50 s  lag p99 s  connections");
for (const r of results)
  log(
    `${r.name.padEnd(36)}  ${fmt(r.rate).padStart(12)}  ${fmt(r.drainS, 1).padStart(7)}  ${fmt(r.lagP50, 2).padStart(9)}  ${fmt(r.lagP99, 2).padStart(9)}  ${fmt(r.connections).padStart(11)}`,
  );
const limit = results.find((r) => r.lagP50 === null);
if (limit)
  for (const r of results.filter((x) => x !== limit))
    log(`${r.name} / bare loop: ${(r.rate / limit.rate).toFixed(2)}x`);
process.exit(0);
