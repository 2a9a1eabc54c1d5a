import { retryOrFail } from "../domain/outcomes.ts";
import type { CallClose } from "../store/dispatch/finish.ts";
import type { UnansweredOutcome, UnansweredReason } from "../telephony/port.ts";
import type { DialedCall } from "./dial.ts";

/** The Status of a call that ended unanswered for this reason. */
export const UNANSWERED_STATUS: Record<UnansweredReason, string> = {
  no_answer: "no_answer",
  busy: "busy",
  carrier_failed: "failed",
  invalid_number: "failed",
};

/**
 * The ending of an unanswered attempt: a number that does not exist fails the job at once; no
 * answer, busy and carrier failures are retried until MaxAttempts. Unanswered calls bill nothing.
 */
export function closeUnanswered(d: DialedCall, o: UnansweredOutcome, now: Date): CallClose {
  const job = { ...d.claim.job, attempts: d.claim.job.attempts + 1 };
  const decision =
    o.reason === "invalid_number"
      ? {
          kind: "fail" as const,
          reason: "invalid_phone_number",
          message: "The carrier reports that the number does not exist.",
        }
      : retryOrFail(job, d.claim.job.schedule, o.reason, now);
  return {
    callId: d.claim.callId,
    jobId: d.claim.job.id,
    fence: d.claim.fence,
    status: UNANSWERED_STATUS[o.reason],
    endReason: o.reason,
    answeredBy: null,
    ringingAt: o.ringingAt,
    answeredAt: null,
    endedAt: o.endedAt,
    durationSeconds: 0,
    billedSeconds: 0,
    decision,
    scheduleVersion: d.claim.job.schedule_version,
  };
}
