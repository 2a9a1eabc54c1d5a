import { jobZones, nextOpenTime } from "../schedule/index.ts";
import type { JobDecision } from "../store/dispatch/finish.ts";
import type { Schedule } from "./campaign.ts";

export interface AttemptedJob {
  test_job: boolean;
  /** Outbound calls placed so far, this one included. */
  attempts: number;
  attempts_base: number;
  time_zone: string | null;
  phone_number: string | null;
}

/** Why the attempt did not finish the job. */
export type RetryCause =
  | "no_answer"
  | "busy"
  | "voicemail"
  | "carrier_failed"
  | "worker_lost"
  | "unfinished"
  /** The contact asked to be called back once more than MaxCallbacks allows. */
  | "callbacks_used";

const CAUSE_TEXT: Record<RetryCause, string> = {
  no_answer: "nobody answered",
  busy: "the line was busy",
  voicemail: "it reached voicemail",
  carrier_failed: "the carrier failed to connect it",
  worker_lost: "the worker handling it stopped",
  unfinished: "the call was cut short before the conversation finished",
  callbacks_used: "the contact asked to be called back again, past the campaign's MaxCallbacks",
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * How many attempts the job used: since its last retry (which gives MaxAttempts more), with the
 * total when they differ, so that the message agrees with the job's Attempts.
 */
export function attemptsUsedText(job: AttemptedJob, schedule: Schedule): string {
  const used = job.attempts - job.attempts_base;
  const since = job.attempts_base > 0 ? ` since the job was last retried (${job.attempts} in all)` : "";
  const callbacks = used > schedule.MaxAttempts ? ", call-backs the contact asked for included" : "";
  return `${plural(used, "attempt")} placed${since}${callbacks}; MaxAttempts is ${schedule.MaxAttempts}`;
}

/**
 * After an unanswered or unfinished attempt: retried after RetryDelaySeconds (moved into the next
 * open window; none: NextCallAt null) until MaxAttempts calls were placed, then
 * failed/max_attempts_exceeded. Test jobs are never retried. `now` is database time.
 */
export function retryOrFail(
  job: AttemptedJob,
  schedule: Schedule,
  cause: RetryCause,
  now: Date,
): JobDecision {
  const used = job.attempts - job.attempts_base;
  if (job.test_job) {
    return {
      kind: "fail",
      reason: "max_attempts_exceeded",
      message: `Test jobs are never retried, and ${CAUSE_TEXT[cause]}.`,
    };
  }
  if (used >= schedule.MaxAttempts) {
    return {
      kind: "fail",
      reason: "max_attempts_exceeded",
      message: `${attemptsUsedText(job, schedule)}. On the last one ${CAUSE_TEXT[cause]}.`,
    };
  }
  const due = new Date(now.getTime() + schedule.RetryDelaySeconds * 1000);
  // With no open window (NextCallAt null) the job waits, attempts left, until the schedule changes.
  return { kind: "retry", at: nextOpenTime(schedule, jobZones(job, schedule), due), due };
}

/**
 * A claim that was never dialed (its worker was lost, or its campaign paused before the dial) goes
 * back to pending as it was, a call-back it was for still due: next called now if the contact's
 * window is open (test jobs: now), else at its next opening.
 */
export const requeue = (
  job: { test_job: boolean },
  schedule: Schedule,
  zones: readonly string[],
  now: Date,
): JobDecision => ({ kind: "requeue", at: job.test_job ? now : nextOpenTime(schedule, zones, now) });

/** The attempt may be placed: attempts left, or a call-back the contact asked for. */
export const hasAttemptLeft = (job: AttemptedJob & { callback_due: boolean }, schedule: Schedule): boolean =>
  job.test_job || job.callback_due || job.attempts - job.attempts_base < schedule.MaxAttempts;

/** How a waiting job with no attempt left ends (it came due, or MaxAttempts was lowered). */
export const noAttemptLeft = (job: AttemptedJob, schedule: Schedule) => ({
  reason: "max_attempts_exceeded",
  message: `No attempt is left: ${attemptsUsedText(job, schedule)}.`,
});
