import { DAY_MS, type LocalParts, WEEKDAYS, type Weekday } from "./types.ts";

/**
 * Time-zone arithmetic on top of Intl.
 *
 * Intl.DateTimeFormat#formatToParts costs microseconds per call, far too slow to call per job in a
 * 1,000,000-job import. So for each zone and UTC year we derive, once, the list of instants at which the
 * UTC offset changes (DST and other rule changes). After that, converting an instant to wall-clock time
 * is a few comparisons and additions, with no Intl call at all.
 */

interface YearTable {
  start: number;
  end: number;
  /** Instants (ms) at which a constant-offset run begins; starts[0] === start. */
  starts: number[];
  offsets: number[];
}

interface ZoneState {
  fmt: Intl.DateTimeFormat;
  /** The name as IANA spells it, when the names given differ from it only in case; else null (a link). */
  ianaCase: string | null;
  years: Map<number, YearTable>;
  last: YearTable | undefined;
}

const zones = new Map<string, ZoneState>();
/**
 * Each valid zone's state once, by its name in lower case (Intl reads names regardless of case):
 * spellings that differ only in case share it, and emptying `zones` keeps its tables.
 */
const byLowerCase = new Map<string, ZoneState>();
const invalid = new Set<string>();
/**
 * The caches here are keyed by names as callers give them (API input). IANA has about 600 names
 * with links, so only junk or letter-case variants fill a cache past this: it is then emptied
 * rather than left to grow with every distinct string a client sends.
 */
const MAX_CACHED_NAMES = 4096;

/** Empties a cache of given names that is full, before one more goes in. */
function makeRoom(cache: Map<string, unknown> | Set<string>): void {
  if (cache.size >= MAX_CACHED_NAMES) cache.clear();
}

/** How many names the caches hold (for tests of their bound). */
export const cachedZoneNames = (): number => zones.size + byLowerCase.size + invalid.size;
/** Bounds memory if callers probe instants across centuries; tables are cheap to rebuild. */
const MAX_YEARS_PER_ZONE = 64;

function zoneState(zone: string): ZoneState {
  const known = zones.get(zone);
  if (known) return known;
  if (!isValidTimeZone(zone)) throw new RangeError(`Unknown IANA time zone: ${JSON.stringify(zone)}`);
  return zones.get(zone)!;
}

/**
 * True when Intl knows the zone name. Offset strings such as "+05:00" are rejected even where the
 * runtime accepts them, because they carry no DST rules and are not IANA names.
 */
export function isValidTimeZone(zone: unknown): zone is string {
  if (typeof zone !== "string" || zone === "") return false;
  if (zones.has(zone)) return true;
  if (invalid.has(zone) || /^[+-]/.test(zone)) return false;
  const lower = zone.toLowerCase();
  const shared = byLowerCase.get(lower);
  if (shared) {
    makeRoom(zones);
    zones.set(zone, shared);
    return true;
  }
  try {
    // h23 avoids the "24:00" hour some ICU versions produce with hour12: false.
    const fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    const resolved = fmt.resolvedOptions().timeZone;
    const ianaCase = resolved.toLowerCase() === lower ? resolved : null;
    const state: ZoneState = { fmt, ianaCase, years: new Map(), last: undefined };
    byLowerCase.set(lower, state);
    makeRoom(zones);
    zones.set(zone, state);
    return true;
  } catch {
    makeRoom(invalid);
    invalid.add(zone);
    return false;
  }
}

/**
 * A valid zone as IANA spells it when only the letter case differs ("america/new_york" is
 * "America/New_York"), so that one zone is stored, shown and grouped under one name; otherwise as
 * given (a link such as "US/Eastern" keeps its name).
 */
export function zoneNameCase(zone: string): string {
  // Asked per job of an import: worked out once per zone, when its state is made.
  return zoneState(zone).ianaCase ?? zone;
}

/** Offset straight from Intl (slow path, used only to build tables). Intl resolves whole seconds. */
function intlOffset(fmt: Intl.DateTimeFormat, ms: number): number {
  let y = 0;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of fmt.formatToParts(ms)) {
    const v = Number(p.value);
    if (p.type === "year") y = v;
    else if (p.type === "month") mo = v;
    else if (p.type === "day") d = v;
    else if (p.type === "hour") h = v;
    else if (p.type === "minute") mi = v;
    else if (p.type === "second") s = v;
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000;
}

