import os from "node:os";
import { newId } from "../ids/index.ts";
import type { Logger } from "../logging/index.ts";
import type { DispatchMetrics } from "../metrics/index.ts";
import { PollLoop } from "../pollLoop.ts";
import { loadPhoneZones } from "../schedule/index.ts";
import { markAnswered } from "../store/dispatch/dial.ts";
import {
  callsToHangUp,
  markWorkerAlive,
  registerWorker,
  renewLeases,
  unregisterWorker,
} from "../store/dispatch/reap.ts";
import { type Db, dbNow } from "../store/index.ts";
import type { Telephony } from "../telephony/port.ts";
import type { AnsweredCallHandler } from "./answered.ts";
import { claimDueJobs } from "./claim.ts";
import { CallCloser } from "./closer.ts";
import { type DialedCall, DialStalled, dialClaims } from "./dial.ts";
import { handBackLeases, reapExpiredLeases } from "./reaper.ts";
import { closeUnanswered, UNANSWERED_STATUS } from "./unanswered.ts";

export interface DispatcherOptions {
  /** Jobs claimed per transaction. */
  batchSize: number;
  /** Calls this worker keeps in flight at most (claimed and not yet closed). */
  maxInFlight: number;
  leaseSeconds: number;
  /** How often an idle worker looks for due jobs when no notification wakes it. */
  pollMs: number;
  orgMaxConcurrentCalls: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  batchSize: 100,
  maxInFlight: 1000,
  leaseSeconds: 30,
  pollMs: 500,
  orgMaxConcurrentCalls: 100,
};

/** Channels: new due jobs wake idle workers; live calls to end (cancel, opt-out, PII deletion). */
export const DUE_CHANNEL = "cobbery_due";
export const HANGUP_CHANNEL = "cobbery_hangup";
/** How long a stop waits for the conversations of handed-back calls to end. */
const HAND_BACK_SETTLE_MS = 2000;

/**
 * A dispatcher worker: claims due jobs, dials them, follows each call to its end, renews its leases
 * and recovers those of dead workers. Any number of workers may run against one PostgreSQL.
 */
export class Dispatcher {
  readonly id = newId("wrk");
  private readonly closer: CallCloser;
  private inFlight = 0;
  /** One claim per round; sleeps pollMs when there is nothing to claim or no room. */
  private readonly loop = new PollLoop(() => this.claimRound());
  private timers: NodeJS.Timeout[] = [];
  private unlisten: Array<() => Promise<void>> = [];
  /** The jobs this worker is still working on (job id → fencing token): only their leases are renewed. */
  private readonly held = new Map<string, number>();
  /** When a stop under way stops waiting for live calls (Date.now() milliseconds). */
  private graceEnds = Number.POSITIVE_INFINITY;

  constructor(
    private readonly deps: {
      db: Db;
      telephony: Telephony;
      logger: Logger;
      onAnswered: AnsweredCallHandler;
      /** Ends a live call this process runs (the conversation), before the carrier hangs up. */
      onHangup?: (callId: string) => void;
      /** The calls whose conversation this process runs (inbound ones too), for missed hang-ups. */
      liveCalls?: () => readonly string[];
      /** Counts calls placed, their endings and the dial lag (GET /metrics). */
      metrics?: DispatchMetrics;
    },
    private readonly opts: DispatcherOptions = DEFAULT_DISPATCHER_OPTIONS,
  ) {
    this.closer = new CallCloser(deps.db);
  }

