import { FAILURE_REASONS, type FailureReason, JOB_STATES, type JobState } from "../domain/jobStates.ts";
import type { CampaignCounts } from "../store/index.ts";

/** GET /v1/campaigns/{Id}/analytics. Test jobs and their calls are left out. */
export interface CampaignAnalytics {
  Jobs: {
    Total: number;
    /** Every state, 0 where none. A deleted job counts under the state it had before deletion. */
    ByState: Record<JobState, number>;
    /** Failed jobs by reason: every reason, 0 where none. */
    ByFailureReason: Record<FailureReason, number>;
    /** Jobs whose objective was met / jobs judged (met or not met); null when none was judged. */
    ObjectiveMetRate: number | null;
  };
  Calls: {
    /** Calls placed: outbound calls handed to the carrier and accepted inbound calls. */
    Total: number;
    /** Calls a human answered. */
    Answered: number;
    /** Answered / Total; 0 when no call. */
    AnswerRate: number;
    /** Mean DurationSeconds of connected (answered by anyone) ended calls; 0 when none. */
    AverageDurationSeconds: number;
    /** "0".."23": calls by the contact's local hour when they started. */
    ByLocalHour: Record<string, number>;
    /** "1".."n": outbound calls by attempt number (inbound calls make no attempt). */
    ByAttempt: Record<string, number>;
  };
}

export const HOURS = Array.from({ length: 24 }, (_, h) => String(h));

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

const isState = (s: string): s is JobState => (JOB_STATES as readonly string[]).includes(s);
const isReason = (s: string | null): s is FailureReason =>
  s !== null && (FAILURE_REASONS as readonly string[]).includes(s);

/** The response, from the summed counters (or the same rows counted directly). */
export function toCampaignAnalytics(counts: CampaignCounts): CampaignAnalytics {
  const byState = zeros(JOB_STATES);
  const byReason = zeros(FAILURE_REASONS);
  let total = 0;
  let met = 0;
  let judged = 0;
  for (const r of counts.jobs) {
    total += r.jobs;
    if (isState(r.state)) byState[r.state] += r.jobs;
    if (r.state === "failed" && isReason(r.failure_reason)) byReason[r.failure_reason] += r.jobs;
    if (r.objective_met !== null) judged += r.jobs;
    if (r.objective_met === true) met += r.jobs;
  }

  const byHour = zeros(HOURS);
  const byAttempt: Record<string, number> = {};
  let maxAttempt = 0;
  let calls = 0;
  let answered = 0;
  let connected = 0;
  let duration = 0;
  for (const r of counts.calls) {
    calls += r.calls;
    answered += r.answered;
    connected += r.connected;
    duration += r.duration_seconds;
    const hour = r.local_hour === null ? undefined : HOURS[r.local_hour];
    if (hour !== undefined) byHour[hour] = (byHour[hour] ?? 0) + r.calls;
    if (r.attempt !== null && r.attempt >= 1) {
      byAttempt[String(r.attempt)] = (byAttempt[String(r.attempt)] ?? 0) + r.calls;
      if (r.calls !== 0) maxAttempt = Math.max(maxAttempt, r.attempt);
    }
  }
  // Attempts 1..highest, each present (0 where none), in order.
  const attempts: Record<string, number> = {};
  for (let a = 1; a <= maxAttempt; a++) attempts[String(a)] = byAttempt[String(a)] ?? 0;

  return {
    Jobs: {
      Total: total,
      ByState: byState,
      ByFailureReason: byReason,
      ObjectiveMetRate: judged > 0 ? met / judged : null,
    },
    Calls: {
      Total: calls,
      Answered: answered,
      AnswerRate: calls > 0 ? answered / calls : 0,
      AverageDurationSeconds: connected > 0 ? duration / connected : 0,
      ByLocalHour: byHour,
      ByAttempt: attempts,
    },
  };
}
