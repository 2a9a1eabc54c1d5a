// Claims that are not dialed after all go back to pending as they were, and a schedule that stops
// opening leaves jobs waiting instead of failing them.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { claimDueJobs } from "../../src/dispatcher/claim.ts";
import { dialClaims } from "../../src/dispatcher/dial.ts";
import { reapExpiredLeases } from "../../src/dispatcher/reaper.ts";
import { closeUnanswered } from "../../src/dispatcher/unanswered.ts";
import { DEFAULT_SCHEDULE } from "../../src/domain/campaign.ts";
import { retryOrFail } from "../../src/domain/outcomes.ts";
import { createLogger } from "../../src/logging/index.ts";
import { localParts } from "../../src/schedule/index.ts";
import type { Claim } from "../../src/store/dispatch/claim.ts";
import { rescheduleJobs } from "../../src/store/dispatch/claim.ts";
import { type CallClose, closeCalls } from "../../src/store/dispatch/finish.ts";
import { resumeForInbound } from "../../src/store/inbound.ts";
import type { CallOutcome, OutboundCallRequest, PlacedCall, Telephony } from "../../src/telephony/port.ts";
import { newCampaign, newJob, simContact, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { RecordingCarrier } from "../helpers/carriers.ts";
import { CONCURRENT_TRANSACTIONS, closeWindowsUncommitted } from "../helpers/db.ts";

const silent = createLogger("silent");
/** A promise the test resolves when it chooses. */
function latch(): { gate: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  return { gate, release };
}

const ALWAYS = [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: "00:00", End: "24:00" }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const claimOpts = (workerId: string, leaseSeconds = 30) => ({
  workerId,
  limit: 10,
  leaseSeconds,
  orgMaxConcurrentCalls: 100,
});

/** A carrier that holds placeCalls until released; its calls then end unanswered at once. */
class GatedCarrier implements Telephony {
  readonly name = "gated-test";
  entered = false;
  private open!: () => void;
  private readonly gate = new Promise<void>((r) => {
    this.open = r;
  });
  release(): void {
    this.open();
  }
  async placeCalls(requests: readonly OutboundCallRequest[]): Promise<PlacedCall[]> {
    this.entered = true;
    await this.gate;
    return requests.map((r) => {
      const ended: CallOutcome = {
        kind: "unanswered",
        reason: "no_answer",
        ringingAt: null,
        endedAt: new Date(),
      };
      return { callId: r.callId, carrierCallId: `gated-${r.callId}`, outcome: async () => ended, ended };
    });
  }
  async hangup(): Promise<void> {}
}

describe("claims not dialed after all, and schedules that stop opening", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ COBBERY_DISPATCH_POLL_MS: "20" });
  });
  after(() => t.close());

  const jobRow = async (id: string) =>
    (
      await t.database.db.query<{
        state: string;
        attempts: number;
        callbacks: number;
        callback_due: boolean;
        failure_reason: string | null;
      }>("select state, attempts, callbacks, callback_due, failure_reason from jobs where id = $1", [id])
    ).rows[0];

  const runner = () => {
    const conversations = t.app.deps.conversations;
    assert.ok(conversations);
    return conversations;
  };

  /** The ids of the jobs one claim by `workerId` takes. */
  const claimedJobIds = async (workerId: string) =>
    (await claimDueJobs(t.database.db, claimOpts(workerId))).map((c) => c.job.id);

  /** The version of a campaign's windows now. */
  const windowsVersion = async (campaign: string) =>
    (
      await t.database.db.query<{ version: number }>(
        "select schedule_version as version from campaigns where id = $1",
        [campaign],
      )
    ).rows[0]!.version;

  /** The close of a claim's call that rang out unanswered, retried as `retry` says (worked out with `version`). */
  const unansweredRetry = (
    claim: Claim,
    retry: { at: Date | null; due: Date },
    version: number,
  ): CallClose => ({
    callId: claim.callId,
    jobId: claim.job.id,
    fence: claim.fence,
    status: "no_answer",
    endReason: "no_answer",
    answeredBy: null,
    ringingAt: null,
    answeredAt: null,
    endedAt: new Date(),
    durationSeconds: 0,
    billedSeconds: 0,
    decision: { kind: "retry", ...retry },
    scheduleVersion: version,
  });

  /** Opens a campaign's windows all day every day, or closes them all. */
  const setWindows = (campaign: string, open: boolean) =>
    t.request("PATCH", `/v1/campaigns/${campaign}`, { Schedule: { Windows: open ? ALWAYS : [] } });

  test("a call-back whose claim is lost before its dial stays a call-back, past MaxAttempts", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 1, MaxCallbacks: 3, RetryDelaySeconds: 3600 });
    await simContact(t, "+14155550501", [{ Answer: "human", Replies: ["call me later"] }]);
    const d = t.app.newDispatcher();
    await d.start();
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550501" });
    await waitFor(async () => {
      const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
      return j.Callbacks === 1 && j.State === "pending";
    });
    await d.stop();
    /** A pending call-back, the one attempt (MaxAttempts) used. */
    const callBackDue = {
      state: "pending",
      attempts: 1,
      callbacks: 1,
      callback_due: true,
      failure_reason: null,
    };
    assert.deepEqual(await jobRow(job.Id), callBackDue);

    // The call-back falls due; a worker claims it and dies before dialing; the reaper takes it back.
    await db.query("update jobs set next_call_at = now() where id = $1", [job.Id]);
    assert.equal((await claimDueJobs(db, claimOpts("lost", 1))).length, 1);
    await sleep(1_200);
    assert.equal(await reapExpiredLeases(db), 1);
    assert.deepEqual(await jobRow(job.Id), callBackDue);
    const after = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.ok(
      after.NextCallAt !== null && Date.parse(after.NextCallAt) <= Date.now() + 1_000,
      after.NextCallAt,
    );

    // The next claim places the call-back though MaxAttempts (1) is used up.
    assert.deepEqual(await claimedJobIds("w2"), [job.Id]);
  });

  test("a pause committed between the claim and the dial: nothing is dialed, the job waits with its attempt back", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 2 });
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550401" });
    const claims = await claimDueJobs(db, claimOpts("w"));
    assert.equal(claims.length, 1);
    assert.equal((await t.request("POST", `/v1/campaigns/${campaign}/pause`)).body.Status, "paused");

    assert.deepEqual(await dialClaims(db, t.app.telephony, claims, silent), []);
    const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.equal(j.State, "pending");
    assert.equal(j.Attempts, 0);
    const calls = (await t.request("GET", `/v1/jobs/${job.Id}/calls`)).body.Items;
    assert.deepEqual(
      calls.map((c: any) => [c.Status, c.EndReason]),
      [["canceled", "canceled"]],
    );
    const dialed = await db.query("select 1 from calls where job_id = $1 and dialed_at is not null", [
      job.Id,
    ]);
    assert.equal(dialed.rowCount, 0);

    // Resumed, it is claimed again with both attempts left.
    await t.request("POST", `/v1/campaigns/${campaign}/resume`);
    const again = await claimDueJobs(db, claimOpts("w"));
    assert.deepEqual(
      again.map((c) => [c.job.id, c.job.attempts]),
      [[job.Id, 0]],
    );
  });

  for (const [phone, givenBack] of [
    ["+14155550419", "its dial"],
    ["+14155550420", "the reaper"],
  ] as const)
    test(`a job canceled and retried between its claim and its dial, the claim given back by ${givenBack}: MaxAttempts after the retry, not one more`, async () => {
      const db = t.database.db;
      const campaign = await newCampaign(t, { MaxAttempts: 1, RetryDelaySeconds: 0 });
      const job = await newJob(t, campaign, { PhoneNumber: phone });
      const claims = await claimDueJobs(db, claimOpts("w", 1));
      assert.equal(claims.length, 1);
      assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
      assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/retry`)).body.State, "pending");
      // The stale claim dials nothing and gives its attempt back.
      if (givenBack === "its dial")
        assert.deepEqual(await dialClaims(db, t.app.telephony, claims, silent), []);
      else {
        await sleep(1_100);
        assert.equal(await reapExpiredLeases(db), 1);
      }

      // The retry's one attempt: unanswered, and then no attempt is left.
      const again = await claimDueJobs(db, claimOpts("w"));
      assert.equal((await dialClaims(db, t.app.telephony, again, silent)).length, 1);
      const ended = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
      assert.deepEqual(
        [ended.State, ended.FailureReason, ended.Attempts],
        ["failed", "max_attempts_exceeded", 1],
      );
      assert.deepEqual(await claimedJobIds("w"), []);
    });

  test(
    "a pause waits for a dial under way, so no call starts after the pause commits",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const db = t.database.db;
      // One attempt: its no-answer ends the job, which leaves nothing due for the next test.
      const campaign = await newCampaign(t, { MaxAttempts: 1 });
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550402" });
      const claims = await claimDueJobs(db, claimOpts("w"));
      const carrier = new GatedCarrier();
      const dialing = dialClaims(db, carrier, claims, silent);
      await waitFor(async () => carrier.entered);
      let pausedAt: number | null = null;
      const pausing = t.request("POST", `/v1/campaigns/${campaign}/pause`).then((r) => {
        pausedAt = Date.now();
        return r;
      });
      await sleep(300);
      const pausedEarly = pausedAt !== null;
      const releasedAt = Date.now();
      // Released before asserting, so that a failure does not leave the dial's transaction open.
      carrier.release();
      assert.equal(pausedEarly, false, "the pause returned while the carrier was taking the call");
      assert.equal((await dialing).length, 1);
      assert.equal((await pausing).body.Status, "paused");
      assert.ok(pausedAt !== null && pausedAt >= releasedAt);
      const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
      assert.equal(j.Attempts, 1);
    },
  );

  test("a schedule that stops opening while a call is live leaves its job waiting (NextCallAt null), not failed", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 3 });
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550403" });
    const claims = await claimDueJobs(db, claimOpts("w"));
    assert.equal(claims.length, 1);
    const patched = await setWindows(campaign, false);
    assert.equal(patched.status, 200, JSON.stringify(patched.body));

    // The call (claimed under the old schedule) ends unanswered; its retry comes due and is claimed
    // under the new one.
    await dialClaims(db, t.app.telephony, claims, silent);
    await db.query("update jobs set next_call_at = now() where id = $1", [job.Id]);
    assert.deepEqual(await claimDueJobs(db, claimOpts("w")), []);
    const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.deepEqual([j.State, j.NextCallAt, j.FailureReason, j.Attempts], ["pending", null, null, 1]);

    // Windows again: the job is scheduled and dialed.
    await setWindows(campaign, true);
    assert.deepEqual(await claimedJobIds("w"), [job.Id]);
  });

  test("windows emptied and restored during a call: its retry is placed by the windows as they are at its end", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 3 });
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550405" });
    const [claim] = await claimDueJobs(db, claimOpts("w"));
    assert.ok(claim);
    // The windows are emptied as the call connects (voicemail), and restored before it ends.
    assert.equal((await setWindows(campaign, false)).status, 200);
    let hangingUp = false;
    const { gate, release } = latch();
    const call = runner().converse({
      callId: claim.callId,
      jobId: job.Id,
      fence: claim.fence,
      direction: "outbound",
      by: "voicemail",
      ringingAt: null,
      answeredAt: new Date(),
      media: {
        say: async () => new Date(),
        listen: async () => ({ kind: "hangup", at: new Date() }),
        hangup: async () => {
          hangingUp = true;
          await gate;
          return new Date();
        },
      },
    });
    await waitFor(async () => hangingUp);
    assert.equal((await setWindows(campaign, true)).status, 200);
    release();
    await call;

    const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.deepEqual([j.State, j.Attempts], ["pending", 1]);
    assert.ok(j.NextCallAt !== null && Date.parse(j.NextCallAt) <= Date.now() + 1_000, j.NextCallAt);
    assert.deepEqual(await claimedJobIds("w"), [job.Id]);
  });

  test("a next call time worked out with windows changed since is not written: a retry due tomorrow stays tomorrow", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 86_400 });
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550406" });
    // One unanswered attempt (the simulator's numbers that are not registered ring out): retried in a day.
    const claims = await claimDueJobs(db, claimOpts("w"));
    assert.equal((await dialClaims(db, t.app.telephony, claims, silent)).length, 1);
    const retried = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.equal(retried.State, "pending");
    const tomorrow = Date.parse(retried.NextCallAt);
    assert.ok(tomorrow > Date.now() + 86_000_000, retried.NextCallAt);

    // A rescheduling that read the windows before a second change committed, and writes after
    // that change's own rescheduling: its time is stale, and the job keeps the one it has.
    const stale = await windowsVersion(campaign);
    await t.request("PATCH", `/v1/campaigns/${campaign}`, { Schedule: { BlackoutDates: ["2031-01-01"] } });
    assert.equal(Date.parse((await t.request("GET", `/v1/jobs/${job.Id}`)).body.NextCallAt), tomorrow);
    await db.tx((q) => rescheduleJobs(q, [{ id: job.Id, at: new Date(), version: stale }]));
    assert.equal(Date.parse((await t.request("GET", `/v1/jobs/${job.Id}`)).body.NextCallAt), tomorrow);
    assert.deepEqual(await claimedJobIds("w2"), [], "a retry due tomorrow is not dialed now");
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
  });

  test("lowering MaxAttempts fails at once the waiting jobs it leaves with no attempt, not when they come due", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 3600 });
    const tried = await newJob(t, campaign, { PhoneNumber: "+14155550421" });
    // One unanswered attempt: retried in an hour.
    assert.equal(
      (await dialClaims(db, t.app.telephony, await claimDueJobs(db, claimOpts("w")), silent)).length,
      1,
    );
    const untried = await newJob(t, campaign, { PhoneNumber: "+14155550422" });

    const patched = await t.request("PATCH", `/v1/campaigns/${campaign}`, { Schedule: { MaxAttempts: 1 } });
    assert.equal(patched.status, 200);
    const ended = (await t.request("GET", `/v1/jobs/${tried.Id}`)).body;
    assert.deepEqual(
      [ended.State, ended.FailureReason, ended.NextCallAt, ended.FailureMessage],
      ["failed", "max_attempts_exceeded", null, "No attempt is left: 1 attempt placed; MaxAttempts is 1."],
    );
    const waiting = (await t.request("GET", `/v1/jobs/${untried.Id}`)).body;
    assert.equal(waiting.State, "pending");
    assert.ok(waiting.NextCallAt);
    await t.request("POST", `/v1/jobs/${untried.Id}/cancel`);
  });

  for (const [change, patch, phone] of [
    ["MaxAttempts lowered to the attempts placed", { Schedule: { MaxAttempts: 1 } }, "+14155550423"],
    ["the campaign archived", { Status: "archived" }, "+14155550424"],
  ] as const)
    test(`${change} while a call rings: its unanswered end obeys the change`, async () => {
      const db = t.database.db;
      const carrier = new RecordingCarrier();
      const campaign = await newCampaign(t, { MaxAttempts: 3, RetryDelaySeconds: 3600 });
      const job = await newJob(t, campaign, { PhoneNumber: phone });
      const [d] = await dialClaims(db, carrier, await claimDueJobs(db, claimOpts("w")), silent);
      assert.ok(d);
      assert.equal((await t.request("PATCH", `/v1/campaigns/${campaign}`, patch)).status, 200);
      const ending = d.placed.outcome();
      assert.ok(carrier.release(d.claim.callId));
      const outcome = await ending;
      assert.equal(outcome.kind, "unanswered");
      if (outcome.kind === "unanswered") await closeCalls(db, [closeUnanswered(d, outcome, new Date())]);
      const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
      if (change === "the campaign archived") assert.deepEqual([j.State, j.NextCallAt], ["pending", null]);
      else
        assert.deepEqual(
          [j.State, j.FailureReason, j.FailureMessage],
          ["failed", "max_attempts_exceeded", "No attempt is left: 1 attempt placed; MaxAttempts is 1."],
        );
    });

  test("a campaign archived between the claim and the dial: the claim goes back with no next call time", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t);
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550425" });
    const claims = await claimDueJobs(db, claimOpts("w"));
    assert.equal((await t.request("PATCH", `/v1/campaigns/${campaign}`, { Status: "archived" })).status, 200);
    assert.deepEqual(await dialClaims(db, t.app.telephony, claims, silent), []);
    const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.deepEqual([j.State, j.NextCallAt, j.Attempts], ["pending", null, 0]);
  });

  test(
    "a change of windows waits for a job a claim holds, then schedules it too",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const campaign = await newCampaign(t);
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550407" });
      const holder = new pg.Client({ connectionString: t.database.url ?? "" });
      await holder.connect();
      try {
        await holder.query("begin");
        await holder.query("select 1 from jobs where id = $1 for update", [job.Id]);
        const patched = setWindows(campaign, false);
        await sleep(300);
        await holder.query("commit");
        assert.equal((await patched).status, 200);
      } finally {
        await holder.end();
      }
      assert.equal((await t.request("GET", `/v1/jobs/${job.Id}`)).body.NextCallAt, null);
    },
  );

  test(
    "a change of windows waits for a close under way, so the close's next call time is never left stale",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const db = t.database.db;
      const campaign = await newCampaign(t, { MaxAttempts: 3 });
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550408" });
      const [claim] = await claimDueJobs(db, claimOpts("w"));
      assert.ok(claim);
      await setWindows(campaign, false);
      const version = await windowsVersion(campaign);
      // The call ends while no window opens: retried with no time (the windows as its worker read them).
      const { gate, release } = latch();
      let closed = false;
      const closing = db.tx(async (q) => {
        await closeCalls(q, [unansweredRetry(claim, { at: null, due: new Date() }, version)]);
        closed = true;
        await gate;
      });
      await waitFor(async () => closed);
      // Windows back while that close has not committed: the change waits for it, then reschedules.
      let changedEarly = false;
      const changing = setWindows(campaign, true).then((r) => {
        changedEarly = !released;
        return r;
      });
      let released = false;
      await sleep(300);
      released = true;
      release();
      await closing;
      assert.equal((await changing).status, 200);
      assert.equal(changedEarly, false, "the change of windows committed while the close was under way");
      const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
      assert.equal(j.State, "pending");
      assert.ok(j.NextCallAt !== null && Date.parse(j.NextCallAt) <= Date.now() + 1_000, j.NextCallAt);
    },
  );

  test("a retry worked out with windows changed since is placed by its close in the windows as they are", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(t, { MaxAttempts: 3, Windows: ALWAYS });
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550411" });
    const claim = (await claimDueJobs(db, claimOpts("w"))).find((c) => c.job.id === job.Id);
    assert.ok(claim);
    const version = await windowsVersion(campaign);
    // The worker wants the retry in two days, when every window is open; then that day (the
    // contact's, in Los Angeles) becomes a blackout date, before the call ends.
    const due = new Date(Date.now() + 2 * 86_400_000);
    const blackedOut = localParts("America/Los_Angeles", due).date;
    const patched = await t.request("PATCH", `/v1/campaigns/${campaign}`, {
      Schedule: { BlackoutDates: [blackedOut] },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await db.tx((q) => closeCalls(q, [unansweredRetry(claim, { at: due, due }, version)]));

    // NextCallAt is the first minute after the blackout date, not the time the worker wanted.
    const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.equal(j.State, "pending");
    const next = localParts("America/Los_Angeles", new Date(j.NextCallAt));
    assert.ok(next.date > blackedOut, j.NextCallAt);
    assert.deepEqual([next.hour, next.minute], [0, 0], j.NextCallAt);
    assert.ok(Date.parse(j.NextCallAt) - due.getTime() <= 86_400_000, j.NextCallAt);
  });

  test("an inbound call with no outcome, windows changed during it: the pending job it restores is due again", async () => {
    const db = t.database.db;
    const campaign = await newCampaign(
      t,
      { Windows: [] },
      { InboundMode: "lookup", PhoneNumbers: ["+14155550990"] },
    );
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550409" });
    assert.equal(job.NextCallAt, null);
    // The contact calls in (as the sim's inbound route does) and hangs up saying nothing, once the
    // windows are back.
    const callId = `call_inbound_${Date.now()}`;
    const taken = await db.tx((q) =>
      resumeForInbound(q, {
        jobId: job.Id,
        callId,
        owner: "inbound:test",
        leaseSeconds: 300,
        from: "+14155550409",
        to: "+14155550990",
        localHour: () => 12,
      }),
    );
    let listening = false;
    const { gate, release } = latch();
    const call = runner().converse({
      callId,
      jobId: job.Id,
      fence: taken.fence,
      direction: "inbound",
      by: "human",
      ringingAt: null,
      answeredAt: taken.answeredAt,
      media: {
        say: async () => new Date(),
        listen: async () => {
          listening = true;
          await gate;
          return { kind: "hangup", at: new Date() };
        },
        hangup: async () => new Date(),
      },
    });
    await waitFor(async () => listening);
    assert.equal((await setWindows(campaign, true)).status, 200);
    release();
    await call;
    const j = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.equal(j.State, "pending");
    assert.ok(j.NextCallAt !== null && Date.parse(j.NextCallAt) <= Date.now() + 1_000, j.NextCallAt);
    assert.ok((await claimDueJobs(db, claimOpts("w"))).some((c) => c.job.id === job.Id));
  });

  test(
    "a job created while a change of windows is under way gets its first call time from the new windows",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const campaign = await newCampaign(t);
      const change = await closeWindowsUncommitted(t.database.url ?? "", campaign);
      let created = false;
      const creating = newJob(t, campaign, { PhoneNumber: "+14155550410" }).then((j) => {
        created = true;
        return j;
      });
      await sleep(300);
      const createdEarly = created;
      await change.commit();
      assert.equal(createdEarly, false, "the job was created while the change was under way");
      assert.equal((await creating).NextCallAt, null);
    },
  );

  /**
   * Runs `change` (an API call that works out a job's next call time) while a change of windows
   * that closes them all is under way, and returns its answer and whether it answered before that
   * change committed.
   */
  const duringWindowsChange = async (
    campaign: string,
    change: () => Promise<{ status: number; body: any }>,
  ) => {
    const windows = await closeWindowsUncommitted(t.database.url ?? "", campaign);
    let answered = false;
    const changing = change().then((r) => {
      answered = true;
      return r;
    });
    await sleep(300);
    const early = answered;
    await windows.commit();
    return { early, answer: await changing };
  };

  test(
    "a job retried while a change of windows is under way gets its next call time from the new windows",
    CONCURRENT_TRANSACTIONS,
    async () => {
      // Paused: the retried job is not dialed, so its NextCallAt stays as the retry wrote it.
      const campaign = await newCampaign(t, {}, { Status: "paused" });
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550411" });
      assert.equal((await t.request("POST", `/v1/jobs/${job.Id}/cancel`)).status, 200);
      const { early, answer } = await duringWindowsChange(campaign, () =>
        t.request("POST", `/v1/jobs/${job.Id}/retry`),
      );
      assert.equal(early, false, "the job was retried while the change was under way");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.State, "pending");
      assert.equal(answer.body.NextCallAt, null);
    },
  );

  test(
    "a waiting job whose TimeZone changes while a change of windows is under way gets its next call time from the new windows",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const campaign = await newCampaign(t, {}, { Status: "paused" });
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550412" });
      assert.notEqual(job.NextCallAt, null);
      const { early, answer } = await duringWindowsChange(campaign, () =>
        t.request("PATCH", `/v1/jobs/${job.Id}`, { TimeZone: "America/Chicago" }),
      );
      assert.equal(early, false, "the job was changed while the change was under way");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.NextCallAt, null);
    },
  );

  test(
    "a TimeZone change waits for a campaign a close holds before it locks its job: the two never deadlock",
    CONCURRENT_TRANSACTIONS,
    async () => {
      const campaign = await newCampaign(t, {}, { Status: "paused" });
      const job = await newJob(t, campaign, { PhoneNumber: "+14155550413" });
      // As a close that pauses the campaign and then ends the jobs of an opted-out number does.
      const close = new pg.Client({ connectionString: t.database.url ?? "" });
      await close.connect();
      try {
        await close.query("begin");
        await close.query("select 1 from campaigns where id = $1 for update", [campaign]);
        const patching = t.request("PATCH", `/v1/jobs/${job.Id}`, { TimeZone: "America/Chicago" });
        await sleep(300);
        await close.query("set local lock_timeout = '3s'");
        await close.query("select 1 from jobs where id = $1 for update", [job.Id]);
        await close.query("commit");
        assert.equal((await patching).status, 200);
      } finally {
        await close.end();
      }
    },
  );

  test("an unanswered attempt with attempts left and no window ever open is retried with no time, not failed", () => {
    const now = new Date("2026-11-24T12:00:00Z");
    const job = {
      test_job: false,
      attempts: 1,
      attempts_base: 0,
      time_zone: null,
      phone_number: "+14155550404",
    };
    const closed = { ...DEFAULT_SCHEDULE, MaxAttempts: 3, RetryDelaySeconds: 60, Windows: [] };
    assert.deepEqual(retryOrFail(job, closed, "no_answer", now), {
      kind: "retry",
      at: null,
      due: new Date("2026-11-24T12:01:00Z"),
    });
    assert.equal(retryOrFail({ ...job, attempts: 3 }, closed, "no_answer", now).kind, "fail");
  });
});
