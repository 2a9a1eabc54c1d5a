import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createLogger } from "../../src/logging/index.ts";
import type { Db } from "../../src/store/index.ts";
import { webhookSettings } from "../../src/webhooks/settings.ts";
import { WebhookWorker } from "../../src/webhooks/task.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { deliveriesOf, fanOutDeliveries, hookUp, Receiver } from "./helpers.ts";

const DELIVERIES = 120;

let t: TestApp;
let campaignId: string;

before(async () => {
  // A poll a minute away: only the worker's own wake-ups claim, as in a quiet system.
  t = await startTestApp({ COBBERY_WEBHOOK_POLL_MS: "60000", COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" });
  campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
});
after(async () => {
  await t.close();
});

/** The real database, counting the claims that go through it. */
function countingClaims(db: Db): { db: Db; claims: () => number } {
  let claims = 0;
  const counted = new Proxy(db, {
    get(target, prop) {
      if (prop === "query")
        return (sql: string, params?: readonly unknown[]) => {
          if (/set attempts = d\.attempts \+ 1/.test(sql)) claims++;
          return target.query(sql, params);
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { db: counted, claims: () => claims };
}

test("room freed by slow attempts is claimed together, not one delivery per claim", async () => {
  // Every answer takes 1.1-2.6 s: attempts turn slow, then end one by one, spread out.
  const slow = await new Receiver().start();
  slow.delayMs = (n) => 1100 + ((n * 97) % 1500);
  const hook = await hookUp(t, slow, ["job.created"]);
  const Jobs = Array.from({ length: DELIVERIES }, (_, i) => ({
    PhoneNumber: `+1617555${String(i).padStart(4, "0")}`,
  }));
  assert.equal(
    (await t.request("POST", `/v1/campaigns/${campaignId}/jobs/batch`, { Jobs })).body.Created,
    DELIVERIES,
  );
  await fanOutDeliveries(t.app.deps.db, DELIVERIES);

  const settings = webhookSettings(t.app.deps.config.webhooks);
  const { db, claims } = countingClaims(t.app.deps.db);
  const worker = new WebhookWorker({ db, logger: createLogger("silent"), allowPrivate: true }, settings);
  await worker.start();
  try {
    await waitFor(
      async () =>
        (await deliveriesOf(t, hook.Id)).filter((d) => d.Status === "delivered").length === DELIVERIES,
      30_000,
      "every delivery made",
    );
  } finally {
    await worker.stop();
    await slow.close();
  }
  // Every delivery went out once, whatever the claims.
  assert.equal(slow.received.length, DELIVERIES);
  // The first claim fills the webhook's cap; the 70 after it are claimed as attempts end, spread
  // over 1.5 s per wave. Claimed as each ended (with a few that ended during the claim), they took
  // 21-23 claims here; gathered for 100 ms, 8-10.
  const afterFirst = DELIVERIES - settings.maxInFlightPerWebhook;
  assert.ok(claims() <= afterFirst / 5, `${claims()} claims for ${afterFirst} deliveries after the first`);
});
