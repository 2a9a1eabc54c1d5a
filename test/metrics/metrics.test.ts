import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createMetrics } from "../../src/metrics/index.ts";
import {
  ANSWERS_SURVEY,
  jobEnded,
  newCampaign,
  newJob,
  simContact,
  startDispatchingApp,
  type TestApp,
  waitFor,
} from "../helpers/app.ts";

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  let t: TestApp;
  const scrape = async () => {
    const r = await fetch(`${t.url}/metrics`);
    assert.equal(r.status, 200);
    return { text: await r.text(), type: r.headers.get("content-type") ?? "" };
  };
  before(async () => {
    t = await startDispatchingApp();
  });
  after(() => t.close());

  test("answers without a key, in the Prometheus text format, with process metrics", async () => {
    const { text, type } = await scrape();
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    for (const name of [
      "process_cpu_user_seconds_total",
      "nodejs_heap_size_used_bytes",
      "cobbery_calls_placed_total",
      "cobbery_calls_ended_total",
      "cobbery_dispatch_lag_seconds",
      "cobbery_live_calls",
      "cobbery_webhook_deliveries_total",
      "cobbery_events_forwarded_total",
    ])
      assert.ok(text.includes(`# TYPE ${name} `), name);
    assert.equal(sample(text, 'cobbery_live_calls{direction="outbound"}'), 0);
    assert.equal(sample(text, 'cobbery_live_calls{direction="inbound"}'), 0);
    // Not under /v1: no key needed, and a key is not asked for.
    assert.equal((await t.request("GET", "/metrics", undefined, { key: null })).status, 200);
  });

  test("counts calls placed, how they ended and the dispatch lag; no ids or numbers in labels", async () => {
    const cmp = await newCampaign(t, { MaxAttempts: 1 });
    await simContact(t, "+14155550901", [ANSWERS_SURVEY]);
    await simContact(t, "+14155550902", [{ Answer: "no_answer" }]);
    await simContact(t, "+14155550903", [{ Answer: "busy" }]);
    const jobs = [
      await newJob(t, cmp, { PhoneNumber: "+14155550901" }),
      await newJob(t, cmp, { PhoneNumber: "+14155550902" }),
      await newJob(t, cmp, { PhoneNumber: "+14155550903", TestJob: true }),
    ];
    for (const j of jobs) await jobEnded(t, j.Id);
    const text = await waitFor(
      async () => {
        const s = (await scrape()).text;
        return sample(s, 'cobbery_calls_ended_total{status="busy",end_reason="busy"}') === 1 &&
          sample(s, 'cobbery_calls_ended_total{status="completed",end_reason="completed"}') === 1
          ? s
          : undefined;
      },
      10_000,
      "call endings in the metrics",
    );
    assert.equal(sample(text, "cobbery_calls_placed_total"), 3);
    assert.equal(sample(text, 'cobbery_calls_ended_total{status="no_answer",end_reason="no_answer"}'), 1);
    assert.equal(sample(text, "cobbery_dispatch_lag_seconds_count"), 3);
    const lag = sample(text, "cobbery_dispatch_lag_seconds_sum") ?? -1;
    assert.ok(lag >= 0 && lag < 60, `lag ${lag}`);
    assert.equal(sample(text, 'cobbery_dispatch_lag_seconds_bucket{le="+Inf"}'), 3);

    for (const secret of [t.orgId, cmp, ...jobs.map((j) => j.Id), "4155550901", "acme"])
      assert.equal(text.includes(secret), false, secret);
  });

  test("live calls are read from the database at scrape time", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    await t.database.db.query(
      `insert into calls (id, org_id, campaign_id, direction, status, started_at)
       values ('call_live_1', $1, $2, 'outbound', 'ringing', now()), ('call_live_2', $1, $2, 'inbound', 'in_progress', now()),
         ('call_live_3', $1, $2, 'inbound', 'in_progress', now())`,
      [t.orgId, cmp],
    );
    const { text } = await scrape();
    assert.equal(sample(text, 'cobbery_live_calls{direction="outbound"}'), 1);
    assert.equal(sample(text, 'cobbery_live_calls{direction="inbound"}'), 2);
    await t.database.db.query(
      "update calls set ended_at = now(), status = 'canceled' where id like 'call_live_%'",
    );
    const after1 = (await scrape()).text;
    assert.equal(sample(after1, 'cobbery_live_calls{direction="outbound"}'), 0);
    assert.equal(sample(after1, 'cobbery_live_calls{direction="inbound"}'), 0);
  });

  test("webhook deliveries: a counter to increment, and stored deliveries by status when the table exists", async () => {
    const m = t.app.deps.metrics;
    assert.ok(m);
    m.webhookDeliveries.inc({ outcome: "delivered" });
    m.webhookDeliveries.inc({ outcome: "delivered" });
    m.webhookDeliveries.inc({ outcome: "failed" });
    const { text } = await scrape();
    assert.equal(sample(text, 'cobbery_webhook_deliveries_total{outcome="delivered"}'), 2);
    assert.equal(sample(text, 'cobbery_webhook_deliveries_total{outcome="failed"}'), 1);
    const table = await t.database.db.query<{ exists: boolean }>(
      "select to_regclass('webhook_deliveries') is not null as exists",
    );
    if (table.rows[0]?.exists) {
      const byStatus = await t.database.db.query<{ status: string; n: number }>(
        "select status, count(*)::int as n from webhook_deliveries group by status",
      );
      for (const r of byStatus.rows)
        assert.equal(sample(text, `cobbery_webhook_deliveries{status="${r.status}"}`), r.n);
    }
    assert.ok(text.includes("# TYPE cobbery_webhook_deliveries gauge"));
  });

  test("each app has a registry of its own (nothing global)", async () => {
    const a = createMetrics({ db: t.database.db });
    const b = createMetrics({ db: t.database.db });
    a.callsPlaced.inc();
    assert.equal(sample((await a.render()).body, "cobbery_calls_placed_total"), 1);
    assert.equal(sample((await b.render()).body, "cobbery_calls_placed_total"), 0);
  });
});
