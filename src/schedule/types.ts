/** Day names as stored in campaign schedules; index order (mon = 0) is used internally. */
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One calling window in the contact's local wall-clock time. End may be "24:00". */
export interface ScheduleWindow {
  Days: Weekday[];
  Start: string;
  End: string;
}

/** A campaign's calling schedule. Windows and BlackoutDates are in the contact's local calendar. */
export interface Schedule {
  /** IANA zone used when the contact's own zone(s) are unknown or unusable. */
  TimeZone: string;
  Windows: ScheduleWindow[];
  /** Whole local days ('YYYY-MM-DD') during which nothing is open. */
  BlackoutDates: string[];
}

/** A validation problem; Path is a JSON pointer relative to the Schedule object. */
export interface ScheduleIssue {
  Path: string;
  Message: string;
}

/** Wall-clock fields of an instant in a zone. */
export interface LocalParts {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: Weekday;
  /** 'YYYY-MM-DD' in the zone's calendar, comparable with BlackoutDates. */
  date: string;
  /** Local time minus UTC, in milliseconds (may include seconds for historical LMT offsets). */
  offsetMs: number;
}

/** Detailed answer of resolveNextOpen, so callers can tell whether the 7-day fallback applied. */
export interface NextOpen {
  at: Date;
  /** The zones whose windows were all open at `at`. */
  zones: string[];
  /** True when the multi-zone intersection was empty for 7 days and Schedule.TimeZone was used. */
  fellBack: boolean;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
