import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDateTime } from "../../src/conversation/understanding/index.ts";
import type { ClockContext } from "../../src/conversation/understanding/parseDateTime.ts";
import { localIsoString, localParts } from "../../src/schedule/index.ts";

// Friday 2026-03-06 10:00 in New York (EST, UTC-5); DST starts Sunday 2026-03-08 (EDT, UTC-4).
const ny = { now: new Date("2026-03-06T15:00:00Z"), timeZone: "America/New_York" };
const iso = (text: string, ctx: ClockContext = ny) => parseDateTime(text, ctx)?.toISOString() ?? null;

const CASES: ReadonlyArray<readonly [string, string | null]> = [
  ["tomorrow at 5pm", "2026-03-07T22:00:00.000Z"],
  ["tomorrow at 5", "2026-03-07T22:00:00.000Z"],
  ["uh, tomorrow at five", "2026-03-07T22:00:00.000Z"],
  ["next Tuesday afternoon", "2026-03-10T18:00:00.000Z"],
  ["December 3rd at 10am", "2026-12-03T15:00:00.000Z"],
  ["in two hours", "2026-03-06T17:00:00.000Z"],
  ["in an hour", "2026-03-06T16:00:00.000Z"],
  ["in half an hour", "2026-03-06T15:30:00.000Z"],
  ["5pm", "2026-03-06T22:00:00.000Z"],
  ["five thirty pm", "2026-03-06T22:30:00.000Z"],
  ["half past five", "2026-03-06T22:30:00.000Z"],
  ["around 3", "2026-03-06T20:00:00.000Z"],
  ["at 9am", "2026-03-07T14:00:00.000Z"], // already past today: tomorrow
  ["this evening", "2026-03-06T23:00:00.000Z"],
  ["tonight at 8", "2026-03-07T01:00:00.000Z"],
  ["Monday morning", "2026-03-09T13:00:00.000Z"], // 9:00 EDT
  ["tomorrow afternoon around three", "2026-03-07T20:00:00.000Z"],
  ["not today, tomorrow at noon", "2026-03-07T17:00:00.000Z"],
  ["March 10", "2026-03-10T16:00:00.000Z"], // noon EDT
  ["end of the day", "2026-03-06T22:00:00.000Z"],
  ["three", null],
  ["no idea", null],
  ["<silence>", null],
  ["", null],
];

test("parseDateTime: natural language on the contact's clock", () => {
  for (const [text, expected] of CASES) assert.equal(iso(text), expected, text);
});

test("parseDateTime: ISO 8601 is read exactly, with its offset or on the contact's wall clock", () => {
  const cases: ReadonlyArray<readonly [string, string | null]> = [
    // Early hours stay early: no "at 5 means 5pm" guess for a written time.
    ["2026-03-07T05:00:00", "2026-03-07T10:00:00.000Z"],
    ["2026-03-07T05:00:00-05:00", "2026-03-07T10:00:00.000Z"],
    ["2026-03-07T03:00:00Z", "2026-03-07T03:00:00.000Z"],
    ["2026-03-07t01:00:00+01:00", "2026-03-07T00:00:00.000Z"],
    ["2026-03-07T06:30", "2026-03-07T11:30:00.000Z"],
    ["2026-03-07 17:00", "2026-03-07T22:00:00.000Z"],
    ["2026-03-07T17:00:00.250+0530", "2026-03-07T11:30:00.250Z"],
    ["2026-03-07T17:00:00+05", "2026-03-07T12:00:00.000Z"],
    // After DST starts (EDT, UTC-4): the wall clock of that date.
    ["2026-03-09T09:00:00", "2026-03-09T13:00:00.000Z"],
    // In the gap (02:30 does not exist on 2026-03-08): moved forward, as for words.
    ["2026-03-08T02:30:00", "2026-03-08T07:30:00.000Z"],
    // No such day or hour.
    ["2026-02-30T10:00:00", null],
    ["2026-03-07T25:00:00", null],
  ];
  for (const [text, expected] of cases) assert.equal(iso(text), expected, text);
});

test("parseDateTime: DST starts between now and the date meant (New York)", () => {
  // Sunday 15:00 is EDT (UTC-4), not today's EST offset.
  assert.equal(iso("Sunday at 3pm"), "2026-03-08T19:00:00.000Z");
  assert.equal(iso("next week"), "2026-03-13T14:00:00.000Z"); // the same 10:00 local
  // A duration is an instant: 01:30 EST + 1h is 03:30 EDT.
  const night = { now: new Date("2026-03-08T06:30:00Z"), timeZone: "America/New_York" };
  assert.equal(iso("in an hour", night), "2026-03-08T07:30:00.000Z");
  // 2:30 does not exist that night: the clock reads 3:30 EDT.
  assert.equal(iso("at 2:30 am", night), "2026-03-08T07:30:00.000Z");
});

