/**
 * The job state machine: the one place that says which transitions are legal. Every use case asks
 * it before changing a job's state, and refuses (409) what it refuses.
 */
export const JOB_STATES = ["pending", "in_progress", "completed", "canceled", "failed", "deleted"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FAILURE_REASONS = [
  "campaign_objective_missed",
  "max_attempts_exceeded",
  "contact_refused",
  "wrong_contact",
  "opted_out",
  "invalid_phone_number",
  "configuration_error",
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export type JobTransition =
  | "dial" // the dispatcher claims a due pending job
  | "resume" // an accepted inbound call takes the job up again
  | "schedule" // the analysis schedules the next call
  | "complete"
  | "fail"
  | "cancel"
  | "retry"
  | "delete_pii";

export function isEnded(state: JobState): boolean {
  switch (state) {
    case "completed":
    case "canceled":
    case "failed":
    case "deleted":
      return true;
    case "pending":
    case "in_progress":
      return false;
  }
}

/** The states a transition may start from. */
const FROM: Record<JobTransition, readonly JobState[]> = {
  dial: ["pending"],
  // lookup modes resume pending, in_progress-free and completed jobs; lookup_failed also failed ones.
  resume: ["pending", "completed", "failed"],
  schedule: ["pending", "in_progress"],
  complete: ["pending", "in_progress"],
  fail: ["pending", "in_progress"],
  cancel: ["pending", "in_progress"],
  retry: ["failed", "canceled"],
  delete_pii: ["pending", "in_progress", "completed", "canceled", "failed", "deleted"],
};

/** The states a transition may start from (bulk statements filter on these). */
export function statesFrom(t: JobTransition): readonly JobState[] {
  return FROM[t];
}

export function canTransition(from: JobState, t: JobTransition): boolean {
  return FROM[t].includes(from);
}

/** The state a transition leads to. */
export function targetState(t: JobTransition): JobState {
  switch (t) {
    case "dial":
    case "resume":
      return "in_progress";
    case "schedule":
    case "retry":
      return "pending";
    case "complete":
      return "completed";
    case "fail":
      return "failed";
    case "cancel":
      return "canceled";
    case "delete_pii":
      return "deleted";
  }
}

export function refusalMessage(from: JobState, t: JobTransition): string {
  switch (t) {
    case "cancel":
      return `The job is ${from}: only pending or in_progress jobs can be canceled.`;
    case "retry":
      return `The job is ${from}: only failed or canceled jobs can be retried.`;
    default:
      return `The job is ${from}: it cannot ${t.replace("_", " ")}.`;
  }
}
