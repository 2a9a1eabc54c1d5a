// Several workers on one real PostgreSQL: each event is fanned out once per webhook, and an event
// whose transaction commits late is not stepped over.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { type App, createApp } from "../../src/app.ts";
import type { BackgroundTask } from "../../src/background.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { type Db, openPostgres } from "../../src/store/index.ts";
import { fanOutOnce, WEBHOOK_TASK_NAME } from "../../src/webhooks/index.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { TEST_DB } from "../helpers/db.ts";
import { deleteWebhooks, hookUp, Receiver } from "./helpers.ts";

const env = {
  LOG_LEVEL: "silent",
  COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true",
  COBBERY_WEBHOOK_RETRY_SCALE: "0.001",
  COBBERY_WEBHOOK_POLL_MS: "10",
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const skip = TEST_DB !== "postgres" ? "needs a real PostgreSQL (COBBERY_TEST_DB=postgres)" : false;

describe("webhook fan-out with several workers", { skip }, () => {
  let t: TestApp;
  let second: App;
  let secondDb: Db;
  let campaignId: string;
  const receivers: Receiver[] = [];

  before(async () => {
    t = await startTestApp(env);
    // A second app (its own pool) on the same database, like a second worker process.
    secondDb = await openPostgres(t.database.url!);
    second = await createApp(loadConfig(env), {
      db: secondDb,
      logger: createLogger("silent"),
    });
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await second.api.close();
    await secondDb.close();
    await t.close();
  });

  /** Deletes every webhook and fans out what is left, so that a test starts from a quiet outbox. */
  const quiet = async () => {
    await deleteWebhooks(t);
    while ((await fanOutOnce(t.app.deps.db, 1000)).events > 0);
  };

  const jobsBatch = (from: number, n: number) =>
    t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, {
      Jobs: Array.from({ length: n }, (_, i) => ({
        PhoneNumber: `+1415555${String(from + i).padStart(4, "0")}`,
      })),
    });

  test("two apps' tasks deliver each event once per webhook", async () => {
    const a = await new Receiver().start();
    const b = await new Receiver().start();
    receivers.push(a, b);
    const hookA = await hookUp(t, a, ["job.created", "job.canceled"]);
    const hookB = await hookUp(t, b, ["*"]);
    const tasks: BackgroundTask[] = [t.app, second, t.app, second].map(
      (app) => app.newBackgroundTasks().find((x) => x.name === WEBHOOK_TASK_NAME)!,
    );
    await Promise.all(tasks.map((x) => x.start()));
    try {
      // Events written by concurrent transactions while the four tasks fan out.
      const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => jobsBatch(i * 100, 40)));
      const ids = batches.flatMap((r) => {
        assert.equal(r.status, 200);
        return r.body.Items.map((j: any) => j.Id as string);
      });
      await Promise.all(ids.slice(0, 60).map((id) => t.request("POST", `/v1/jobs/${id}/cancel`)));
      const expected = ids.length + 60; // job.created for each, job.canceled for 60
      await waitFor(
        async () => a.received.length >= expected && b.received.length >= expected,
        60_000,
        "every delivery",
      );
      await sleep(500);
      for (const rx of [a, b]) {
        assert.equal(rx.received.length, expected, "each event once per webhook");
        assert.equal(new Set(rx.received.map((r) => r.headers["webhook-id"])).size, expected);
        assert.ok(rx.received.every((r) => r.verifyError === null));
      }
      const rows = await t.database.db.query<{
        webhook_id: string;
        n: number;
        ids: number;
        delivered: number;
      }>(
        `select webhook_id, count(*)::int as n, count(distinct message_id)::int as ids,
           count(*) filter (where status = 'delivered' and attempts = 1)::int as delivered
         from webhook_deliveries group by 1 order by 1`,
      );
      assert.deepEqual(
        rows.rows.map((r) => [r.webhook_id, r.n, r.ids, r.delivered]),
        [hookA.Id, hookB.Id].sort().map((id) => [id, expected, expected, expected]),
      );
    } finally {
      await Promise.all(tasks.map((x) => x.stop()));
    }
  });

  test("concurrent fan-outs read every event exactly once", async () => {
    await quiet();
    const rx = await new Receiver().start();
    receivers.push(rx);
    await hookUp(t, rx, ["job.created"]);
    const before = await t.database.db.query<{ n: number }>(
      "select count(*)::int as n from webhook_deliveries",
    );
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 10; i++) await jobsBatch(2000 + i * 50, 25);
      writing = false;
    })();
    let read = 0;
    let created = 0;
    const fanOut = async (db: Db) => {
      for (;;) {
        const last = !writing;
        const r = await fanOutOnce(db, 7);
        read += r.events;
        created += r.deliveries;
        if (last && r.events === 0) return;
      }
    };
    await Promise.all([fanOut(t.app.deps.db), fanOut(secondDb), fanOut(t.app.deps.db), fanOut(secondDb)]);
    await writer;
    // What a loop that saw the cursor locked at its last turn left. Events of transactions younger
    // than one still running anywhere on the server (another test's) are held back, not lost: drain
    // until they come, within a deadline.
    const deadline = Date.now() + 60_000;
    while (created < 250 && Date.now() < deadline) {
      const r = await fanOutOnce(t.app.deps.db, 1000);
      read += r.events;
      created += r.deliveries;
      if (r.events === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const afterCount = await t.database.db.query<{ n: number }>(
      "select count(*)::int as n from webhook_deliveries",
    );
    assert.equal(created, 250, "one delivery per job.created");
    assert.equal(afterCount.rows[0]!.n - before.rows[0]!.n, 250);
    assert.equal(read, 250, "no event was read twice (the batches write job.created events only)");
  });

  test("an event whose transaction commits late is delivered, not stepped over", async () => {
    await quiet();
    const rx = await new Receiver().start();
    receivers.push(rx);
    const early = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, {
      PhoneNumber: "+14155559001",
    });
    await hookUp(t, rx, ["job.created", "job.retried"]);
    const task = t.app.newBackgroundTasks().find((x) => x.name === WEBHOOK_TASK_NAME)!;
    await task.start();
    const held = new pg.Client({ connectionString: t.database.url! });
    await held.connect();
    try {
      // A transaction takes its event seq first and commits last.
      await held.query("begin");
      await held.query(
        `insert into events (org_id, campaign_id, job_id, event) values ($1, $2, $3, 'job.retried')`,
        [t.orgId, campaignId, early.body.Id],
      );
      const later = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, {
        PhoneNumber: "+14155559002",
      });
      assert.equal(later.status, 201);
      await sleep(500);
      assert.equal(rx.received.length, 0, "nothing is fanned out past a transaction still running");
      await held.query("commit");
      await waitFor(async () => rx.received.length >= 2, 10_000, "both events");
      assert.deepEqual(rx.received.map((r) => r.event?.type).sort(), ["job.created", "job.retried"]);
      assert.equal(rx.about(early.body.Id)[0]?.event?.type, "job.retried");
      assert.equal(rx.about(later.body.Id)[0]?.event?.type, "job.created");
    } finally {
      await held.end();
      await task.stop();
    }
  });
});