test("parseDateTime: DST ends (New York) and Europe/London", () => {
  const fall = { now: new Date("2026-10-30T14:00:00Z"), timeZone: "America/New_York" };
  assert.equal(iso("Monday at 9am", fall), "2026-11-02T14:00:00.000Z");
  const london = { now: new Date("2026-03-27T12:00:00Z"), timeZone: "Europe/London" };
  assert.equal(iso("tomorrow at 5pm", london), "2026-03-28T17:00:00.000Z");
  assert.equal(iso("Monday at 10am", london), "2026-03-30T09:00:00.000Z");
  assert.equal(iso("at 11am", london), "2026-03-28T11:00:00.000Z");
  assert.equal(iso("at 1pm", london), "2026-03-27T13:00:00.000Z");
});

test("parseDateTime: other zones; an unknown zone throws", () => {
  const tokyo = { now: new Date("2026-03-06T15:00:00Z"), timeZone: "Asia/Tokyo" }; // Sat 00:00 there
  assert.equal(iso("tomorrow at 5pm", tokyo), "2026-03-08T08:00:00.000Z");
  assert.throws(() => parseDateTime("tomorrow", { now: ny.now, timeZone: "Not/AZone" }), RangeError);
});

test("parseDateTime: the server's own zone (TZ) changes nothing", () => {
  const saved = process.env.TZ;
  const night = { now: new Date("2026-03-08T06:30:00Z"), timeZone: "America/New_York" };
  try {
    // Los Angeles skips 02:00–03:00 local later that night; chrono's date arithmetic runs on it.
    for (const tz of ["America/Los_Angeles", "Australia/Lord_Howe", "UTC"]) {
      process.env.TZ = tz;
      assert.equal(iso("in an hour", night), "2026-03-08T07:30:00.000Z", tz);
      assert.equal(iso("Sunday at 3pm"), "2026-03-08T19:00:00.000Z", tz);
      assert.equal(iso("tomorrow at 5"), "2026-03-07T22:00:00.000Z", tz);
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test("parseDateTime: a weekday or a date already past means the next one, east or west of the server", () => {
  const saved = process.env.TZ;
  /** `h`:00 on 2026-11-21 (a Saturday) on the wall clock of `zone`. */
  const saturday = (zone: string, h: number) => {
    const guess = Date.UTC(2026, 10, 21, h);
    return new Date(guess - localParts(zone, guess).offsetMs);
  };
  const say = (text: string, zone: string, now: Date) => {
    const r = parseDateTime(text, { now, timeZone: zone });
    return r ? localIsoString(zone, r).slice(0, 16) : null;
  };
  try {
    for (const tz of ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"]) {
      process.env.TZ = tz;
      for (const zone of ["America/New_York", "Europe/London", "Asia/Kolkata", "Pacific/Chatham"]) {
        const where = `${zone} (server ${tz})`;
        const early = saturday(zone, 7);
        assert.equal(say("saturday at 10am", zone, early), "2026-11-21T10:00", where);
        assert.equal(say("november 21 at 10am", zone, early), "2026-11-21T10:00", where);
        const late = saturday(zone, 11);
        assert.equal(say("saturday at 10am", zone, late), "2026-11-28T10:00", where);
        assert.equal(say("friday at 10am", zone, late), "2026-11-27T10:00", where);
        assert.equal(say("monday at 10am", zone, late), "2026-11-23T10:00", where);
        assert.equal(say("november 21 at 10am", zone, late), "2027-11-21T10:00", where);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test("parseDateTime: a month alone, or a weekday said 'last', already past means the next one", () => {
  const january = { now: new Date("2026-01-15T17:00:00Z"), timeZone: "America/New_York" };
  assert.equal(iso("december", january), "2026-12-01T17:00:00.000Z");
  // A Wednesday, 20:00 in New York: "last wednesday" (noon) is read as the next one.
  const wednesdayEvening = { now: new Date("2026-01-22T01:00:00Z"), timeZone: "America/New_York" };
  assert.equal(iso("last wednesday", wednesdayEvening), "2026-01-28T17:00:00.000Z");
});

test("a date question that is not a call-back keeps a date named as past in the past", () => {
  // Tuesday 2026-11-24 10:00 in New York (EST).
  const ctx = { now: new Date("2026-11-24T15:00:00Z"), timeZone: "America/New_York", forward: false };
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["last march", "2026-03-01T17:00:00.000Z"], // noon EDT
    ["last monday", "2026-11-23T17:00:00.000Z"],
    ["yesterday", "2026-11-23T15:00:00.000Z"],
    ["two weeks ago", "2026-11-10T15:00:00.000Z"],
    ["tomorrow at 5pm", "2026-11-25T22:00:00.000Z"],
    // Not named as past: read as for a call-back ("when should the technician come?").
    ["monday", "2026-11-30T17:00:00.000Z"],
    ["friday at last", "2026-11-27T17:00:00.000Z"],
  ];
  for (const [text, expected] of cases) assert.equal(iso(text, ctx), expected, text);
  // A call-back's time is still moved to come.
  assert.equal(iso("last monday", { ...ctx, forward: true }), "2026-11-30T17:00:00.000Z");
});