  async start(): Promise<void> {
    const { db, logger } = this.deps;
    await registerWorker(db, this.id, process.pid, os.hostname());
    // The contacts' zones come from a data set of a few MB: read now, not by the first claim.
    loadPhoneZones();
    // A listening session lost (the database restarted) is reopened; the notices sent meanwhile
    // are made up for: due jobs by a claim at once, hang-ups by a look at the calls held.
    const lost = (channel: string) => () =>
      logger.warn({ worker: this.id, channel }, "lost the database's notices: opening the session again");
    const regained = (channel: string) =>
      logger.info({ worker: this.id, channel }, "receiving the database's notices again");
    this.unlisten.push(
      await db.listen(DUE_CHANNEL, () => this.nudge(), {
        onLost: lost(DUE_CHANNEL),
        onGap: () => {
          regained(DUE_CHANNEL);
          this.nudge();
        },
      }),
    );
    this.unlisten.push(
      await db.listen(HANGUP_CHANNEL, (callId) => this.hangUp(callId), {
        onLost: lost(HANGUP_CHANNEL),
        onGap: () => {
          regained(HANGUP_CHANNEL);
          void this.hangUpMissed();
        },
      }),
    );
    const leaseMs = this.opts.leaseSeconds * 1000;
    this.timers.push(
      setInterval(
        () =>
          void renewLeases(db, this.id, this.opts.leaseSeconds, [...this.held])
            .then(() => markWorkerAlive(db, this.id))
            // Also each renewal: a session can die without the client noticing for a while.
            .then(() => this.hangUpMissed())
            .catch((e) => logger.warn({ err: e }, "lease renewal failed")),
        leaseMs / 3,
      ),
      setInterval(() => void this.reap(), leaseMs / 2 + Math.random() * 1000),
    );
    this.loop.start();
    logger.info({ worker: this.id }, "dispatcher started");
  }

  private hangUp(callId: string): void {
    this.deps.onHangup?.(callId);
    void this.deps.telephony.hangup(callId).catch(() => {});
  }

  /** Hangs up the calls held or run here whose job left in_progress, in case their notice was missed. */
  private async hangUpMissed(): Promise<void> {
    try {
      const calls = await callsToHangUp(this.deps.db, [...this.held], this.deps.liveCalls?.() ?? []);
      for (const callId of calls) this.hangUp(callId);
    } catch (e) {
      this.deps.logger.warn({ err: e, worker: this.id }, "looking for missed hang-ups failed");
    }
  }

  /** Wakes an idle worker at once (a job was created or a call ended). */
  nudge(): void {
    this.loop.wake();
  }

  private async reap(): Promise<void> {
    try {
      const n = await reapExpiredLeases(this.deps.db);
      if (n > 0) {
        this.deps.logger.warn({ worker: this.id, jobs: n }, "recovered jobs of a lost worker");
        this.nudge();
      }
    } catch (e) {
      this.deps.logger.warn({ err: e }, "reaper failed");
    }
  }

  /** One claim: the milliseconds to wait before the next, or null to claim again at once. */
  private async claimRound(): Promise<number | null> {
    const { db, logger } = this.deps;
    const room = this.opts.maxInFlight - this.inFlight;
    if (room <= 0) return this.opts.pollMs;
    try {
      const claimedAt = performance.now();
      const claims = await claimDueJobs(db, {
        workerId: this.id,
        limit: Math.min(this.opts.batchSize, room),
        leaseSeconds: this.opts.leaseSeconds,
        orgMaxConcurrentCalls: this.opts.orgMaxConcurrentCalls,
      });
      if (claims.length === 0) return this.opts.pollMs;
      this.inFlight += claims.length;
      for (const c of claims) this.held.set(c.job.id, c.fence);
      // A stop that began during the claim dials none of it: the claims go back to pending.
      const dialed = await dialClaims(db, this.deps.telephony, claims, logger, {
        stopping: () => this.loop.stopping,
        // Half the lease after the claim began: the leases are still ours with room to spare.
        dialBy: claimedAt + (this.opts.leaseSeconds * 1000) / 2,
        leaseSeconds: this.opts.leaseSeconds,
      }).catch((e) => {
        // The leases expire and the reaper hands the claims back: nothing is dialed twice.
        if (e instanceof DialStalled) logger.warn({ worker: this.id, claims: claims.length }, e.message);
        else logger.error({ err: e, worker: this.id }, "dialing failed");
        return [] as DialedCall[];
      });
      this.inFlight -= claims.length - dialed.length;
      const dialedIds = new Set(dialed.map((d) => d.claim.job.id));
      for (const c of claims) if (!dialedIds.has(c.job.id)) this.unhold(c.job.id, c.fence);
      for (const d of dialed) {
        this.deps.metrics?.callPlaced((d.dialedAt.getTime() - d.claim.job.next_call_at.getTime()) / 1000);
        if (d.placed.ended) {
          const { reason } = d.placed.ended;
          this.deps.metrics?.callEnded(UNANSWERED_STATUS[reason], reason);
          this.release(d);
        } else void this.follow(d);
      }
      return null;
    } catch (e) {
      logger.error({ err: e, worker: this.id }, "claim failed");
      return 1000;
    }
  }

