// A database restored onto another server keeps the first server's transaction ids in its events
// and event cursors: at start Cobbery rebases them, so new events are delivered again.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createCore } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { rebaseMovedEventCursors } from "../../src/store/index.ts";
import { fanOutOnce } from "../../src/webhooks/index.ts";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";
import { fanOutDeliveries, hookUp, Receiver } from "./helpers.ts";

describe("events and cursors restored from another server", () => {
  let t: TestApp;
  let rx: Receiver;
  before(async () => {
    t = await startTestApp({ COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" });
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.close();
    await t.close();
  });

  const deliveriesAbout = async (jobId: string) =>
    Number(
      (
        await t.database.db.query<{ n: string }>(
          "select count(*) as n from webhook_deliveries where job_id = $1",
          [jobId],
        )
      ).rows[0]?.n,
    );

  test("are rebased at start: new events are fanned out again, old ones not twice", async () => {
    const db = t.database.db;
    await hookUp(t, rx, ["job.created"]);
    const cmp = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    const job = async (phone: string) =>
      (await t.request("POST", `/v1/campaigns/${cmp}/jobs`, { PhoneNumber: phone })).body.Id as string;
    const old = await job("+14155550650");
    await fanOutDeliveries(db, 1);
    assert.equal(await deliveriesAbout(old), 1);

    // As after pg_restore on a younger server: ids far ahead of the ones it hands out now.
    const ahead = "(pg_current_xact_id()::text::bigint + 1000000)::text::xid8";
    await db.query(`update events set tx_id = ${ahead}`);
    await db.query(`update webhook_cursor set tx_id = ${ahead}`);
    await db.query(
      `insert into event_forwarding (destination, last_tx_id, last_seq)
       select 'posthog', ${ahead}, max(seq) from events
       on conflict (destination) do update set last_tx_id = excluded.last_tx_id, last_seq = excluded.last_seq`,
    );
    const fresh = await job("+14155550651");
    assert.equal((await fanOutOnce(db, 1000)).events, 0, "the new event sorts before the cursor");

    // A process starting on the database rebases once.
    await createCore(loadConfig({ LOG_LEVEL: "silent" }), { db, logger: createLogger("silent") });
    assert.equal(await rebaseMovedEventCursors(db), false, "rebased twice");
    await fanOutDeliveries(db, 1);
    assert.equal(await deliveriesAbout(fresh), 1);
    assert.equal(await deliveriesAbout(old), 1);
    const forwarding = await db.query<{ tx: string; seq: string; old_seq: string }>(
      `select last_tx_id::text as tx, last_seq::text as seq,
         (select max(seq)::text from events where job_id = $1) as old_seq
       from event_forwarding where destination = 'posthog'`,
      [old],
    );
    // Just before the first event it had not forwarded: the new job's.
    const { tx, seq } = forwarding.rows[0]!;
    assert.equal(tx, "1");
    const firstNew = await db.query<{ seq: string }>(
      "select min(seq)::text as seq from events where job_id = $1",
      [fresh],
    );
    assert.equal(Number(seq), Number(firstNew.rows[0]!.seq) - 1);
  });
});
