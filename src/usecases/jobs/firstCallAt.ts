import type { Schedule } from "../../domain/campaign.ts";
import { contactZones, nextOpenTime } from "../../schedule/index.ts";

/**
 * When a new (or retried) job may first be dialed: test jobs at once, others at the first open
 * moment of the contact's calling window from `now` (database time). Null when the schedule never opens.
 */
export function firstCallAt(
  schedule: Schedule,
  job: { TestJob: boolean; TimeZone: string | null; PhoneNumber: string | null },
  now: Date,
): Date | null {
  if (job.TestJob) return now;
  const zones = contactZones({
    jobTimeZone: job.TimeZone,
    phoneNumber: job.PhoneNumber,
    scheduleTimeZone: schedule.TimeZone,
  });
  return nextOpenTime(schedule, zones, now);
}
