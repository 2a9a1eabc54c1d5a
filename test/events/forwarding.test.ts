import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createPosthogForwarding, PosthogForwarder } from "../../src/events/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { insertEvents, openPostgres } from "../../src/store/index.ts";
import { newCampaign, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { CONCURRENT_TRANSACTIONS } from "../helpers/db.ts";

/** A loopback PostHog: records every batch; fails the requests `fail(n)` says to (n counts from 1). */
class FakePosthog {
  readonly requests: Array<{ status: number; body: any; at: number }> = [];
  /** Sent with each failure when set (seconds). */
  retryAfter: string | null = null;
  /** When set, every answer waits for it too. */
  gate: Promise<void> | null = null;
  private server: Server | null = null;
  url = "";
  constructor(
    private readonly fail: (n: number) => boolean,
    private readonly delayMs = 0,
  ) {}
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => {
        raw += c.toString();
      });
      req.on("end", () => {
        const n = this.requests.length + 1;
        const status = req.url === "/batch/" && req.method === "POST" && !this.fail(n) ? 200 : 500;
        this.requests.push({ status, body: JSON.parse(raw), at: Date.now() });
        setTimeout(async () => {
          await this.gate;
          const retry = status !== 200 && this.retryAfter ? { "retry-after": this.retryAfter } : {};
          res.writeHead(status, { "content-type": "application/json", ...retry });
          res.end(status === 200 ? '{"status":1}' : '{"error":"down"}');
        }, this.delayMs);
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  /** The events PostHog accepted (from 2xx requests only). */
  accepted(): any[] {
    return this.requests.filter((r) => r.status === 200).flatMap((r) => r.body.batch);
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FAST = { pollMs: 20, minBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 5_000 };

async function eventUuids(t: TestApp): Promise<string[]> {
  const r = await t.database.db.query<{ uuid: string }>("select uuid::text as uuid from events order by seq");
  return r.rows.map((x) => x.uuid);
}

function assertOnce(sent: any[], expected: string[]): void {
  const uuids = sent.map((e) => e.uuid);
  const dupes = uuids.filter((u, i) => uuids.indexOf(u) !== i);
  assert.deepEqual(dupes, [], "no event is sent twice");
  assert.deepEqual([...uuids].sort(), [...expected].sort(), "every event is sent");
}

describe("PostHog forwarding", () => {
  let posthog: FakePosthog;
  let t: TestApp;
  before(async () => {
    posthog = new FakePosthog((n) => n === 1);
    await posthog.start();
    t = await startTestApp({ COBBERY_POSTHOG_HOST: posthog.url, COBBERY_POSTHOG_API_KEY: "phc_test" });
  });
  after(async () => {
    await t.close();
    await posthog.stop();
  });

  test("is a background task of every worker process (idle without configuration)", async () => {
    const names = t.app.newBackgroundTasks().map((x) => x.name);
    assert.ok(names.includes("posthog-forwarding"), names.join());
    const idle = createPosthogForwarding({ ...t.app.deps, config: { ...t.app.deps.config, posthog: null } });
    assert.equal(idle instanceof PosthogForwarder, false);
    await idle.start();
    await idle.stop();
  });

  test("sends every event once, with its uuid, in batches of 100, retrying after a failure", async () => {
    const cmp = await newCampaign(t, {}, { Status: "paused" });
    const jobs = Array.from({ length: 230 }, (_, i) => ({
      PhoneNumber: `+1415555${String(1000 + i).padStart(4, "0")}`,
      TestJob: i === 0,
    }));
    // No dispatcher runs here: the only events are job.created (one of a test job).
    const r = await t.request("POST", `/v1/campaigns/${cmp}/jobs/batch`, { Jobs: jobs });
    assert.equal(r.status, 200);
    assert.equal(r.body.Created, 230);
    const expected = await eventUuids(t);
    assert.equal(expected.length, 230);

    const task = createPosthogForwarding(t.app.deps, FAST);
    await task.start();
    try {
      await waitFor(async () => posthog.accepted().length >= expected.length, 20_000, "all events");
      await new Promise((res) => setTimeout(res, 200));
    } finally {
      await task.stop();
    }
    assert.equal(posthog.requests[0]?.status, 500, "the first request failed");
    assertOnce(posthog.accepted(), expected);
    for (const req of posthog.requests) {
      assert.equal(req.body.api_key, "phc_test");
      assert.ok(req.body.batch.length <= 100);
    }
    // The failed batch was sent again, whole.
    assert.deepEqual(
      posthog.requests[1]?.body.batch.map((e: any) => e.uuid),
      posthog.requests[0]?.body.batch.map((e: any) => e.uuid),
    );

    const byUuid = new Map(posthog.accepted().map((e) => [e.uuid, e]));
    const rows = await t.database.db.query<{
      uuid: string;
      job_id: string;
      test_job: boolean;
      occurred_at: Date;
    }>("select uuid::text as uuid, job_id, test_job, occurred_at from events");
    for (const row of rows.rows) {
      const e = byUuid.get(row.uuid);
      assert.equal(e.event, "job.created");
      assert.equal(e.timestamp, row.occurred_at.toISOString());
      assert.equal(e.distinct_id, row.job_id);
      assert.equal(e.properties.distinct_id, row.job_id);
      assert.equal(e.properties.job_id, row.job_id);
      assert.equal(e.properties.campaign_id, cmp);
      assert.equal(e.properties.test_job, row.test_job);
      assert.equal(e.properties.$process_person_profile, false);
    }
    assert.equal(posthog.accepted().filter((e) => e.properties.test_job === true).length, 1);

    // The cursor is durable: a new forwarder sends only what came after.
    const before = posthog.requests.length;
    await t.request("POST", `/v1/campaigns/${cmp}/jobs`, { PhoneNumber: "+14155559999" });
    const again = createPosthogForwarding(t.app.deps, FAST);
    await again.start();
    try {
      await waitFor(async () => posthog.accepted().length >= expected.length + 1, 10_000, "the new event");
      await new Promise((res) => setTimeout(res, 100));
    } finally {
      await again.stop();
    }
    assert.equal(posthog.requests.length, before + 1);
    assertOnce(posthog.accepted(), await eventUuids(t));
    const cursor = await t.database.db.query<{ forwarded: number }>(
      "select forwarded from event_forwarding where destination = 'posthog'",
    );
    assert.equal(Number(cursor.rows[0]?.forwarded), 231);
  });

  test("a Retry-After past the back-off's ceiling is honoured", async () => {
    const slow = new FakePosthog((n) => n === 1);
    slow.retryAfter = "1";
    await slow.start();
    const app = await startTestApp({ COBBERY_POSTHOG_HOST: slow.url, COBBERY_POSTHOG_API_KEY: "phc_test" });
    try {
      await app.request("POST", `/v1/campaigns/${await newCampaign(app)}/jobs`, {
        PhoneNumber: "+14155559998",
      });
      const task = createPosthogForwarding(app.app.deps, FAST);
      await task.start();
      try {
        await waitFor(async () => slow.accepted().length > 0, 10_000, "the retried batch");
      } finally {
        await task.stop();
      }
      const [first, second] = slow.requests;
      assert.ok(first && second);
      // FAST caps the back-off at 200 ms; PostHog asked for a second.
      assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms`);
    } finally {
      await app.close();
      await slow.stop();
    }
  });

  test("concurrent forwarders never send an event twice", async () => {
    const slow = new FakePosthog((n) => n % 5 === 0, 30);
    await slow.start();
    const t2 = await startTestApp({ COBBERY_POSTHOG_HOST: slow.url, COBBERY_POSTHOG_API_KEY: "phc_test" });
    try {
      const cmp = await newCampaign(t2, {}, { Status: "paused" });
      const jobs = Array.from({ length: 450 }, (_, i) => ({
        PhoneNumber: `+1212555${String(1000 + i).padStart(4, "0")}`,
      }));
      assert.equal((await t2.request("POST", `/v1/campaigns/${cmp}/jobs/batch`, { Jobs: jobs })).status, 200);
      const expected = await eventUuids(t2);
      // Forwarders in this process, and on PostgreSQL on a second connection pool (another worker).
      const other = t2.database.url ? await openPostgres(t2.database.url, 2) : null;
      const tasks = [
        createPosthogForwarding(t2.app.deps, FAST),
        createPosthogForwarding(t2.app.deps, FAST),
        createPosthogForwarding(other ? { ...t2.app.deps, db: other } : t2.app.deps, FAST),
      ];
      for (const task of tasks) await task.start();
      try {
        await waitFor(async () => slow.accepted().length >= expected.length, 30_000, "all events");
        await new Promise((res) => setTimeout(res, 300));
      } finally {
        for (const task of tasks) await task.stop();
        await other?.close();
      }
      assert.ok(
        slow.requests.some((r) => r.status === 500),
        "some requests failed",
      );
      assertOnce(slow.accepted(), expected);
    } finally {
      await t2.close();
      await slow.stop();
    }
  });

  test(
    "a PostHog request under way holds back no other reader of the log",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const ph = new FakePosthog(() => false);
      let open!: () => void;
      ph.gate = new Promise<void>((r) => {
        open = r;
      });
      await ph.start();
      const t4 = await startTestApp({ COBBERY_POSTHOG_HOST: ph.url, COBBERY_POSTHOG_API_KEY: "phc_test" });
      try {
        const ev = (event: string) => ({
          orgId: t4.orgId,
          campaignId: null,
          jobId: null,
          event,
          testJob: false,
        });
        await insertEvents(t4.database.db, [ev("test.first")]);
        const forwarder = new PosthogForwarder(
          { db: t4.database.db, logger: createLogger("silent"), posthog: { host: ph.url, apiKey: "k" } },
          { ...FAST, timeoutMs: 60_000 },
        );
        // A forward finds nothing while a transaction older than the event is open anywhere on the
        // server (another test's, on a shared PostgreSQL): it is tried again until one sends.
        let sending = forwarder.forwardOnce();
        await waitFor(
          async () => {
            if (ph.requests.length > 0) return true;
            const ended = await Promise.race([sending.then(() => true), sleep(50).then(() => false)]);
            if (ended) sending = forwarder.forwardOnce();
            return false;
          },
          20_000,
          "the request at PostHog",
        );
        // Webhooks read only events that no open transaction can still precede: a transaction held
        // open for the whole request would keep every event written meanwhile from them.
        await insertEvents(t4.database.db, [ev("test.meanwhile")]);
        await waitFor(
          async () => {
            const r = await t4.database.db.query<{ n: number }>(
              `select count(*)::int as n from events
             where event = 'test.meanwhile' and tx_id < pg_snapshot_xmin(pg_current_snapshot())`,
            );
            return r.rows[0]?.n === 1;
          },
          20_000,
          "the event settled while PostHog still holds its request",
        );
        assert.equal(ph.requests.length, 1);
        open();
        assert.equal(await sending, 1);
        await forwarder.forwardOnce();
        assert.deepEqual(
          ph.accepted().map((e) => e.event),
          ["test.first", "test.meanwhile"],
        );
      } finally {
        open();
        await t4.close();
        await ph.stop();
      }
    },
  );

  test("an event committed after a later one is not stepped over", CONCURRENT_TRANSACTIONS, async () => {
    const ph = new FakePosthog(() => false);
    await ph.start();
    const t3 = await startTestApp({ COBBERY_POSTHOG_HOST: ph.url, COBBERY_POSTHOG_API_KEY: "phc_test" });
    const slowTx = await openPostgres(t3.database.url as string, 1);
    try {
      const orgId = t3.orgId;
      const ev = (event: string) => ({ orgId, campaignId: null, jobId: null, event, testJob: false });
      const forwarder = new PosthogForwarder(
        { db: t3.database.db, logger: createLogger("silent"), posthog: { host: ph.url, apiKey: "k" } },
        FAST,
      );
      // A transaction writes an event (lower seq) and stays open while a later one commits.
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let written!: () => void;
      const wrote = new Promise<void>((r) => {
        written = r;
      });
      const tx = slowTx.tx(async (q) => {
        await insertEvents(q, [ev("test.early")]);
        written();
        await held;
      });
      await wrote;
      await insertEvents(t3.database.db, [ev("test.late")]);
      await forwarder.forwardOnce();
      assert.deepEqual(
        ph.accepted().map((e) => e.event),
        [],
        "nothing is sent while an earlier transaction may still commit",
      );
      release();
      await tx;
      // Sent once every transaction older than the late one has ended (on the whole server).
      await waitFor(
        async () => {
          await forwarder.forwardOnce();
          return ph.accepted().length >= 2;
        },
        20_000,
        "both events",
      );
      assert.deepEqual(
        ph
          .accepted()
          .map((e) => e.event)
          .sort(),
        ["test.early", "test.late"],
      );
    } finally {
      await slowTx.close();
      await t3.close();
      await ph.stop();
    }
  });
});
