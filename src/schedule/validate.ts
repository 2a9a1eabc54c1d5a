import { checkUnknownFields } from "../domain/limits.ts";
import { parseDay, parseHHMM } from "./compile.ts";
import { type ScheduleIssue, WEEKDAYS } from "./types.ts";
import { isValidTimeZone } from "./zone.ts";

const WINDOW_FIELDS = ["Days", "Start", "End"];
const DAY_LIST = WEEKDAYS.map((d) => `"${d}"`).join(", ");

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function validateWindow(w: unknown, path: string, issues: ScheduleIssue[]): void {
  const add = (p: string, Message: string) => issues.push({ Path: path + p, Message });
  if (!isObject(w)) {
    add("", 'Each window must be an object like {"Days": ["mon"], "Start": "09:00", "End": "17:00"}.');
    return;
  }
  // A misspelt field would otherwise be stored and silently ignored.
  checkUnknownFields(w, WINDOW_FIELDS, path, issues);
  if (!Array.isArray(w.Days) || w.Days.length === 0) {
    add("/Days", `Days must be a non-empty array of day names chosen from ${DAY_LIST}.`);
  } else {
    const seen = new Set<unknown>();
    w.Days.forEach((d, i) => {
      if (!(WEEKDAYS as readonly unknown[]).includes(d)) {
        add(`/Days/${i}`, `Unknown day ${JSON.stringify(d)}; use one of ${DAY_LIST} (lower case).`);
      } else if (seen.has(d)) {
        add(`/Days/${i}`, `Day "${String(d)}" is listed twice in this window; remove the duplicate.`);
      }
      seen.add(d);
    });
  }
  const start = parseHHMM(w.Start, false);
  const end = parseHHMM(w.End, true);
  if (start === null) {
    add("/Start", `Start ${JSON.stringify(w.Start)} must be a time "HH:MM" from "00:00" to "23:59".`);
  }
  if (end === null) {
    add(
      "/End",
      `End ${JSON.stringify(w.End)} must be a time "HH:MM" from "00:01" to "24:00" ("24:00" = end of day).`,
    );
  }
  if (start !== null && end !== null && start >= end) {
    add(
      "/End",
      `End "${String(w.End)}" must be later than Start "${String(w.Start)}". Windows cannot cross ` +
        'midnight: split it into one window ending at "24:00" and one starting at "00:00" the next day.',
    );
  }
}

/**
 * Checks a campaign Schedule and returns every problem found (empty when valid). Paths are JSON
 * pointers relative to the Schedule object, e.g. "/Windows/0/Start"; messages say how to fix the input.
 */
export function validateSchedule(s: unknown): ScheduleIssue[] {
  const issues: ScheduleIssue[] = [];
  if (!isObject(s)) {
    return [{ Path: "", Message: "Schedule must be an object with TimeZone, Windows and BlackoutDates." }];
  }
  if (!isValidTimeZone(s.TimeZone)) {
    issues.push({
      Path: "/TimeZone",
      Message:
        `TimeZone ${JSON.stringify(s.TimeZone)} is not a known IANA time zone; use a name such as ` +
        '"America/New_York" or "Europe/London" (UTC offsets like "+02:00" are not accepted).',
    });
  }
  if (!Array.isArray(s.Windows)) {
    issues.push({
      Path: "/Windows",
      Message: 'Windows must be an array of {"Days", "Start", "End"} objects (use [] for none).',
    });
  } else {
    s.Windows.forEach((w, i) => {
      validateWindow(w, `/Windows/${i}`, issues);
    });
  }
  if (!Array.isArray(s.BlackoutDates)) {
    issues.push({
      Path: "/BlackoutDates",
      Message: 'BlackoutDates must be an array of "YYYY-MM-DD" dates (use [] for none).',
    });
  } else {
    s.BlackoutDates.forEach((d, i) => {
      if (parseDay(d) === null) {
        issues.push({
          Path: `/BlackoutDates/${i}`,
          Message: `${JSON.stringify(d)} is not a real calendar date; write it as "YYYY-MM-DD", e.g. "2025-12-25".`,
        });
      }
    });
  }
  return issues;
}
