// A dispatcher's stop: nothing is dialed once it began, calls still live when its grace ends are
// hung up and handed back at once, and a worker that lost a lease while paused keeps renewing the
// job's next claim.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Dispatcher, type DispatcherOptions } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import type { Claim } from "../../src/store/dispatch/claim.ts";
import type { Db } from "../../src/store/index.ts";
import { newCampaign, newJob, startTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { QUICK_DISPATCH, RecordingCarrier } from "../helpers/carriers.ts";

describe("stopping a dispatcher", () => {
  let t: TestApp;
  const started: Dispatcher[] = [];
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    for (const d of started) await d.stop(0);
    await t.close();
  });

  /** A dispatcher on `db` (the test database unless given) dialing through `carrier`, started. */
  const startDispatcher = async (
    carrier: RecordingCarrier,
    opts: Partial<DispatcherOptions> = {},
    db?: Db,
  ) => {
    const conversations = t.app.deps.conversations;
    assert.ok(conversations);
    const d = new Dispatcher(
      {
        db: db ?? t.database.db,
        telephony: carrier,
        logger: createLogger("silent"),
        onAnswered: conversations.onAnswered,
      },
      { ...QUICK_DISPATCH, ...opts },
    );
    started.push(d);
    await d.start();
    return d;
  };

  /** The test database, with `hook` run after each claim's transaction commits, before the dial. */
  const afterClaims = (hook: (claims: Claim[]) => void | Promise<void>): Db => {
    const real = t.database.db;
    return new Proxy(real, {
      get(target, prop) {
        if (prop === "tx")
          return async <T>(fn: Parameters<Db["tx"]>[0]) => {
            const result = (await real.tx(fn)) as T;
            // A claim's transaction returns its claims, each with a call id.
            if (Array.isArray(result) && (result as Claim[])[0]?.callId) await hook(result as Claim[]);
            return result;
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  };

  const jobRow = async (id: string) =>
    (
      await t.database.db.query<{
        state: string;
        attempts: number;
        lease_owner: string | null;
        live_call_id: string | null;
        fence: number;
      }>("select state, attempts, lease_owner, live_call_id, fence from jobs where id = $1", [id])
    ).rows[0]!;
  /** The id of the call `carrier` was asked to place to `phone` (the n-th such call, from 0), once it was. */
  const dialedTo = (carrier: RecordingCarrier, phone: string, n = 0) =>
    waitFor(
      async () => carrier.placed.filter((p) => p.to === phone)[n]?.callId,
      10_000,
      `dial ${n} to ${phone}`,
    );
  /** A started dispatcher that dialed a job to `phone` (MaxAttempts 3); the call rings until released. */
  const liveCall = async (phone: string, opts: Partial<DispatcherOptions> = {}) => {
    const carrier = new RecordingCarrier();
    const campaign = await newCampaign(t, { MaxAttempts: 3 });
    const d = await startDispatcher(carrier, opts);
    const job = await newJob(t, campaign, { PhoneNumber: phone });
    return { carrier, d, job, callId: await dialedTo(carrier, phone) };
  };
  const callRow = async (id: string) =>
    (
      await t.database.db.query<{ status: string; end_reason: string | null; ended: boolean }>(
        "select status, end_reason, ended_at is not null as ended from calls where id = $1",
        [id],
      )
    ).rows[0]!;

  test("a worker that stalls between its claim and the dial (past half its lease) dials none of it; the reaper hands it back", async () => {
    const carrier = new RecordingCarrier();
    const phone = "+14155550419";
    let stalledCall: string | undefined;
    // The worker freezes right after the claim commits, as under SIGSTOP, for longer than half the lease.
    const db = afterClaims(async (claims) => {
      const mine = claims.find((c) => c.job.phone_number === phone);
      if (!stalledCall && mine) {
        stalledCall = mine.callId;
        await new Promise((r) => setTimeout(r, 1_300));
      }
    });
    const campaign = await newCampaign(t, { MaxAttempts: 3 });
    const d = await startDispatcher(carrier, { leaseSeconds: 2 }, db);
    const job = await newJob(t, campaign, { PhoneNumber: phone });
    // Dialed once, later, by a claim made after the reaper gave the stalled one back.
    const dialed = await dialedTo(carrier, phone);
    assert.ok(stalledCall);
    assert.notEqual(dialed, stalledCall, "the stalled claim was dialed");
    assert.equal(carrier.placed.filter((p) => p.to === phone).length, 1);
    assert.deepEqual(await callRow(stalledCall), {
      status: "canceled",
      end_reason: "worker_lost",
      ended: true,
    });
    assert.equal((await jobRow(job.Id)).attempts, 1, "the stalled claim's attempt was given back");
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
    carrier.release(dialed);
    await d.stop(0);
  });

  test("a claim under way when the stop begins is not dialed: its job goes back to pending, attempt given back", async () => {
    const carrier = new RecordingCarrier();
    let d: Dispatcher | undefined;
    let stopping: Promise<void> | undefined;
    // The stop begins right after the claim's transaction commits, before the dial's.
    const db = afterClaims((claims) => {
      if (!stopping && claims.length > 0) stopping = d?.stop(0);
    });
    const campaign = await newCampaign(t, { MaxAttempts: 3 });
    d = await startDispatcher(carrier, {}, db);
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550601" });
    await waitFor(async () => stopping !== undefined);
    await stopping;

    assert.deepEqual(carrier.placed, [], "a call was dialed after the stop began");
    const j = await jobRow(job.Id);
    assert.deepEqual([j.state, j.attempts, j.lease_owner, j.live_call_id], ["pending", 0, null, null]);
    const api = (await t.request("GET", `/v1/jobs/${job.Id}`)).body;
    assert.ok(api.NextCallAt !== null && Date.parse(api.NextCallAt) <= Date.now() + 1_000, api.NextCallAt);
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
  });

  test("calls still live when the grace ends are hung up and handed back: retried, no lease left", async () => {
    const { carrier, d, job, callId } = await liveCall("+14155550602");

    await d.stop(200);
    assert.deepEqual(carrier.hungUp, [callId]);
    assert.deepEqual(await callRow(callId), { status: "failed", end_reason: "worker_lost", ended: true });
    const j = await jobRow(job.Id);
    // The dialed attempt counts; the job is due again (RetryDelaySeconds 0) with no lease.
    assert.deepEqual([j.state, j.attempts, j.lease_owner, j.live_call_id], ["pending", 1, null, null]);
    // The carrier's late ending of the call changes nothing.
    carrier.release(callId);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await callRow(callId), { status: "failed", end_reason: "worker_lost", ended: true });
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
  });

  test("a stop that hands calls back lets their endings through before it returns: nothing after", async () => {
    // A carrier whose hang-up ends the call a moment later, as a real one does.
    class HangingUp extends RecordingCarrier {
      override async hangup(callId: string): Promise<void> {
        await super.hangup(callId);
        setTimeout(() => this.release(callId), 50);
      }
    }
    const carrier = new HangingUp();
    let stopped = false;
    const late: string[] = [];
    const real = t.database.db;
    // The database as the dispatcher sees it: anything it asks once stop() returned is recorded
    // (the process closes the database then, and such a write fails).
    const watched = new Proxy(real, {
      get(target, prop) {
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          if (stopped) late.push(String(prop));
          return v.apply(target, args);
        };
      },
    });
    const campaign = await newCampaign(t, { MaxAttempts: 3 });
    const d = await startDispatcher(carrier, {}, watched);
    const job = await newJob(t, campaign, { PhoneNumber: "+14155550607" });
    const callId = await dialedTo(carrier, "+14155550607");
    await d.stop(100);
    stopped = true;
    assert.deepEqual(carrier.hungUp, [callId]);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(late, []);
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
  });

  test("hurry() ends the grace of a stop under way", async () => {
    const { carrier, d, job, callId } = await liveCall("+14155550603");
    const t0 = Date.now();
    const stopping = d.stop(60_000);
    await new Promise((r) => setTimeout(r, 100));
    d.hurry();
    await stopping;
    assert.ok(Date.now() - t0 < 10_000, `the stop took ${Date.now() - t0} ms`);
    assert.equal((await jobRow(job.Id)).state, "pending");
    assert.deepEqual(carrier.hungUp, [callId]);
    await t.request("POST", `/v1/jobs/${job.Id}/cancel`);
  });

  test("a call that lost its lease while its worker was paused does not end the renewal of the job's next claim", async () => {
    const { carrier, d, job, callId: first } = await liveCall("+14155550604", { leaseSeconds: 1 });
    // As if the worker had been paused past its lease: another takes the lease and lets it expire.
    await t.database.db.query(
      "update jobs set lease_owner = 'wrk_paused_meanwhile', lease_expires_at = now() - interval '1 second' where id = $1",
      [job.Id],
    );
    // The worker's own reaper recovers it (worker_lost, retried at once), asks for a hang-up of the
    // first call, and the worker claims and dials the job again.
    const second = await dialedTo(carrier, "+14155550604", 1);
    assert.ok(carrier.hungUp.includes(first), "the lost call was not hung up");
    const { fence } = await jobRow(job.Id);
    // The first call's carrier ending arrives late; the second call goes on and stays renewed.
    carrier.release(first);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.deepEqual(await callRow(second), { status: "ringing", end_reason: null, ended: false });
    const j = await jobRow(job.Id);
    assert.deepEqual([j.state, j.fence, j.live_call_id], ["in_progress", fence, second]);
    carrier.release(second);
    await d.stop(1_000);
  });
});
