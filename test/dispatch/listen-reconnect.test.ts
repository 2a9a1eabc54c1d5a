// A dispatcher learns of new jobs and of hang-ups (cancel, opt-out, PII deletion) through LISTEN
// sessions of its own. When the database restarts, or the sessions are terminated, it must open
// them again, and make up for the notices it missed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Dispatcher } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { newCampaign, newJob, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { QUICK_DISPATCH, RecordingCarrier, testDispatcher } from "../helpers/carriers.ts";
import { TEST_DB } from "../helpers/db.ts";

const REAL_SESSIONS = {
  skip: TEST_DB !== "postgres" ? "needs server sessions to terminate (COBBERY_TEST_DB=postgres)" : false,
} as const;

describe("a dispatcher whose listening sessions are lost", REAL_SESSIONS, () => {
  let t: TestApp;
  let d: Dispatcher | undefined;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await d?.stop(0);
    await t.close();
  });

  const listeners = async (): Promise<number> =>
    (
      await t.database.db.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'listen %'",
      )
    ).rows[0]?.n ?? 0;

  test("opens them again: new jobs still wake it, and a canceled call is still hung up", async () => {
    const carrier = new RecordingCarrier(false);
    // Polling once a minute: only a notice (or making up for a missed one) dials a new job in time.
    d = testDispatcher(t, carrier, { pollMs: 60_000 });
    await d.start();
    const campaign = await newCampaign(t);
    assert.equal(await listeners(), 2);

    await t.database.db.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %'",
    );
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550351" });
    await waitFor(async () => carrier.placed.length === 1, 10_000, "the new job dialed");
    const callId = carrier.placed[0]?.callId as string;

    // Lost again just before the cancel: its hang-up notice goes to no one.
    await t.database.db.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %'",
    );
    assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
    await waitFor(async () => carrier.hungUp.includes(callId), 10_000, "the canceled call hung up");
    await waitFor(async () => (await listeners()) === 2, 10_000, "both sessions open again");
    carrier.release(callId);
  });
});

describe("a hang-up whose notice was missed", () => {
  let t: TestApp;
  const started: Dispatcher[] = [];
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    for (const d of started) await d.stop(0);
    await t.close();
  });

  test("is made up for on the calls a process runs, not only those its dispatcher claimed", async () => {
    // Dispatcher A claims and dials the job; the call is live.
    const carrier = new RecordingCarrier(false);
    const a = testDispatcher(t, carrier);
    started.push(a);
    await a.start();
    const campaign = await newCampaign(t);
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550352" });
    await waitFor(async () => carrier.placed.length === 1, 10_000, "the dial");
    const callId = carrier.placed[0]?.callId as string;
    // Another process runs that call's conversation (as it would an inbound call it took).
    const conversations = t.app.deps.conversations;
    assert.ok(conversations);
    const ended: string[] = [];
    const b = new Dispatcher(
      {
        db: t.database.db,
        telephony: new RecordingCarrier(false),
        logger: createLogger("silent"),
        onAnswered: conversations.onAnswered,
        onHangup: (id) => ended.push(id),
        liveCalls: () => [callId],
      },
      { ...QUICK_DISPATCH, leaseSeconds: 3 },
    );
    started.push(b);
    await b.start();
    // The job is canceled, and its hang-up notice goes to no one.
    await t.database.db.query("update jobs set state = 'canceled', next_call_at = null where id = $1", [
      job.Id,
    ]);
    await waitFor(async () => ended.includes(callId), 10_000, "the conversation ended");
    carrier.release(callId);
  });
});
