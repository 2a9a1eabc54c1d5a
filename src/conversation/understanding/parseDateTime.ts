// The English locale alone: loading every locale costs a second at start-up.
import type { ParsedResult } from "chrono-node/en";
import * as chrono from "chrono-node/en";
import { dropFillers, isSilence, lowerExpanded } from "./normalize.ts";
import { wordsToDigitsInText } from "./numbers.ts";
import { instantOf, offsetMinutesAt, type WallClock, wallClockAt } from "./zone.ts";

/** The contact's clock: times are read relative to `now` on the wall clock of `timeZone` (IANA). */
export interface ClockContext {
  now: Date;
  timeZone: string;
  /**
   * The answer is a time to come (a call-back): a weekday or a date that has passed means its next
   * occurrence, "last monday" included. False for a question that may be about the past ("when did
   * you move in?"): a weekday or month named with last/previous/past ("last march", "last monday")
   * is the latest one already past; anything else reads as for a call-back. Default true.
   */
  forward?: boolean;
}

/**
 * Local hours used when a part of the day is named without a time: "Monday morning" is Monday 9:00,
 * "tomorrow afternoon" 14:00, "this evening" / "tonight" 18:00.
 */
const PART_OF_DAY_HOURS = { morning: 9, afternoon: 14, evening: 18 } as const;

