import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type { BackgroundTask } from "../../src/background.ts";
import { claimDueDeliveries, disableWebhook, recordOutcomes } from "../../src/store/index.ts";
import { payloadOf, signedHeaders } from "../../src/webhooks/index.ts";
import { postDelivery } from "../../src/webhooks/post.ts";
import { flowCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { CONCURRENT_TRANSACTIONS, uncommitted } from "../helpers/db.ts";
import {
  deleteWebhooks,
  deliveriesOf,
  fanOutDeliveries,
  hookUp,
  Receiver,
  startWebhookTask,
} from "./helpers.ts";

/** Quick retries (5 ms, 300 ms, ...) and a quick poll. */
const quick = { COBBERY_WEBHOOK_RETRY_SCALE: "0.001", COBBERY_WEBHOOK_POLL_MS: "20" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("webhook deliveries", () => {
  let t: TestApp;
  let campaignId: string;
  let task: BackgroundTask | null = null;
  const receivers: Receiver[] = [];
  let phone = 100;

  const newJob = async (extra: Record<string, unknown> = {}) => {
    const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, {
      PhoneNumber: `+1617555${String(phone++).padStart(4, "0")}`,
      ...extra,
    });
    assert.equal(r.status, 201);
    return r.body;
  };
  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };

  before(async () => {
    t = await startTestApp({ ...quick, COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" });
    campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
  });
  afterEach(async () => {
    await task?.stop();
    task = null;
    await deleteWebhooks(t);
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await t.close();
  });

  test("job.created and job.canceled arrive signed per Standard Webhooks, with the Job as the API returns it", async () => {
    const rx = await receiver();
    const hook = await hookUp(t, rx, ["job.created", "job.canceled"]);
    task = await startWebhookTask(t);
    const job = await newJob({ ContactName: "Ada" });
    const canceled = await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
    assert.equal(canceled.status, 200);
    await waitFor(async () => rx.about(job.Id).length >= 2, 20_000, "two deliveries");
    const got = rx.about(job.Id);
    for (const r of got) {
      assert.equal(r.verifyError, null, "the signature verifies");
      assert.match(r.headers["webhook-id"] ?? "", /^msg_[0-9a-f]{32}$/);
      assert.match(r.headers["webhook-timestamp"] ?? "", /^\d{10}$/);
      assert.match(r.headers["webhook-signature"] ?? "", /^v1,/);
      assert.equal(r.headers["content-type"], "application/json");
      assert.deepEqual(Object.keys(JSON.parse(r.body)), ["type", "timestamp", "data"]);
    }
    const types = got.map((r) => r.event!.type).sort();
    assert.deepEqual(types, ["job.canceled", "job.created"]);
    const created = got.find((r) => r.event!.type === "job.created")!.event!;
    assert.equal(created.data.Id, job.Id);
    assert.equal(created.data.ContactName, "Ada");
    assert.ok(!Number.isNaN(Date.parse(created.timestamp)));
    const api = await t.request("GET", `/v1/jobs/${job.Id}`);
    assert.deepEqual(
      Object.keys(created.data),
      Object.keys(api.body),
      "the Job's fields, in the API's order",
    );
    const canceledEvent = got.find((r) => r.event!.type === "job.canceled")!.event!;
    assert.equal(canceledEvent.data.State, "canceled");
    assert.notEqual(got[0]!.headers["webhook-id"], got[1]!.headers["webhook-id"]);

    // A wrong secret does not verify.
    const { Webhook } = await import("standardwebhooks");
    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`);
    assert.throws(() => other.verify(got[0]!.body, got[0]!.headers));

    await waitFor(async () => {
      const log = await deliveriesOf(t, hook.Id);
      return log.length === 2 && log.every((d) => d.Status === "delivered") && log;
    });
    const log = await deliveriesOf(t, hook.Id);
    for (const d of log) {
      assert.equal(d.Attempts, 1);
      assert.equal(d.LastStatusCode, 204);
      assert.equal(d.LastError, null);
      assert.equal(d.NextAttemptAt, null);
      assert.ok(d.DeliveredAt);
      assert.equal(d.JobId, job.Id);
      assert.ok(got.some((r) => r.headers["webhook-id"] === d.WebhookMessageId));
    }
  });

  test("only subscribed events are delivered", async () => {
    const rx = await receiver();
    await hookUp(t, rx, ["job.canceled"]);
    task = await startWebhookTask(t);
    const job = await newJob();
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
    await waitFor(async () => rx.about(job.Id).length >= 1);
    await sleep(300);
    assert.deepEqual(
      rx.about(job.Id).map((r) => r.event!.type),
      ["job.canceled"],
    );
  });

  test("failures are retried with back-off and the same webhook-id until delivered", async () => {
    const rx = await receiver();
    rx.respond = (_r, n) => ({ status: n <= 2 ? 500 : 200 });
    const hook = await hookUp(t, rx, ["job.created"]);
    task = await startWebhookTask(t);
    const job = await newJob();
    await waitFor(async () => rx.about(job.Id).length >= 3, 20_000, "three attempts");
    await waitFor(async () => (await deliveriesOf(t, hook.Id))[0]?.Status === "delivered");
    await sleep(200);
    const got = rx.about(job.Id);
    assert.equal(got.length, 3, "no attempt after success");
    assert.equal(new Set(got.map((r) => r.headers["webhook-id"])).size, 1, "one webhook-id");
    assert.ok(got.every((r) => r.verifyError === null));
    assert.equal(new Set(got.map((r) => r.body)).size, 1, "the same body every time");
    const [d] = await deliveriesOf(t, hook.Id);
    assert.equal(d.Attempts, 3);
    assert.equal(d.LastStatusCode, 200);
    assert.equal(d.WebhookMessageId, got[0]!.headers["webhook-id"]);
  });

  test("Retry-After (seconds) is honoured when longer than the schedule", async () => {
    const rx = await receiver();
    rx.respond = (_r, n) => (n === 1 ? { status: 503, headers: { "retry-after": "2" } } : { status: 200 });
    const hook = await hookUp(t, rx, ["job.created"]);
    task = await startWebhookTask(t);
    const job = await newJob();
    await waitFor(async () => rx.about(job.Id).length >= 1);
    const pending = await waitFor(async () => {
      const [d] = await deliveriesOf(t, hook.Id);
      return d?.LastStatusCode === 503 && d;
    });
    assert.equal(pending.Status, "pending");
    assert.equal(pending.LastError, "HTTP 503");
    const due = Date.parse(pending.NextAttemptAt) - rx.received[0]!.at;
    assert.ok(due > 1500 && due < 5000, `next attempt ${due} ms after the first`);
    await waitFor(async () => rx.about(job.Id).length >= 2, 10_000, "second attempt");
    const [first, second] = rx.about(job.Id);
    assert.ok(second!.at - first!.at >= 1900, `waited ${second!.at - first!.at} ms`);
    await waitFor(async () => (await deliveriesOf(t, hook.Id))[0]?.Status === "delivered");
  });

  test("410 Gone disables the webhook for good and abandons its pending deliveries", async () => {
    const rx = await receiver();
    let first: string | null = null;
    rx.respond = (r) => {
      first ??= r.event?.data?.Id ?? null;
      // The first job's delivery waits an hour; the next one is told the endpoint is gone.
      return r.event?.data?.Id === first
        ? { status: 500, headers: { "retry-after": "3600" } }
        : { status: 410 };
    };
    const hook = await hookUp(t, rx, ["job.created"]);
    task = await startWebhookTask(t);
    const a = await newJob();
    await waitFor(async () => (await deliveriesOf(t, hook.Id))[0]?.LastStatusCode === 500);
    const b = await newJob();
    await waitFor(async () => (await t.request("GET", `/v1/webhooks/${hook.Id}`)).body.DisabledAt !== null);
    const log = await deliveriesOf(t, hook.Id);
    const byJob = new Map(log.map((d) => [d.JobId, d]));
    assert.equal(byJob.get(a.Id).Status, "abandoned");
    assert.equal(byJob.get(a.Id).NextAttemptAt, null);
    assert.equal(byJob.get(b.Id).Status, "failed");
    assert.equal(byJob.get(b.Id).LastStatusCode, 410);

    const c = await newJob();
    await sleep(500);
    assert.equal(rx.about(c.Id).length, 0, "nothing is sent after 410");
    assert.equal((await deliveriesOf(t, hook.Id)).length, 2, "no delivery is created for it");
    assert.equal(rx.received.length, 2);
  });

  test("after a 410, attempts already under way keep the answers they got", async () => {
    const rx = await receiver();
    const hook = await hookUp(t, rx, ["job.created"]);
    const gone = await newJob();
    const slow = await newJob();
    // Both deliveries are claimed in one round: the one to `slow` is still waiting for its 200 when
    // the other's 410 disables the webhook.
    rx.respond = (r) => (r.event?.data?.Id === gone.Id ? { status: 410 } : { status: 200 });
    rx.delayMs = (n) => (rx.received[n - 1]?.event?.data?.Id === slow.Id ? 700 : 0);
    task = await startWebhookTask(t);
    await waitFor(async () => {
      const log = await deliveriesOf(t, hook.Id);
      return log.length === 2 && log.every((d) => d.LastStatusCode !== null || d.Status === "abandoned");
    });
    await waitFor(async () => rx.about(slow.Id).length === 1);
    await sleep(1000);
    const byJob = new Map((await deliveriesOf(t, hook.Id)).map((d) => [d.JobId, d]));
    assert.equal(byJob.get(gone.Id).Status, "failed");
    assert.equal(byJob.get(gone.Id).LastStatusCode, 410);
    assert.equal(byJob.get(slow.Id).Status, "delivered", JSON.stringify(byJob.get(slow.Id)));
    assert.equal(byJob.get(slow.Id).LastStatusCode, 200);
    assert.equal(byJob.get(slow.Id).Attempts, 1);
  });

  test("an attempt that fails after a 410 disabled its webhook shows its own status and error", async () => {
    const rx = await receiver();
    const hook = await hookUp(t, rx, ["job.created"]);
    await newJob();
    await fanOutDeliveries(t.app.deps.db, 1);
    const claim = async () =>
      (await claimDueDeliveries(t.app.deps.db, { limit: 10, perWebhook: 10, inFlight: new Map() }, 30))
        .claimed[0];
    const first = await claim();
    assert.ok(first);
    const failed = { id: first.id, attempts: 1, statusCode: 500, error: "HTTP 500", kind: "retry" as const };
    assert.equal((await recordOutcomes(t.app.deps.db, [{ ...failed, retryInSeconds: 0 }])).size, 1);
    const second = await claim();
    assert.equal(second?.attempts, 2);
    // Another delivery's 410 disables the webhook while this second attempt is under way.
    await disableWebhook(t.app.deps.db, hook.Id);
    const late = { id: first.id, attempts: 2, statusCode: 503, error: "HTTP 503", kind: "retry" as const };
    assert.equal((await recordOutcomes(t.app.deps.db, [{ ...late, retryInSeconds: 60 }])).size, 1);
    const [d] = await deliveriesOf(t, hook.Id);
    assert.deepEqual(
      [d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.NextAttemptAt],
      ["abandoned", 2, 503, "HTTP 503", null],
    );
  });

  test("a delivery whose worker died mid-attempt is retried with the same webhook-id once its lease ends", async () => {
    const rx = await receiver();
    const hook = await hookUp(t, rx, ["job.created"]);
    const job = await newJob();
    // A worker fans out, claims with a 1-second lease, sends, and dies before recording the outcome.
    await fanOutDeliveries(t.app.deps.db, 1);
    const claimedAt = Date.now();
    const {
      claimed: [claimed],
    } = await claimDueDeliveries(t.app.deps.db, { limit: 10, perWebhook: 10, inFlight: new Map() }, 1);
    assert.ok(claimed);
    assert.equal(claimed.attempts, 1);
    const payload = payloadOf(claimed);
    const sent = await postDelivery(claimed.url, signedHeaders(claimed, payload, new Date()), payload, {
      timeoutMs: 5000,
      allowPrivate: true,
    });
    assert.equal(sent.statusCode, 204);
    const [during] = await deliveriesOf(t, hook.Id);
    assert.equal(during.Status, "pending");
    assert.equal(during.Attempts, 1);

    task = await startWebhookTask(t);
    await waitFor(async () => rx.about(job.Id).length >= 2, 10_000, "the retry");
    await waitFor(async () => (await deliveriesOf(t, hook.Id))[0]?.Status === "delivered");
    const got = rx.about(job.Id);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.headers["webhook-id"], got[1]!.headers["webhook-id"], "receivers can deduplicate");
    assert.ok(got[1]!.at - claimedAt >= 900, "not before the lease ended");
    const [d] = await deliveriesOf(t, hook.Id);
    assert.equal(d.Attempts, 2);
    // The dead worker's late write carries the old attempt number and changes nothing.
    const late = { id: claimed.id, attempts: 1, statusCode: 204, error: null, kind: "delivered" as const };
    assert.equal((await recordOutcomes(t.app.deps.db, [late])).size, 0);
  });

  test("PII deletion rewrites stored delivery bodies: no canary is left", async () => {
    const ok = await receiver();
    const failing = await receiver();
    failing.respond = () => ({ status: 500, headers: { "retry-after": "3600" } });
    const okHook = await hookUp(t, ok, ["*"]);
    const failingHook = await hookUp(t, failing, ["*"]);
    task = await startWebhookTask(t);
    const name = "Zebulon Hookfield";
    const secret = "canary-webhook-data-51c2";
    const job = await newJob({ ContactName: name, Data: { note: secret } });
    await waitFor(async () => ok.about(job.Id).length >= 1 && failing.about(job.Id).length >= 1);
    await waitFor(async () => (await deliveriesOf(t, okHook.Id)).some((d) => d.Status === "delivered"));
    const bodies = async () =>
      (
        await t.database.db.query<{ data: string }>(
          "select data::text as data from webhook_deliveries where job_id = $1",
          [job.Id],
        )
      ).rows.map((r) => r.data);
    const before = (await bodies()).join("\n");
    for (const canary of [name, secret, job.PhoneNumber]) assert.ok(before.includes(canary), "planted");

    const del = await t.request("DELETE", `/v1/jobs/${job.Id}/pii`);
    assert.equal(del.status, 200);
    const afterBodies = await bodies();
    assert.ok(afterBodies.length >= 2);
    for (const canary of [name, secret, job.PhoneNumber])
      assert.equal(afterBodies.join("\n").includes(canary), false, `${canary} still stored`);
    for (const b of afterBodies) {
      const data = JSON.parse(b);
      assert.equal(data.Id, job.Id);
      assert.equal(data.State, "deleted");
      assert.equal(data.ContactName, null);
    }
    // Later events (job.canceled, job.pii_deleted) carry the erased job; nothing else changed.
    await waitFor(async () => ok.about(job.Id).some((r) => r.event?.type === "job.pii_deleted"));
    const later = ok.about(job.Id).filter((r) => r.event?.type !== "job.created");
    assert.ok(later.every((r) => !r.body.includes(name)));
    const pending = await deliveriesOf(t, failingHook.Id);
    assert.ok(pending.some((d) => d.Status === "pending"));
  });

  test(
    "a fan-out under way when PII is deleted: the bodies it writes are scrubbed too",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const rx = await receiver();
      const hook = await hookUp(t, rx, ["*"]);
      const name = "Yolanda Fanoutfield";
      const job = await newJob({ ContactName: name });
      const { seq, org_id } = (
        await t.database.db.query<{ seq: string; org_id: string }>(
          "select seq::text as seq, org_id from events where job_id = $1 and event = 'job.created'",
          [job.Id],
        )
      ).rows[0]!;
      // A fan-out that read the job before the deletion and has not committed its deliveries yet.
      const fanOut = await uncommitted(t.database.url ?? "", [
        ["select 1 from webhook_cursor for update", []],
        [
          `insert into webhook_deliveries (id, org_id, webhook_id, event_seq, event_type, event_at, message_id,
           job_id, data, status)
         values ('dlv_fanout_race', $1, $2, $3, 'job.created', now(), 'msg_fanout_race', $4, $5, 'pending')`,
          [org_id, hook.Id, seq, job.Id, JSON.stringify(job)],
        ],
      ]);
      const deleting = t.request("DELETE", `/v1/jobs/${job.Id}/pii`);
      await sleep(300);
      await fanOut.commit();
      assert.equal((await deleting).status, 200);
      const stored = await t.database.db.query<{ data: string }>(
        "select data::text as data from webhook_deliveries where id = 'dlv_fanout_race'",
      );
      assert.equal(stored.rows[0]?.data.includes(name), false, "the contact's name stayed in the outbox");
      assert.equal(JSON.parse(stored.rows[0]!.data).State, "deleted");
    },
  );
});

describe("webhook deliveries without COBBERY_ALLOW_PRIVATE_WEBHOOKS", () => {
  let t: TestApp;
  let rx: Receiver;
  before(async () => {
    t = await startTestApp(quick);
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.close();
    await t.close();
  });

  test("each attempt checks the address again: a host that now resolves to loopback is not reached", async () => {
    const headers = { "webhook-id": "msg_x", "webhook-timestamp": "0", "webhook-signature": "v1,x" };
    const byName = await postDelivery(rx.url.replace("127.0.0.1", "localhost"), headers, "{}", {
      timeoutMs: 2000,
      allowPrivate: false,
    });
    assert.equal(byName.statusCode, null);
    assert.match(byName.error ?? "", /^refused: the host resolves to a loopback address/);
    const literal = await postDelivery(rx.url, headers, "{}", { timeoutMs: 2000, allowPrivate: false });
    assert.match(literal.error ?? "", /^refused: .*loopback/);
    assert.equal(rx.received.length, 0);

    // A webhook whose URL was public when created (written here directly) and is private now.
    const campaignId = (await t.request("POST", "/v1/campaigns", flowCampaign())).body.Id;
    await t.database.db.query(
      "insert into webhooks (id, org_id, url, events, secret) values ('whk_REBOUND', $1, $2, '{*}', $3)",
      [t.orgId, rx.url.replace("127.0.0.1", "localhost"), `whsec_${Buffer.alloc(32, 1).toString("base64")}`],
    );
    const task = await startWebhookTask(t);
    try {
      const job = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, {
        PhoneNumber: "+16175550199",
      });
      assert.equal(job.status, 201);
      const d = await waitFor(async () => {
        const [x] = await deliveriesOf(t, "whk_REBOUND");
        return x?.LastError ? x : undefined;
      });
      assert.equal(d.Status, "pending", "retried later");
      assert.equal(d.LastStatusCode, null);
      assert.match(d.LastError, /^refused: the host resolves to a loopback address/);
      assert.equal(rx.received.length, 0);
    } finally {
      await task.stop();
    }
  });
});
