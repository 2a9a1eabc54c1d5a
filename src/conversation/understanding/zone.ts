/**
 * Wall-clock ↔ instant for reading times the contact says, on the schedule's cached offset tables
 * (src/schedule/zone.ts): the dispatcher already keeps them warm for the same zones.
 */
import { DAY_MS, type LocalParts, localParts, offsetAt } from "../../schedule/index.ts";

/** A wall-clock time (month 1–12). */
export type WallClock = Pick<
  LocalParts,
  "year" | "month" | "day" | "hour" | "minute" | "second" | "millisecond"
>;

/** The wall clock in `timeZone` at `instant`. Throws a RangeError for an unknown zone. */
export function wallClockAt(instant: Date, timeZone: string): WallClock {
  return localParts(timeZone, instant);
}

const asUtc = (w: WallClock) =>
  Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);

/** Minutes east of UTC in `timeZone` at `instant` (New York in winter: -300). */
export function offsetMinutesAt(instant: Date, timeZone: string): number {
  return Math.round(offsetAt(timeZone, instant.getTime()) / 60000);
}

/**
 * The instant at which the wall clock in `timeZone` shows `w`, with the zone's offset on that date
 * (not today's), so "Sunday 15:00" after a DST change lands at 15:00 local. A wall-clock time skipped
 * by a DST gap gives the instant an hour later; a repeated one gives its first occurrence.
 */
export function instantOf(w: WallClock, timeZone: string): Date {
  const guess = asUtc(w);
  const before = offsetMinutesAt(new Date(guess - DAY_MS), timeZone);
  const offsets = [
    before,
    offsetMinutesAt(new Date(guess), timeZone),
    offsetMinutesAt(new Date(guess + DAY_MS), timeZone),
  ];
  const valid = offsets.map((o) => guess - o * 60000).filter((t) => t + offsetAt(timeZone, t) === guess);
  // In a DST gap no instant shows `w`: the offset from before the gap moves it forward.
  return new Date(valid.length > 0 ? Math.min(...valid) : guess - before * 60000);
}