/**
 * Samples the offset once a day and binary-searches each change to the millisecond. Real zones never
 * change offset twice within 24 hours, so daily sampling cannot miss a transition.
 */
function buildYear(fmt: Intl.DateTimeFormat, year: number): YearTable {
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  let cur = intlOffset(fmt, start);
  const starts = [start];
  const offsets = [cur];
  let prev = start;
  while (prev < end - 1) {
    const t = Math.min(prev + DAY_MS, end - 1);
    const o = intlOffset(fmt, t);
    if (o === cur) {
      prev = t;
      continue;
    }
    // Invariant: offset(lo) === cur, offset(hi) !== cur.
    let lo = prev;
    let hi = t;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (intlOffset(fmt, mid) === cur) lo = mid;
      else hi = mid;
    }
    cur = intlOffset(fmt, hi);
    starts.push(hi);
    offsets.push(cur);
    prev = hi;
  }
  return { start, end, starts, offsets };
}

function yearTable(st: ZoneState, ms: number): YearTable {
  const last = st.last;
  if (last && ms >= last.start && ms < last.end) return last;
  const year = new Date(ms).getUTCFullYear();
  let table = st.years.get(year);
  if (!table) {
    if (st.years.size >= MAX_YEARS_PER_ZONE) st.years.clear();
    table = buildYear(st.fmt, year);
    st.years.set(year, table);
  }
  st.last = table;
  return table;
}

/** Index of the constant-offset run containing ms (tables hold only a handful of runs). */
function runIndex(table: YearTable, ms: number): number {
  let i = table.starts.length - 1;
  while (i > 0 && table.starts[i]! > ms) i--;
  return i;
}

/** Local time minus UTC at the instant, in ms. Throws RangeError for unknown zones. */
export function offsetAt(zone: string, ms: number): number {
  const table = yearTable(zoneState(zone), ms);
  return table.offsets[runIndex(table, ms)]!;
}

export interface OffsetSegment {
  start: number;
  end: number;
  offset: number;
}

/** Splits [from, to) into maximal pieces of constant UTC offset for the zone. */
export function offsetSegments(zone: string, from: number, to: number): OffsetSegment[] {
  const st = zoneState(zone);
  const out: OffsetSegment[] = [];
  let t = from;
  while (t < to) {
    const table = yearTable(st, t);
    const i = runIndex(table, t);
    const end = Math.min(table.starts[i + 1] ?? table.end, to);
    const offset = table.offsets[i]!;
    const prev = out[out.length - 1];
    // Runs continue across the UTC new year; merge so callers see real transitions only.
    if (prev && prev.offset === offset && prev.end === t) prev.end = end;
    else out.push({ start: t, end, offset });
    t = end;
  }
  return out;
}

/** Day number (days since 1970-01-01) to weekday index with mon = 0. */
export function weekdayIndex(dayNumber: number): number {
  return (((dayNumber + 3) % 7) + 7) % 7;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/**
 * `at` as the zone's wall-clock time with its UTC offset, ISO 8601 to the second
 * (2026-11-23T22:53:07-05:00): the contact's local time, and the same instant.
 */
export function localIsoString(zone: string, at: Date | number): string {
  const p = localParts(zone, at);
  const offsetMin = Math.round(p.offsetMs / 60_000);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${p.date}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${offset}`;
}

/** Wall-clock fields of `at` in `zone`. */
export function localParts(zone: string, at: Date | number): LocalParts {
  const ms = typeof at === "number" ? at : at.getTime();
  const offsetMs = offsetAt(zone, ms);
  const wall = new Date(ms + offsetMs);
  const year = wall.getUTCFullYear();
  const month = wall.getUTCMonth() + 1;
  const day = wall.getUTCDate();
  return {
    year,
    month,
    day,
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    millisecond: wall.getUTCMilliseconds(),
    weekday: WEEKDAYS[weekdayIndex(Math.floor((ms + offsetMs) / DAY_MS))] as Weekday,
    date: `${pad(year, 4)}-${pad(month)}-${pad(day)}`,
    offsetMs,
  };
}
