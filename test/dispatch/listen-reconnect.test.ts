// A dispatcher learns of new jobs and of hang-ups (cancel, opt-out, PII deletion) through LISTEN
// sessions of its own. When the database restarts, or the sessions are terminated, it must open
// them again, and make up for the notices it missed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Dispatcher } from "../../src/dispatcher/index.ts";
import { newCampaign, newJob, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { RecordingCarrier, testDispatcher } from "../helpers/carriers.ts";
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
