import { type CompiledSchedule, compileSchedule } from "./compile.ts";
import { DAY_MS, type NextOpen, type Schedule } from "./types.ts";
import { type OffsetSegment, offsetAt, offsetSegments, weekdayIndex } from "./zone.ts";

/** How long the all-zones intersection may stay closed before falling back to Schedule.TimeZone. */
export const FALLBACK_AFTER_MS = 7 * DAY_MS;
/**
 * nextOpenTime gives up (returns null) when nothing opens within this many days of `from`. A year plus
 * slack covers yearly schedules with long blackout runs while bounding work for hopeless schedules.
 */
export const HORIZON_DAYS = 400;
const HORIZON_MS = HORIZON_DAYS * DAY_MS;

type Interval = [number, number];

function openInZone(c: CompiledSchedule, zone: string, ms: number): boolean {
  const wall = ms + offsetAt(zone, ms);
  const day = Math.floor(wall / DAY_MS);
  if (c.blackout.has(day)) return false;
  const tod = wall - day * DAY_MS;
  for (const [s, e] of c.days[weekdayIndex(day)]!) {
    if (tod >= s && tod < e) return true;
  }
  return false;
}

/** Open iff the local wall time is inside a window in every zone (no 7-day fallback here). */
export function isOpenAt(schedule: Schedule, zones: readonly string[], at: Date): boolean {
  const c = compileSchedule(schedule);
  if (c.anyTime) return true;
  if (!c.anyWindow) return false;
  const ms = at.getTime();
  if (zones.length === 0) return openInZone(c, schedule.TimeZone, ms);
  for (const zone of zones) {
    if (!openInZone(c, zone, ms)) return false;
  }
  return true;
}

function pushMerged(out: Interval[], a: number, b: number): void {
  const last = out[out.length - 1];
  if (last && a <= last[1]) {
    if (b > last[1]) last[1] = b;
  } else out.push([a, b]);
}

/**
 * Open instants within the given constant-offset segments of one zone, sorted and merged. Working per
 * segment makes DST exact with no special cases: on a spring-forward day the skipped wall times fall
 * outside every segment's wall range, and a repeated fall-back hour appears once in each segment.
 */
function intervalsFromSegments(c: CompiledSchedule, segments: OffsetSegment[]): Interval[] {
  const out: Interval[] = [];
  for (const seg of segments) {
    const lo = seg.start + seg.offset;
    const hi = seg.end + seg.offset;
    for (let day = Math.floor(lo / DAY_MS); day * DAY_MS < hi; day++) {
      if (c.blackout.has(day)) continue;
      const base = day * DAY_MS;
      for (const [s, e] of c.days[weekdayIndex(day)]!) {
        const a = Math.max(base + s, lo);
        const b = Math.min(base + e, hi);
        if (a < b) pushMerged(out, a - seg.offset, b - seg.offset);
      }
    }
  }
  return out;
}

/** Open instants of one zone within [from, to), sorted and merged. */
export function zoneOpenIntervals(c: CompiledSchedule, zone: string, from: number, to: number): Interval[] {
  return intervalsFromSegments(c, offsetSegments(zone, from, to));
}

function intersect(x: Interval[], y: Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i]!;
    const q = y[j]!;
    const a = Math.max(p[0], q[0]);
    const b = Math.min(p[1], q[1]);
    if (a < b) out.push([a, b]);
    if (p[1] < q[1]) i++;
    else j++;
  }
  return out;
}

/**
 * Puts the zones with the largest and smallest current offset first: they are the pair least likely
 * to overlap, so an empty intersection (e.g. the ~40 zones of a toll-free number) shows up after two
 * zones instead of forty. One linear pass, no sorting, because this runs per job.
 */
function extremesFirst(zones: readonly string[], at: number): readonly string[] {
  if (zones.length < 3) return zones;
  let hi = 0;
  let lo = 0;
  let hiOff = Number.NEGATIVE_INFINITY;
  let loOff = Number.POSITIVE_INFINITY;
  for (let i = 0; i < zones.length; i++) {
    const o = offsetAt(zones[i]!, at);
    if (o > hiOff) [hi, hiOff] = [i, o];
    if (o < loOff) [lo, loOff] = [i, o];
  }
  if (hi === lo) return zones;
  return [zones[hi]!, zones[lo]!, ...zones.filter((_, i) => i !== hi && i !== lo)];
}