  /** Follows one dialed call to its end. */
  private async follow(d: DialedCall): Promise<void> {
    try {
      const outcome = await d.placed.outcome();
      if (outcome.kind === "unanswered")
        await this.closer.close(closeUnanswered(d, outcome, await dbNow(this.deps.db)));
      else {
        await markAnswered(this.deps.db, {
          callId: d.claim.callId,
          fence: d.claim.fence,
          answeredBy: outcome.by,
          answeredAt: outcome.answeredAt,
        });
        await this.deps.onAnswered(d, outcome, this.closer);
      }
      this.deps.metrics?.callFinished(d.claim.callId);
    } catch (e) {
      // Left to the lease: the reaper closes the call as worker_lost.
      this.deps.logger.error({ err: e, call: d.claim.callId }, "following a call failed");
    } finally {
      // A call that failed is no longer renewed: its lease expires and the reaper recovers it.
      this.release(d);
    }
  }

  /** The call is no longer this worker's: room for another. */
  private release(d: DialedCall): void {
    this.unhold(d.claim.job.id, d.claim.fence);
    this.inFlight--;
    if (this.inFlight < this.opts.maxInFlight) this.nudge();
  }

  /**
   * Stops renewing a job's lease, unless this worker claimed the job again since (a newer fencing
   * token): a call that lost its lease while this worker was paused ends after the job's next claim.
   */
  private unhold(jobId: string, fence: number): void {
    if (this.held.get(jobId) === fence) this.held.delete(jobId);
  }

  /**
   * Graceful stop: claim nothing more, let live calls finish (up to graceMs, or until hurry()), write
   * what is pending, then hand back the calls still live: hung up, their jobs recovered as a lost
   * worker's would be (retried if dialed, else pending as they were), without waiting for a lease
   * to expire.
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.loop.stopping) return;
    this.graceEnds = Date.now() + graceMs;
    await this.loop.stop();
    await this.settle(() => this.graceEnds);
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unlisten) await u().catch(() => {});
    // After unlistening: the hand-back's own hang-up notices are not for this worker to act on twice.
    if (this.inFlight > 0) {
      await this.handBack();
      // The conversations of the calls just hung up end now: their last writes (fenced: they change
      // nothing) are let through before the caller closes the database under them.
      const until = Date.now() + HAND_BACK_SETTLE_MS;
      await this.settle(() => until);
    }
    await unregisterWorker(this.deps.db, this.id).catch(() => {});
    this.deps.logger.info({ worker: this.id, leftInFlight: this.inFlight }, "dispatcher stopped");
  }

  /**
   * Waits for the calls in flight to end, until the time `until` gives (read as it goes: hurry()
   * moves the grace's end), then writes what is pending.
   */
  private async settle(until: () => number): Promise<void> {
    while (this.inFlight > 0 && Date.now() < until()) await new Promise((r) => setTimeout(r, 20));
    await this.closer.drain();
  }

  /** Ends the grace of a stop under way: live calls are handed back now (a second SIGTERM). */
  hurry(): void {
    this.graceEnds = 0;
  }

  private async handBack(): Promise<void> {
    const { db, logger, telephony, onHangup } = this.deps;
    try {
      const calls = await handBackLeases(db, this.id);
      for (const callId of calls) {
        onHangup?.(callId);
        void telephony.hangup(callId).catch(() => {});
      }
      logger.warn({ worker: this.id, calls: calls.length }, "handed back live calls at shutdown");
    } catch (e) {
      // Left to the leases: another worker's reaper recovers them.
      logger.error({ err: e, worker: this.id }, "handing back live calls failed");
    }
  }
}
