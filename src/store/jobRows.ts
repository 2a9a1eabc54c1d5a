import type { FailureReason, JobState } from "../domain/jobStates.ts";

/** A job as the API shows it. */
export interface Job {
  Id: string;
  CampaignId: string;
  PhoneNumber: string | null;
  ExternalId: string | null;
  ContactName: string | null;
  Metadata: Record<string, unknown>;
  Data: Record<string, unknown> | null;
  TestJob: boolean;
  HangupOptOut: boolean | null;
  TimeZone: string | null;
  State: JobState;
  FailureReason: FailureReason | null;
  FailureMessage: string | null;
  Attempts: number;
  Callbacks: number;
  NextCallAt: string | null;
  Result: Record<string, unknown> | null;
  Summary: string | null;
  ObjectiveMet: boolean | null;
  CreatedAt: string;
  UpdatedAt: string;
  EndedAt: string | null;
}

export interface JobRow {
  id: string;
  org_id: string;
  campaign_id: string;
  phone_number: string | null;
  external_id: string | null;
  contact_name: string | null;
  metadata: Record<string, unknown>;
  data: Record<string, unknown> | null;
  test_job: boolean;
  hangup_opt_out: boolean | null;
  time_zone: string | null;
  state: JobState;
  state_before_deletion: JobState | null;
  failure_reason: FailureReason | null;
  failure_message: string | null;
  attempts: number;
  attempts_base: number;
  callbacks: number;
  next_call_at: Date | null;
  result: Record<string, unknown> | null;
  summary: string | null;
  objective_met: boolean | null;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
  fence: number;
  lease_owner: string | null;
  live_call_id: string | null;
  callback_due: boolean;
  due_at: Date;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toJob(r: JobRow): Job {
  return {
    Id: r.id,
    CampaignId: r.campaign_id,
    PhoneNumber: r.phone_number,
    ExternalId: r.external_id,
    ContactName: r.contact_name,
    Metadata: r.metadata,
    Data: r.data,
    TestJob: r.test_job,
    HangupOptOut: r.hangup_opt_out,
    TimeZone: r.time_zone,
    State: r.state,
    FailureReason: r.failure_reason,
    FailureMessage: r.failure_message,
    Attempts: r.attempts,
    Callbacks: r.callbacks,
    NextCallAt: iso(r.next_call_at),
    Result: r.result,
    Summary: r.summary,
    ObjectiveMet: r.objective_met,
    CreatedAt: r.created_at.toISOString(),
    UpdatedAt: r.updated_at.toISOString(),
    EndedAt: iso(r.ended_at),
  };
}

/** Event properties of a job: ids, state and reason only (never PII). */
export const jobEventProps = (r: Pick<JobRow, "state" | "failure_reason">): Record<string, unknown> => ({
  state: r.state,
  ...(r.failure_reason ? { failure_reason: r.failure_reason } : {}),
});