/** Intersection of all zones' open intervals in [lo, hi); zones with identical offsets are done once. */
function chunkIntersection(
  c: CompiledSchedule,
  zones: readonly string[],
  lo: number,
  hi: number,
): Interval[] {
  let acc: Interval[] | undefined;
  const seen = new Set<string>();
  for (const zone of zones) {
    const segments = offsetSegments(zone, lo, hi);
    if (zones.length > 2) {
      const key = segments.map((s) => `${s.start}/${s.offset}`).join();
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const iv = intervalsFromSegments(c, segments);
    acc = acc === undefined ? iv : intersect(acc, iv);
    if (acc.length === 0) break;
  }
  return acc ?? [];
}

/**
 * Earliest instant in [from, to) open in all zones. Searches a first day, then week-sized chunks, so
 * the common "opens later today" case touches a few intervals and hopeless cases stay bounded.
 */
function earliestOpen(
  c: CompiledSchedule,
  zones: readonly string[],
  from: number,
  to: number,
): number | null {
  const ordered = extremesFirst(zones, from);
  let lo = from;
  let size = DAY_MS;
  while (lo < to) {
    const hi = Math.min(lo + size, to);
    const acc = chunkIntersection(c, ordered, lo, hi);
    if (acc.length > 0) return acc[0]![0];
    lo = hi;
    size = 7 * DAY_MS;
  }
  return null;
}

/** distinctZones' answers by day and zone list: a claim asks for the same numbers over and over. */
const distinctCache = new Map<string, string[]>();
const DISTINCT_CACHE_SIZE = 1_000;

/**
 * The zones that differ, first names kept: duplicates, and names of one zone (Europe/London,
 * Europe/Guernsey and Europe/Isle_of_Man for a UK mobile) whose offsets agree over the horizon from
 * `from`'s day, are a single zone, so they neither intersect nor trigger the 7-day fallback.
 */
function distinctZones(list: readonly string[], from: number): string[] {
  if (list.every((z) => z === list[0])) return [list[0]!];
  const day = Math.floor(from / DAY_MS);
  const key = `${day} ${list.join()}`;
  const known = distinctCache.get(key);
  if (known) return known;
  const seen = new Set<string>();
  const distinct = list.filter((zone) => {
    const offsets = offsetSegments(zone, day * DAY_MS, (day + 1) * DAY_MS + HORIZON_MS)
      .map((s) => `${s.start}/${s.offset}`)
      .join();
    if (seen.has(offsets)) return false;
    seen.add(offsets);
    return true;
  });
  if (distinctCache.size >= DISTINCT_CACHE_SIZE) distinctCache.clear();
  distinctCache.set(key, distinct);
  return distinct;
}

/**
 * nextOpenTime with details. Several zones: the earliest instant open in all of them within 7 days of
 * `from`; if there is none, the earliest instant open in Schedule.TimeZone alone (fellBack = true).
 * One zone: searched up to HORIZON_DAYS. Null when nothing opens within the horizon.
 */
export function resolveNextOpen(schedule: Schedule, zones: readonly string[], from: Date): NextOpen | null {
  const fromMs = from.getTime();
  if (Number.isNaN(fromMs)) throw new RangeError("nextOpenTime: `from` is an invalid Date");
  const c = compileSchedule(schedule);
  // An empty list means "contact zone unknown", which the domain resolves to Schedule.TimeZone.
  const list = zones.length === 0 ? [schedule.TimeZone] : zones;
  if (!c.anyWindow) return null;
  if (c.anyTime) return { at: new Date(fromMs), zones: [...list], fellBack: false };
  const distinct = distinctZones(list, fromMs);
  if (distinct.length > 1) {
    const t = earliestOpen(c, distinct, fromMs, fromMs + FALLBACK_AFTER_MS);
    if (t !== null) return { at: new Date(t), zones: distinct, fellBack: false };
    const only = [schedule.TimeZone];
    const t2 = earliestOpen(c, only, fromMs, fromMs + HORIZON_MS);
    return t2 === null ? null : { at: new Date(t2), zones: only, fellBack: true };
  }
  const single = [distinct[0]!];
  const t = earliestOpen(c, single, fromMs, fromMs + HORIZON_MS);
  return t === null ? null : { at: new Date(t), zones: single, fellBack: false };
}

/** Earliest instant >= from (ms precision) that is open; see resolveNextOpen for the rules. */
export function nextOpenTime(schedule: Schedule, zones: readonly string[], from: Date): Date | null {
  return resolveNextOpen(schedule, zones, from)?.at ?? null;
}
