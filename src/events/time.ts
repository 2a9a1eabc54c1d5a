import type { ErrorDetail } from "../errors/index.ts";

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

/**
 * Parses a query parameter that must be an ISO 8601 time: a date (midnight UTC) or a date and time
 * with its zone (`Z` or an offset). An offset's `+` that arrived as a space (a `+` not written as
 * `%2B` in the URL) is read back as `+`. Pushes a detail onto `out` when the value is not valid.
 */
export function parseIsoTime(value: string | undefined, path: string, out: ErrorDetail[]): Date | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().replace(/(T[\d:.]+) (\d{2}:?\d{2})$/i, "$1+$2");
  const ms = ISO_TIME.test(v) && isCalendarDate(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) {
    out.push({
      Path: path,
      Message:
        "must be an ISO 8601 time with its zone, such as 2026-01-31T12:00:00.000Z (write + as %2B in a URL).",
    });
    return undefined;
  }
  if (!inStorableYears(ms)) {
    out.push({ Path: path, Message: YEARS_MESSAGE });
    return undefined;
  }
  return new Date(ms);
}

export const YEARS_MESSAGE = "must fall between the years 0001 and 9999 in UTC.";

/**
 * Whether an instant's UTC year is one PostgreSQL reads as toISOString writes it: a time such as
 * 9999-12-31T23:59-05:00 is in year 10000, written +010000-..., and year 0 does not exist there.
 */
export function inStorableYears(ms: number): boolean {
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/** Whether the date part names a day that exists (Date.parse would read 2026-02-30 as March 2). */
function isCalendarDate(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split("-").map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}
