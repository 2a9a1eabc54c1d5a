/**
 * Calling-window evaluation for campaigns: which zones govern a contact, whether an instant is open,
 * and the next open instant, with exact DST handling via cached Intl-derived offset tables.
 */
import { nextOpenTime } from "./open.ts";
import { jobZones } from "./phone.ts";
import type { Schedule } from "./types.ts";

export { compileSchedule, isAnyTime } from "./compile.ts";
export { FALLBACK_AFTER_MS, HORIZON_DAYS, isOpenAt, nextOpenTime, resolveNextOpen } from "./open.ts";
export {
  contactLocalHour,
  contactZones,
  jobZones,
  loadPhoneZones,
  primaryZone,
  zonesForPhoneNumber,
} from "./phone.ts";
export type {
  LocalParts,
  NextOpen,
  Schedule,
  ScheduleIssue,
  ScheduleWindow,
  Weekday,
} from "./types.ts";
export { DAY_MS, WEEKDAYS } from "./types.ts";
export { validateSchedule } from "./validate.ts";

export { isValidTimeZone, localIsoString, localParts, offsetAt, zoneNameCase } from "./zone.ts";

/** The later of two instants. */
export const laterOf = (a: Date, b: Date): Date => (a.getTime() >= b.getTime() ? a : b);

/**
 * A waiting job's NextCallAt under `schedule`: the first open instant, in its contact's zones, from
 * when it is due (or from now, once that has passed); null when no window opens.
 */
export const waitingJobNextCall = (
  job: { due_at: Date; time_zone: string | null; phone_number: string | null },
  schedule: Schedule,
  now: Date,
): Date | null => nextOpenTime(schedule, jobZones(job, schedule), laterOf(job.due_at, now));
