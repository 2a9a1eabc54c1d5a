import { mayDial } from "../domain/campaign.ts";
import { requeue } from "../domain/outcomes.ts";
import type { Logger } from "../logging/index.ts";
import { contactLocalHour } from "../schedule/index.ts";
import type { Claim } from "../store/dispatch/claim.ts";
import {
  abandonCalls,
  type ClaimedCall,
  extendDialLeases,
  lockForDial,
  markDialed,
  markDialStarted,
} from "../store/dispatch/dial.ts";
import { type CallClose, closeLockedCalls } from "../store/dispatch/finish.ts";
import type { Db, Queryable } from "../store/index.ts";
import type { PlacedCall, Telephony, UnansweredOutcome } from "../telephony/port.ts";
import { closeUnanswered } from "./unanswered.ts";

/** The worker stalled between its claim and the dial: nothing was dialed. */
export class DialStalled extends Error {
  constructor(calls: number) {
    super(`the dial of ${calls} claimed calls began too late (the worker stalled): none was dialed`);
  }
}

export interface DialedCall {
  claim: Claim;
  /** The carrier's call; when `placed.ended` is set, its end was written with its dial. */
  placed: PlacedCall;
  dialedAt: Date;
}

const claimedCall = (c: Claim): ClaimedCall => ({
  jobId: c.job.id,
  callId: c.callId,
  fence: c.fence,
});

/** A carrier that fails to take a call leaves an unanswered attempt (carrier_failed). */
function failedPlacement(callId: string, at: Date): PlacedCall {
  const ended: UnansweredOutcome = {
    kind: "unanswered",
    reason: "carrier_failed",
    ringingAt: null,
    endedAt: at,
  };
  return { callId, carrierCallId: "", outcome: () => Promise.resolve(ended), ended };
}

/** The close of a claim that is not dialed after all: its job goes back to pending as it was. */
const notDialed = (c: Claim, now: Date): CallClose => ({
  callId: c.callId,
  jobId: c.job.id,
  fence: c.fence,
  status: "canceled",
  endReason: "canceled",
  answeredBy: null,
  ringingAt: null,
  answeredAt: null,
  endedAt: now,
  durationSeconds: 0,
  billedSeconds: 0,
  undialed: true,
  decision: requeue(c.job, c.job.schedule, c.job.zones, now),
  scheduleVersion: c.job.schedule_version,
});

export interface DialOptions {
  /** Whether the worker began to stop: then nothing is dialed, and the claims go back to pending. */
  stopping?: () => boolean;
  /**
   * When the claims' dial must have begun (performance.now()): a worker frozen past it (SIGSTOP,
   * a stalled VM) dials none of them when it wakes, since its leases may be gone; the
   * transaction is rolled back and the reaper hands the claims back.
   */
  dialBy?: number;
  /** The workers' lease: extended for calls a carrier outside the database took (it may be slow). */
  leaseSeconds?: number;
}

/**
 * Dials claimed calls: re-locks their jobs, hands those still ours to the carrier while holding the
 * locks, and records them as dialed (an attempt each) in the same transaction. A call whose ending the
 * carrier already knew (the simulator's unanswered calls) is written dialed and ended at once, with
 * its job's decision: one write instead of a dial mark and, later, a close. Claims whose job was
 * canceled or opted out since are closed without dialing; those whose campaign was paused or
 * archived since, and all of them once the worker is stopping, go back to pending.
 *
 * A carrier outside the database (any but the simulator) cannot take a call back when that
 * transaction rolls back (a worker killed, a connection lost, a carrier slower than the server's
 * idle-transaction timeout): the calls' dial is first committed as begun, in a transaction of its
 * own after the same checks. A worker lost after that leaves attempts the reaper counts as dialed
 * and never dials again; a worker whose recording fails hangs up what the carrier took.
 */
