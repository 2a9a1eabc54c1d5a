/** Time-zone arithmetic on IANA zones through Intl: offsets and wall-clock ↔ instant. */

/** A wall-clock time (month 1–12). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    // Throws a RangeError for an unknown zone.
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(timeZone, f);
  }
  return f;
}

/**
 * Offsets (ms) by zone and UTC hour, kept only when the offset is the same at the hour's first and
 * last millisecond (so no change of offset falls inside it: changes are months apart) and a whole
 * number of minutes; null: ask Intl for every instant of that hour.
 */
const offsets = new Map<string, number | null>();
const HOUR_MS = 3_600_000;

const intlOffsetMs = (ms: number, timeZone: string) => asUtc(wallClockIntl(new Date(ms), timeZone)) - ms;

/** The wall clock in `timeZone` at `instant`. */
export function wallClockAt(instant: Date, timeZone: string): WallClock {
  const ms = instant.getTime();
  const hour = Math.floor(ms / HOUR_MS);
  const key = `${timeZone}|${hour}`;
  let off = offsets.get(key);
  if (off === undefined) {
    const a = intlOffsetMs(hour * HOUR_MS, timeZone);
    const b = intlOffsetMs(hour * HOUR_MS + HOUR_MS - 1, timeZone);
    off = a === b && a % 60_000 === 0 ? a : null;
    if (offsets.size > 50_000) offsets.clear();
    offsets.set(key, off);
  }
  if (off === null) return wallClockIntl(instant, timeZone);
  const d = new Date(ms + off);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

function wallClockIntl(instant: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(instant)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: instant.getUTCMilliseconds(),
  };
}

const asUtc = (w: WallClock) =>
  Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);

/** Minutes east of UTC in `timeZone` at `instant` (New York in winter: -300). */
export function offsetMinutesAt(instant: Date, timeZone: string): number {
  return Math.round((asUtc(wallClockAt(instant, timeZone)) - instant.getTime()) / 60000);
}

/**
 * The instant at which the wall clock in `timeZone` shows `w`, with the zone's offset on that date
 * (not today's), so "Sunday 15:00" after a DST change lands at 15:00 local. A wall-clock time skipped
 * by a DST gap gives the instant an hour later; a repeated one gives its first occurrence.
 */
export function instantOf(w: WallClock, timeZone: string): Date {
  const guess = asUtc(w);
  const DAY = 86_400_000;
  const before = offsetMinutesAt(new Date(guess - DAY), timeZone);
  const offsets = [
    before,
    offsetMinutesAt(new Date(guess), timeZone),
    offsetMinutesAt(new Date(guess + DAY), timeZone),
  ];
  const valid = offsets
    .map((o) => guess - o * 60000)
    .filter((t) => asUtc(wallClockAt(new Date(t), timeZone)) === guess);
  // In a DST gap no instant shows `w`: the offset from before the gap moves it forward.
  return new Date(valid.length > 0 ? Math.min(...valid) : guess - before * 60000);
}
