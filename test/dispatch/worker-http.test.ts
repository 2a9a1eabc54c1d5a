import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { waitFor } from "../helpers/app.ts";
import { createJobs, newCampaign, phoneJobs, unfinished, useWorkerCluster } from "../helpers/workers.ts";

// Worker processes share one database: PGlite is one process, so this suite needs the real
// PostgreSQL (COBBERY_TEST_DB=postgres).
if (process.env.COBBERY_TEST_DB === "postgres") {
  describe("a worker process's metrics and health (COBBERY_WORKER_METRICS_PORT)", () => {
    const cluster = useWorkerCluster();

    test("it serves the calls it placed on /metrics, /healthz while it dispatches, 404 elsewhere", async () => {
      const { c, fleet } = cluster;
      // Port 0: the system picks a free one, and the worker says which.
      const w = await fleet.start({ COBBERY_WORKER_METRICS_PORT: "0" });
      const base = /Metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(w.stderr())?.[1];
      assert.ok(base, w.stderr());
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), "dispatching\n");
      assert.equal((await fetch(`${base}/v1/jobs`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: "POST" })).status, 405);

      const JOBS = 25;
      const cmp = await newCampaign(c.ctx, { MaxAttempts: 1 });
      await createJobs(c.ctx, cmp, phoneJobs(JOBS));
      await waitFor(async () => (await unfinished(c.db, cmp)) === 0, 30_000, "every job to end");

      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
      const text = await res.text();
      assert.match(text, new RegExp(`^cobbery_calls_placed_total ${JOBS}$`, "m"));
      assert.match(text, new RegExp(`^cobbery_dispatch_lag_seconds_count ${JOBS}$`, "m"));
      // Its endings, as the calls' rows hold them (the unanswered ones are written with the dial).
      const endings = await c.db.query<{ status: string; end_reason: string; n: number }>(
        "select status, end_reason, count(*)::int as n from calls where campaign_id = $1 group by 1, 2",
        [cmp],
      );
      assert.ok(endings.rows.length > 0);
      for (const e of endings.rows)
        assert.match(
          text,
          new RegExp(
            `^cobbery_calls_ended_total\\{status="${e.status}",end_reason="${e.end_reason}"\\} ${e.n}$`,
            "m",
          ),
        );
      // Metrics carry enum labels only: no number, name or id of the jobs it dialed.
      assert.doesNotMatch(text, /\+1415555|job_|call_/);

      fleet.signal(w, "SIGTERM");
      assert.equal(await w.exited, 0, w.stderr());
      await assert.rejects(fetch(`${base}/healthz`), "the port is closed once it has stopped");
    });

    test("a port already taken stops the worker with the error, before it claims anything", async () => {
      const { fleet } = cluster;
      const taken = net.createServer();
      await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
      const { port } = taken.address() as net.AddressInfo;
      try {
        await assert.rejects(
          fleet.start({ COBBERY_WORKER_METRICS_PORT: String(port) }, 20_000),
          /EADDRINUSE/,
        );
      } finally {
        await new Promise<void>((r) => taken.close(() => r()));
      }
    });
  });
}
