import type { Schedule, Weekday } from "../../src/schedule/index.ts";

export const WEEKDAYS_MON_FRI: Weekday[] = ["mon", "tue", "wed", "thu", "fri"];
export const ALL_DAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function schedule(
  timeZone: string,
  windows: Array<[Weekday[], string, string]>,
  blackoutDates: string[] = [],
): Schedule {
  return {
    TimeZone: timeZone,
    Windows: windows.map(([Days, Start, End]) => ({ Days, Start, End })),
    BlackoutDates: blackoutDates,
  };
}

export const at = (iso: string): Date => new Date(iso);
export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const oracleFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Independent oracle: openness computed straight from Intl wall-clock fields, sharing no code with the
 * module's offset tables. Windows are minute-granular, so the local minute decides openness.
 */
export function oracleOpen(s: Schedule, zone: string, t: number): boolean {
  let fmt = oracleFormats.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    oracleFormats.set(zone, fmt);
  }
  const p: Record<string, string> = {};
  for (const part of fmt.formatToParts(t)) p[part.type] = part.value;
  const date = `${p.year}-${p.month}-${p.day}`;
  if (s.BlackoutDates.includes(date)) return false;
  const day = p.weekday!.toLowerCase() as Weekday;
  const minute = Number(p.hour) * 60 + Number(p.minute);
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  return s.Windows.some((w) => w.Days.includes(day) && toMin(w.Start) <= minute && minute < toMin(w.End));
}