/** Phrases chrono does not know, said as the times they usually mean. */
const PHRASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:by |at )?(?:the )?end of (?:the )?(?:day|business day|work day|workday)\b/g, " at 5pm "],
  [/\bafter work\b/g, " at 6pm "],
  [/\b(?:at |around )?lunch ?time\b/g, " at 12pm "],
  [/\bafter lunch\b/g, " at 1pm "],
  [/\bhalf past (\d{1,2})\b/g, " $1:30 "],
  [/\bquarter past (\d{1,2})\b/g, " $1:15 "],
  [/\b(?:at |around )?(?:about |approximately |roughly )?(?:a )?quarter to (\d{1,2})\b/g, " at QTR$1 "],
  [/\b(at|by|around) (\d{1,2}) ([0-5]\d)\b/g, " $1 $2:$3 "],
  [/\b(\d{1,2}) ([0-5]\d) ?([ap]\.?m\b\.?)/g, " $1:$2 $3"],
  [/\b(?:at )?(?:around|about|approximately|roughly|say) (?=\d)/g, " at "],
  [/\b(\d{1,2}(?::\d\d)?) (?:o'?clock )?(?:in the morning)\b/g, " $1am "],
  [
    /\b(\d{1,2}(?::\d\d)?) (?:o'?clock )?(?:in the (?:afternoon|evening)|this (?:afternoon|evening)|at night)\b/g,
    " $1pm ",
  ],
  [/\btonight (?:at |around )?(\d{1,2}(?::\d\d)?)\b(?! ?[ap]\.?m)/g, " today at $1pm "],
  [/\b(?:at )?(\d{1,2}(?::\d\d)?) (?:o'?clock )?tonight\b/g, " today at $1pm "],
];

/** Rewrites an utterance into text chrono reads well: number words as digits, idioms as times. */
function prepare(text: string): string {
  let s = wordsToDigitsInText(dropFillers(lowerExpanded(text)));
  for (const [re, to] of PHRASES) s = s.replace(re, to);
  s = s.replace(/QTR(\d{1,2})/g, (_, h: string) => `${((Number(h) + 10) % 12) + 1}:45`);
  return s.replace(/\s+/g, " ").trim();
}

const parser = chrono.casual;

type ParsedComponents = ParsedResult["start"];

const CERTAIN_PARTS = ["year", "month", "day", "weekday", "hour", "minute", "meridiem"] as const;
const certainty = (c: ParsedComponents) => CERTAIN_PARTS.filter((p) => c.isCertain(p)).length;

/** The result meant: not a bare "now" (as in "now is not a good time"), not a negated "not today"; the most precise, then the last. */
function pick(text: string, results: readonly ParsedResult[]): ParsedResult | null {
  const meant = results.filter(
    (r) => !r.tags().has("casualReference/now") && !/\bnot (?:on |at |this )?$/.test(text.slice(0, r.index)),
  );
  if (meant.length === 0) return results.find((r) => r.tags().has("casualReference/now")) ?? null;
  return meant.reduce((best, r) => (certainty(r.start) >= certainty(best.start) ? r : best));
}

/** The wall clock chrono found, with the part-of-day hours and the afternoon guess for "at 5". */
function wallClockOf(r: ParsedResult): WallClock {
  const c = r.start;
  const tags = r.tags();
  const get = (p: "year" | "month" | "day" | "hour" | "minute" | "second" | "millisecond") => c.get(p) ?? 0;
  const w: WallClock = {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
    second: get("second"),
    millisecond: get("millisecond"),
  };
  const part = tags.has("casualReference/morning")
    ? "morning"
    : tags.has("casualReference/afternoon")
      ? "afternoon"
      : tags.has("casualReference/evening") || tags.has("casualReference/tonight")
        ? "evening"
        : null;
  if (!c.isCertain("hour") && part) {
    w.hour = PART_OF_DAY_HOURS[part];
    w.minute = 0;
    w.second = 0;
    w.millisecond = 0;
  } else if (c.isCertain("hour") && !c.isCertain("meridiem") && w.hour < 12) {
    // "at 5" with no am/pm: calls happen by day, so 1–7 (or any hour said with "afternoon",
    // "evening", "tonight") is afternoon or evening; 8–11 stay morning.
    if ((w.hour >= 1 && w.hour <= 7) || (part !== null && part !== "morning")) w.hour += 12;
  }
  return w;
}

const RELATIVE_DAY = /^(?:casualReference\/(?:today|tomorrow|tonight|yesterday|now)|result\/relative)/;

/** Said with a time of day and no date at all: "at 5pm", "this evening". */
function isOnlyTime(r: ParsedResult): boolean {
  const c = r.start;
  if (["day", "weekday", "month", "year"].some((p) => c.isCertain(p as "day"))) return false;
  return ![...r.tags()].some((t) => RELATIVE_DAY.test(t));
}

/** A reference far from any DST change: chrono adds durations on the server's own clock. */
const QUIET = new Date("2026-01-15T12:00:00Z");

/** The length of a duration said ("in two hours"), in milliseconds, whatever the server's zone. */
function durationOf(said: string): number {
  const r = parser.parse(said, { instant: QUIET, timezone: 0 })[0];
  if (!r) return 0;
  const c = (p: "year" | "month" | "day" | "hour" | "minute" | "second") => r.start.get(p) ?? 0;
  return Date.UTC(c("year"), c("month") - 1, c("day"), c("hour"), c("minute"), c("second")) - QUIET.getTime();
}

/** ISO 8601 as a model or a program writes it: a date, a time to the minute or finer, maybe an offset. */
const ISO_DATE_TIME =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?\s*(Z|([+-])(\d\d)(?::?(\d\d))?)?$/i;

/**
 * An ISO 8601 date and time, exactly: with an offset it is that instant; without one it is the
 * contact's wall clock. Not a guess about "at 5" (05:00 is five in the morning). Null when `text`
 * is not one, or names no real time.
 */
function isoDateTime(text: string, timeZone: string): Date | null {
  const m = ISO_DATE_TIME.exec(text.trim());
  if (!m) return null;
  const n = (i: number) => Number(m[i] ?? 0);
  const w: WallClock = {
    year: n(1),
    month: n(2),
    day: n(3),
    hour: n(4),
    minute: n(5),
    second: n(6),
    millisecond: Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3)),
  };
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
  const back = new Date(asUtc);
  // 2026-02-30 or 25:00 name no time: Date.UTC would roll them over.
  if (back.getUTCDate() !== w.day || back.getUTCHours() !== w.hour || back.getUTCMinutes() !== w.minute)
    return null;
  if (!m[8]) return instantOf(w, timeZone);
  const offsetMin = m[8].toUpperCase() === "Z" ? 0 : (m[9] === "-" ? -1 : 1) * (n(10) * 60 + n(11));
  return new Date(asUtc - offsetMin * 60_000);
}

/**
 * The instant meant by a natural-language date or time ("tomorrow at 5", "next Tuesday afternoon",
 * "December 3rd at 10am", "in two hours", "5pm"), read on the contact's wall clock: relative to
 * `ctx.now` in `ctx.timeZone`, with the zone's offset on the date meant (DST-safe). A time of day
 * already past today means tomorrow; a weekday means the next one; a month and day without a year
 * the next one. Parts of the day use PART_OF_DAY_HOURS; an hour 1–7 without am/pm is taken as pm.
 * "tomorrow" or "next week" alone keep the current time of day. An ISO 8601 date and time is read
 * exactly (with its offset, or else on the contact's wall clock). Nothing recognisable gives null.
 * Throws a RangeError for an unknown time zone.
 */
export function parseDateTime(text: string, ctx: ClockContext): Date | null {
  if (isSilence(text)) return null;
  const exact = isoDateTime(text, ctx.timeZone);
  if (exact) return exact;
  const prepared = prepare(text);
  const reference = { instant: ctx.now, timezone: offsetMinutesAt(ctx.now, ctx.timeZone) };
  // Not chrono's forwardDate: it compares the contact's wall clock with the server's, so east of
  // the server "saturday" said on a Saturday morning meant next week. Forwarding is done below.
  // Chrono finds some phrasings only when forwarding ("an hour", "20 minutes"): tried second.
  const r =
    pick(prepared, parser.parse(prepared, reference)) ??
    pick(prepared, parser.parse(prepared, reference, { forwardDate: true }));
  if (!r) return null;
  const w = wallClockOf(r);
  if (r.tags().has("result/relativeDateAndTime")) return new Date(ctx.now.getTime() + durationOf(r.text));
  // A time said with its zone ("5pm EST") is an instant.
  if (r.start.isCertain("timezoneOffset")) {
    const t = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
    return new Date(t - (r.start.get("timezoneOffset") ?? 0) * 60000);
  }
  if (isOnlyTime(r)) {
    const today = wallClockAt(ctx.now, ctx.timeZone);
    const at = instantOf({ ...w, year: today.year, month: today.month, day: today.day }, ctx.timeZone);
    if (at.getTime() > ctx.now.getTime()) return at;
    const next = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
    const [year, month, day] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
    return instantOf({ ...w, year, month, day }, ctx.timeZone);
  }
  return ctx.forward === false && PAST_NAMED.test(text) ? latestPast(r, w, ctx) : forward(r, w, ctx);
}

/**
 * A weekday said without its date, or a month and day without a year, that has already passed on
 * the contact's wall clock means its next occurrence: a week, or a year, later.
 */
const forward = (r: ParsedResult, w: WallClock, ctx: ClockContext): Date =>
  stepped(r, w, ctx, 1, (at) => at.getTime() <= ctx.now.getTime());

/** A weekday or month named as past: "last march", "previous monday" (not "friday at last"). */
const PAST_NAMED =
  /\b(?:last|previous|past) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october|november|december)\b/i;

/** "last march" or "last monday": the latest one already past (chrono may read the coming one). */
const latestPast = (r: ParsedResult, w: WallClock, ctx: ClockContext): Date =>
  stepped(r, w, ctx, -1, (at) => at.getTime() > ctx.now.getTime());

/**
 * The wall clock `w`, moved by whole weeks (a weekday said without its date) or years (a month and
 * day without a year) in `direction` while `wrong` holds, at most three steps ("last wednesday"
 * said on a Wednesday evening is two weeks back); as it is when it carries its own date.
 */
function stepped(
  r: ParsedResult,
  w: WallClock,
  ctx: ClockContext,
  direction: 1 | -1,
  wrong: (at: Date) => boolean,
): Date {
  let at = instantOf(w, ctx.timeZone);
  const c = r.start;
  const weekdayOnly = c.isCertain("weekday") && !c.isCertain("day");
  const noYear = c.isCertain("month") && !c.isCertain("year");
  if (!weekdayOnly && !noYear) return at;
  for (let n = 1; n <= 3 && wrong(at); n++) {
    const step = direction * n;
    const d = new Date(Date.UTC(w.year + (noYear ? step : 0), w.month - 1, w.day + (noYear ? 0 : 7 * step)));
    at = instantOf(
      { ...w, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() },
      ctx.timeZone,
    );
  }
  return at;
}
