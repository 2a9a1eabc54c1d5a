import { requeue, retryOrFail } from "../domain/outcomes.ts";
import { contactLocalHour, jobZones } from "../schedule/index.ts";
import { type CallClose, closeCalls } from "../store/dispatch/finish.ts";
import { type LostJob, releaseLeases, takeOverLeases } from "../store/dispatch/reap.ts";
import { type Db, dbNow, notifyHangups } from "../store/index.ts";

/**
 * Whether a lost job's call may have been dialed: recorded as dialed, or its dial to a carrier
 * outside the database had begun (the worker may have been lost before it recorded the answer).
 * Such an attempt counts and is never dialed again.
 */
const mayBeDialed = (j: LostJob): boolean => j.dialed_at !== null || j.dial_started_at !== null;

/**
 * Recovers the attempts of workers that stopped (crash, SIGKILL, a pause past the lease): the live
 * call is closed as worker_lost and never dialed again; an attempt that was dialed counts and is
 * retried or failed like an unanswered one; one that was not dialed goes back to pending as it was.
 * The worker holding a dialed call is asked to hang it up: one that was only paused may still be on
 * the line with the contact.
 */
export async function reapExpiredLeases(db: Db, limit = 500): Promise<number> {
  return (await recoverLeases(db, limit)).length;
}

/**
 * A stopping worker's own live calls, which did not end within its grace: recovered as a lost
 * worker's would be (the worker then hangs them up). Returns the ids of the calls that were dialed.
 */
export async function handBackLeases(db: Db, workerId: string): Promise<string[]> {
  const dialed: string[] = [];
  for (;;) {
    const lost = await recoverLeases(db, 500, workerId);
    dialed.push(...lost.flatMap((j) => (j.call_id !== null && mayBeDialed(j) ? [j.call_id] : [])));
    if (lost.length < 500) return dialed;
  }
}

async function recoverLeases(db: Db, limit: number, owner?: string): Promise<LostJob[]> {
  return db.tx(async (q) => {
    const lost = await takeOverLeases(q, limit, owner);
    if (lost.length === 0) return lost;
    const now = await dbNow(q);
    const closes: CallClose[] = [];
    const release: Array<{ id: string; fence: number }> = [];
    for (const j of lost) {
      if (j.call_id === null) {
        release.push({ id: j.id, fence: j.fence });
        continue;
      }
      const dialed = mayBeDialed(j);
      const connectedMs = j.answered_at ? Math.max(0, now.getTime() - j.answered_at.getTime()) : 0;
      closes.push({
        callId: j.call_id,
        jobId: j.id,
        fence: j.fence,
        status: dialed ? "failed" : "canceled",
        endReason: "worker_lost",
        answeredBy: j.answered_by,
        ringingAt: null,
        answeredAt: j.answered_at,
        endedAt: now,
        durationSeconds: Math.round(connectedMs / 1000),
        billedSeconds: Math.ceil(connectedMs / 1000),
        undialed: j.direction === "outbound" && !dialed,
        // A dial that began but was never recorded counts as a call placed (usage, analytics,
        // call.started), at the time it began, like the attempt it counts as.
        ...(j.dialed_at === null && j.dial_started_at !== null
          ? {
              dialed: {
                carrierCallId: "",
                localHour: contactLocalHour(jobZones(j, j.schedule), j.schedule.TimeZone, j.dial_started_at),
              },
            }
          : {}),
        // Read a moment ago, without a lock: the close checks it under one.
        scheduleVersion: j.schedule_version,
        decision:
          j.state !== "in_progress"
            ? { kind: "none" }
            : j.direction === "inbound"
              ? { kind: "restore" }
              : dialed
                ? retryOrFail(j, j.schedule, "worker_lost", now)
                : requeue(j, j.schedule, jobZones(j, j.schedule), now),
      });
    }
    await closeCalls(q, closes);
    await releaseLeases(q, release);
    await notifyHangups(
      q,
      lost.map((j) => (mayBeDialed(j) ? j.call_id : null)),
    );
    return lost;
  });
}
