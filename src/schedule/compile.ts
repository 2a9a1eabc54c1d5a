import { DAY_MS, MINUTE_MS, type Schedule, WEEKDAYS } from "./types.ts";

/** A window as [startMs, endMs) offsets from local midnight. */
export type DayWindow = [number, number];

/** Schedule reduced to what the hot paths need: per-weekday windows and blackout day numbers. */
export interface CompiledSchedule {
  /** Index mon = 0 .. sun = 6; sorted, overlapping/touching windows merged. */
  days: DayWindow[][];
  /** Blackout dates as days since 1970-01-01 (in local-calendar terms). */
  blackout: Set<number>;
  anyWindow: boolean;
  anyTime: boolean;
}

const HHMM = /^(\d{2}):(\d{2})$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "HH:MM" to minutes after midnight; "24:00" only when allowed (End). Null when malformed. */
export function parseHHMM(s: unknown, allow24: boolean): number | null {
  if (typeof s !== "string") return null;
  const m = HHMM.exec(s);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h === 24 && min === 0 && allow24) return 1440;
  if (h > 23 || min > 59) return null;
  return h * 60 + min;
}

/** 'YYYY-MM-DD' to days since 1970-01-01, or null when it is not a real calendar date. */
export function parseDay(s: unknown): number | null {
  if (typeof s !== "string") return null;
  const m = YMD.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return Math.floor(date.getTime() / DAY_MS);
}

function merge(windows: DayWindow[]): DayWindow[] {
  windows.sort((a, b) => a[0] - b[0]);
  const out: DayWindow[] = [];
  for (const w of windows) {
    const last = out[out.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else out.push([w[0], w[1]]);
  }
  return out;
}

/**
 * Invalid parts (bad times, Start >= End, unknown days, bad dates) are skipped rather than thrown:
 * validateSchedule reports them at the API edge, and a dispatcher must not crash on stored data.
 */
export function compileUncached(schedule: Schedule): CompiledSchedule {
  const raw: DayWindow[][] = WEEKDAYS.map(() => []);
  for (const w of Array.isArray(schedule.Windows) ? schedule.Windows : []) {
    const start = parseHHMM(w?.Start, false);
    const end = parseHHMM(w?.End, true);
    if (start === null || end === null || start >= end || !Array.isArray(w.Days)) continue;
    for (const day of w.Days) {
      const i = WEEKDAYS.indexOf(day);
      if (i >= 0) raw[i]!.push([start * MINUTE_MS, end * MINUTE_MS]);
    }
  }
  const days = raw.map(merge);
  const blackout = new Set<number>();
  for (const d of Array.isArray(schedule.BlackoutDates) ? schedule.BlackoutDates : []) {
    const n = parseDay(d);
    if (n !== null) blackout.add(n);
  }
  const anyWindow = days.some((d) => d.length > 0);
  const fullDay = (d: DayWindow[]) => d.length === 1 && d[0]![0] === 0 && d[0]![1] === DAY_MS;
  // Literal rule: all-day on every day and no blackout entries (even past ones) means "any time".
  const anyTime = days.every(fullDay) && blackout.size === 0 && (schedule.BlackoutDates?.length ?? 0) === 0;
  return { days, blackout, anyWindow, anyTime };
}

interface CacheEntry {
  windows: unknown;
  windowCount: number | undefined;
  blackouts: unknown;
  blackoutCount: number | undefined;
  compiled: CompiledSchedule;
}

const cache = new WeakMap<Schedule, CacheEntry>();

/**
 * Cached per Schedule object because a bulk import evaluates the same campaign schedule for up to a
 * million jobs. Replacing or resizing Windows/BlackoutDates invalidates the entry; editing a window's
 * fields in place does not, so treat schedules as immutable once in use.
 */
export function compileSchedule(schedule: Schedule): CompiledSchedule {
  const hit = cache.get(schedule);
  if (
    hit &&
    hit.windows === schedule.Windows &&
    hit.windowCount === schedule.Windows?.length &&
    hit.blackouts === schedule.BlackoutDates &&
    hit.blackoutCount === schedule.BlackoutDates?.length
  ) {
    return hit.compiled;
  }
  const compiled = compileUncached(schedule);
  cache.set(schedule, {
    windows: schedule.Windows,
    windowCount: schedule.Windows?.length,
    blackouts: schedule.BlackoutDates,
    blackoutCount: schedule.BlackoutDates?.length,
    compiled,
  });
  return compiled;
}

/** True when the schedule is open every minute of every day with no blackout dates. */
export function isAnyTime(schedule: Schedule): boolean {
  return compileSchedule(schedule).anyTime;
}
