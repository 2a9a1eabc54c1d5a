// Every scheduling decision uses database time: a step of the worker host's clock (an NTP
// correction, a VM resumed) must not move the retry times the dispatcher writes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Dispatcher } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import type { Telephony } from "../../src/telephony/port.ts";
import { newCampaign, newJob, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { QUICK_DISPATCH, RecordingCarrier } from "../helpers/carriers.ts";
import { TEST_DB } from "../helpers/db.ts";

const HOUR_MS = 3_600_000;
// The embedded database runs in this process and takes its time from the same clock.
const SEPARATE_CLOCK = {
  skip: TEST_DB !== "postgres" ? "needs a database with its own clock (COBBERY_TEST_DB=postgres)" : false,
} as const;

/**
 * Runs a dispatcher on `carrier` (else the app's simulator) for a campaign that retries unanswered
 * calls after an hour; `stepClock()` steps the dispatcher's host clock back two hours.
 */
async function withClockStepped(
  carrier: Telephony | null,
  body: (c: { t: TestApp; campaign: string; stepClock: () => void }) => Promise<void>,
): Promise<void> {
  const t = await startTestApp();
  const realNow = Date.now;
  const conversations = t.app.deps.conversations;
  assert.ok(conversations);
  const d = new Dispatcher(
    {
      db: t.database.db,
      telephony: carrier ?? t.app.telephony,
      logger: createLogger("silent"),
      onAnswered: conversations.onAnswered,
    },
    QUICK_DISPATCH,
  );
  try {
    const campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 3600 });
    await d.start();
    await body({
      t,
      campaign,
      stepClock: () => {
        Date.now = () => realNow() - 2 * HOUR_MS;
      },
    });
  } finally {
    Date.now = realNow;
    await d.stop(0);
    await t.close();
  }
}

/** The job waits for its retry an hour after database time now (its next call time, less now()). */
async function assertRetriedInAnHour(t: TestApp, jobId: string): Promise<void> {
  const r = await t.database.db.query<{ ahead: number }>(
    "select extract(epoch from next_call_at - now()) * 1000 as ahead from jobs where id = $1 and state = 'pending'",
    [jobId],
  );
  const ahead = Number(r.rows[0]?.ahead ?? Number.NaN);
  assert.ok(ahead > 0.99 * HOUR_MS && ahead <= HOUR_MS, `retry ${ahead} ms ahead, not an hour`);
}

test(
  "a host clock stepped back does not move the retry of a call the carrier ends as it takes it",
  SEPARATE_CLOCK,
  () =>
    withClockStepped(null, async ({ t, campaign, stepClock }) => {
      stepClock();
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550103" }); // never answers
      // The call rings out as the simulator takes it: its end is written with its dial.
      const calls = async () => (await t.request("GET", `/v1/jobs/${job.Id}/calls`)).body.Items;
      await waitFor(async () => (await calls()).some((c: any) => c.EndedAt !== null), 10_000, "the call");
      // Retried two hours early, it would be due, and dialed again, at once.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await calls()).length, 1);
      await assertRetriedInAnHour(t, job.Id);
    }),
);

test(
  "nor that of a call whose ending the carrier reports later, the clock stepped while it rang",
  SEPARATE_CLOCK,
  () => {
    const carrier = new RecordingCarrier();
    return withClockStepped(carrier, async ({ t, campaign, stepClock }) => {
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550104" });
      await waitFor(async () => carrier.placed.length === 1, 10_000, "the dial");
      const callId = carrier.placed[0]!.callId;
      await waitFor(
        async () => (await t.request("GET", `/v1/calls/${callId}`)).body.Status === "ringing",
        10_000,
        "the call recorded as ringing",
      );
      stepClock();
      assert.ok(carrier.release(callId));
      await waitFor(
        async () =>
          (await t.database.db.query("select 1 from jobs where id = $1 and state = 'pending'", [job.Id]))
            .rowCount > 0,
        10_000,
        "the call's end",
      );
      await assertRetriedInAnHour(t, job.Id);
    });
  },
);