export async function dialClaims(
  db: Db,
  telephony: Telephony,
  claims: readonly Claim[],
  logger: Logger,
  opts: DialOptions = {},
): Promise<DialedCall[]> {
  if (claims.length === 0) return [];
  if (telephony.placesInTransaction)
    return db.tx(async (q) => {
      const { toDial, now } = await lockStillOurs(q, claims, opts);
      return placeAndRecord(q, telephony, toDial, now, logger, opts);
    });
  const starting = await db.tx(async (q) => {
    const { toDial } = await lockStillOurs(q, claims, opts);
    await markDialStarted(q, toDial.map(claimedCall));
    return toDial;
  });
  if (starting.length === 0) return [];
  // What the carrier was given (its answer, or the refusals standing for it): nothing until then.
  const taken: PlacedCall[] = [];
  try {
    // Checked again under the locks: a cancel, opt-out or pause committed since is still obeyed.
    return await db.tx(async (q) => {
      const { toDial, now } = await lockStillOurs(q, starting, { ...opts, dialBy: undefined });
      // A worker frozen while the answer waited in its socket may have lost its transaction (the
      // server rolls back one idle for twice the lease), its locks with it, and a cancel may have
      // committed since: this fails then, before the carrier is given anything. A live worker that
      // only waited for the locks goes on.
      if (toDial.length > 0) await q.query("select 1");
      return placeAndRecord(q, telephony, toDial, now, logger, opts, (p) => taken.push(...p));
    });
  } catch (e) {
    // Not recorded: the carrier's calls are hung up, and the reaper counts their attempts. A dial
    // that failed before the carrier was given anything placed nothing: its start is taken back,
    // so that the reaper gives the attempts back (unless it took the jobs over meanwhile).
    await Promise.allSettled(taken.map((p) => telephony.hangup(p.callId)));
    if (taken.length === 0)
      await db.tx((q) => markDialStarted(q, starting.map(claimedCall), false)).catch(() => {});
    throw e;
  }
}

/**
 * Locks the claims' jobs again and sorts them: those no longer ours are closed without a dial, those
 * whose campaign may not dial now (or all, once the worker is stopping) go back to pending, and the
 * rest are returned to dial, with the database's time.
 */
async function lockStillOurs(
  q: Queryable,
  claims: readonly Claim[],
  opts: DialOptions,
): Promise<{ toDial: Claim[]; now: Date }> {
  const { stopping = () => false } = opts;
  const locked = await lockForDial(q, claims.map(claimedCall));
  const { ours } = locked;
  // Every scheduling decision uses database time: the host's clock may step (NTP, a VM resumed).
  const now = locked.now ?? new Date(0);
  const toDial: Claim[] = [];
  const held: Claim[] = [];
  for (const c of claims) {
    const status = ours.get(c.callId);
    if (status !== undefined) (mayDial(status, c.job.test_job) && !stopping() ? toDial : held).push(c);
  }
  await abandonCalls(q, claims.filter((c) => !ours.has(c.callId)).map(claimedCall));
  // Their campaign was paused or archived since the claim, or the worker is stopping: back to
  // pending, attempt given back.
  await closeLockedCalls(
    q,
    held.map((c) => notDialed(c, now)),
  );
  if (toDial.length > 0 && opts.dialBy !== undefined && performance.now() > opts.dialBy)
    throw new DialStalled(toDial.length);
  return { toDial, now };
}

/** Hands calls whose jobs this transaction holds to the carrier, and records the dials. */
async function placeAndRecord(
  q: Queryable,
  telephony: Telephony,
  toDial: readonly Claim[],
  now: Date,
  logger: Logger,
  opts: DialOptions,
  onTaken: (placed: PlacedCall[]) => void = () => {},
): Promise<DialedCall[]> {
  if (toDial.length === 0) return [];
  let placed: PlacedCall[];
  try {
    placed = await telephony.placeCalls(
      toDial.map((c) => ({
        callId: c.callId,
        orgId: c.job.org_id,
        from: c.job.caller_id,
        to: c.job.phone_number,
        // Simulated times count from the Call's StartedAt, the claim's time.
        startedAt: c.claimedAt,
      })),
      { q },
    );
  } catch (e) {
    logger.warn({ err: e, calls: toDial.length }, "carrier refused the calls");
    placed = toDial.map((c) => failedPlacement(c.callId, now));
  }
  onTaken(placed);
  const byId = new Map(placed.map((p) => [p.callId, p]));
  const dialed: DialedCall[] = toDial.map((c) => {
    const p = byId.get(c.callId) ?? failedPlacement(c.callId, now);
    return { claim: c, placed: p, dialedAt: now };
  });
  const dialMark = (d: DialedCall) => ({
    carrierCallId: d.placed.carrierCallId,
    localHour: contactLocalHour(d.claim.job.zones, d.claim.job.schedule.TimeZone, now),
  });
  const live = dialed.filter((d) => !d.placed.ended);
  await markDialed(
    q,
    live.map((d) => ({ ...claimedCall(d.claim), ...dialMark(d) })),
  );
  if (!telephony.placesInTransaction && opts.leaseSeconds !== undefined)
    await extendDialLeases(
      q,
      live.map((d) => claimedCall(d.claim)),
      opts.leaseSeconds,
    );
  await closeLockedCalls(
    q,
    dialed.flatMap((d) =>
      d.placed.ended ? [{ ...closeUnanswered(d, d.placed.ended, now), dialed: dialMark(d) }] : [],
    ),
  );
  return dialed;
}
