import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  isOpenAt,
  localIsoString,
  localParts,
  nextOpenTime,
  resolveNextOpen,
  type Schedule,
  type Weekday,
} from "../../src/schedule/index.ts";
import { offsetSegments } from "../../src/schedule/zone.ts";
import { ALL_DAYS, oracleOpen } from "./helpers.ts";

const MIN = 60_000;
const DAY = 86_400_000;
// Zones with DST in both hemispheres, 30/45-minute offsets, half-hour DST (Lord Howe), no DST.
const ZONES = [
  "America/New_York",
  "Europe/London",
  "America/Los_Angeles",
  "America/St_Johns",
  "America/Santiago",
  "Europe/Berlin",
  "Africa/Casablanca",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Australia/Lord_Howe",
  "Pacific/Chatham",
  "UTC",
];
const START = Date.UTC(2024, 0, 1);
const END = Date.UTC(2027, 0, 1);
// Offset changes in the test period: instants near them exercise the DST paths far more often.
const TRANSITIONS = ZONES.flatMap((z) =>
  offsetSegments(z, START, END)
    .slice(1)
    .map((s) => s.start),
);

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
const minuteArb = fc.oneof(
  fc.integer({ min: 0, max: 1439 }),
  fc.constantFrom(0, 60, 90, 120, 150, 180, 1380),
);
const windowArb = (maxLen: number) =>
  fc
    .record({
      days: fc.subarray(ALL_DAYS, { minLength: 1 }),
      start: minuteArb,
      len: fc.integer({ min: 1, max: maxLen }),
    })
    .map(({ days, start, len }) => ({
      Days: days as Weekday[],
      Start: hhmm(start),
      End: hhmm(Math.min(1440, start + len)),
    }));
const instantArb = fc.oneof(
  fc.integer({ min: START, max: END - 30 * DAY }),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }))
    .map(([t, d]) => t + d),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
    .map(([t, d]) => t + d),
);
const zoneArb = fc.constantFrom(...ZONES);

/** A schedule plus a query instant; blackout dates land near the instant so they matter. */
const caseArb = (maxWindowLen = 1440, maxWindows = 4) =>
  fc
    .record({
      tz: zoneArb,
      windows: fc.array(windowArb(maxWindowLen), { minLength: 1, maxLength: maxWindows }),
      from: instantArb,
      blackouts: fc.array(fc.integer({ min: -1, max: 10 }), { maxLength: 4 }),
    })
    .map(({ tz, windows, from, blackouts }) => {
      const s: Schedule = {
        TimeZone: tz,
        Windows: windows,
        BlackoutDates: blackouts.map((d) => new Date(from + d * DAY).toISOString().slice(0, 10)),
      };
      return { s, from };
    });

/**
 * Asserts nothing is open in [from, to). Windows are whole minutes and every offset in use is whole
 * minutes, so openness is constant within each UTC minute: checking `from` and each minute boundary
 * after it is exhaustive, not a sample.
 */
function assertClosedBetween(s: Schedule, zones: string[], from: number, to: number): void {
  if (from < to)
    assert.equal(isOpenAt(s, zones, new Date(from)), false, `open at from ${new Date(from).toISOString()}`);
  for (let t = Math.ceil(from / MIN) * MIN; t < to; t += MIN) {
    if (isOpenAt(s, zones, new Date(t))) assert.fail(`open earlier at ${new Date(t).toISOString()}`);
  }
}

test("isOpenAt agrees with an Intl-only oracle", () => {
  fc.assert(
    fc.property(caseArb(), zoneArb, ({ s, from }, zone) => {
      assert.equal(isOpenAt(s, [zone], new Date(from)), oracleOpen(s, zone, from));
    }),
    { numRuns: 2000 },
  );
});

test("localParts agrees with Intl", () => {
  fc.assert(
    fc.property(zoneArb, instantArb, (zone, t) => {
      const p = localParts(zone, t);
      const f = new Intl.DateTimeFormat("en-CA", {
        timeZone: zone,
        hourCycle: "h23",
        dateStyle: "short",
        timeStyle: "medium",
      });
      const [date, time] = f.format(t).split(", ");
      assert.equal(p.date, date);
      assert.equal(
        `${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}:${String(p.second).padStart(2, "0")}`,
        time,
      );
    }),
    { numRuns: 500 },
  );
});

test("localIsoString is the zone's wall clock and reads back as the same instant", () => {
  fc.assert(
    fc.property(zoneArb, instantArb, (zone, t) => {
      const iso = localIsoString(zone, t);
      const p = localParts(zone, t);
      const hms = [p.hour, p.minute, p.second].map((n) => String(n).padStart(2, "0")).join(":");
      assert.equal(iso.slice(0, 19), `${p.date}T${hms}`);
      // Offsets of whole minutes read back exactly (historical second offsets are outside instantArb).
      assert.equal(new Date(iso).getTime(), Math.floor(t / 1000) * 1000, iso);
    }),
    { numRuns: 500 },
  );
  assert.equal(
    localIsoString("America/New_York", Date.UTC(2026, 0, 15, 17, 30)),
    "2026-01-15T12:30:00-05:00",
  );
  assert.equal(
    localIsoString("America/New_York", Date.UTC(2026, 6, 15, 17, 30)),
    "2026-07-15T13:30:00-04:00",
  );
  assert.equal(localIsoString("Asia/Kolkata", Date.UTC(2026, 0, 15, 17, 30)), "2026-01-15T23:00:00+05:30");
  assert.equal(localIsoString("UTC", Date.UTC(2026, 0, 15, 17, 30, 5)), "2026-01-15T17:30:05+00:00");
});

test("nextOpenTime (one zone) is the earliest open instant at or after from", () => {
  fc.assert(
    fc.property(caseArb(), zoneArb, ({ s, from }, zone) => {
      const r = nextOpenTime(s, [zone], new Date(from));
      assert.ok(r, "a schedule with windows and a few blackout dates always opens within the horizon");
      const rt = r.getTime();
      assert.ok(rt >= from);
      assert.equal(isOpenAt(s, [zone], r), true);
      assert.equal(oracleOpen(s, zone, rt), true);
      if (rt > from) assert.equal(isOpenAt(s, [zone], new Date(rt - 1)), false);
      assertClosedBetween(s, [zone], from, rt);
    }),
    { numRuns: 200 },
  );
});

test("nextOpenTime (several zones) is the earliest all-zones instant, or the 7-day fallback", () => {
  fc.assert(
    fc.property(caseArb(), fc.uniqueArray(zoneArb, { minLength: 2, maxLength: 3 }), ({ s, from }, zones) => {
      const r = resolveNextOpen(s, zones, new Date(from));
      assert.ok(r);
      const rt = r.at.getTime();
      assert.ok(rt >= from);
      if (!r.fellBack) {
        assert.ok(rt < from + 7 * DAY);
        assert.equal(isOpenAt(s, zones, r.at), true);
        assertClosedBetween(s, zones, from, rt);
      } else {
        assertClosedBetween(s, zones, from, from + 7 * DAY);
        assert.deepEqual(r.zones, [s.TimeZone]);
        assert.equal(rt, nextOpenTime(s, [s.TimeZone], new Date(from))?.getTime());
        assert.equal(isOpenAt(s, [s.TimeZone], r.at), true);
      }
    }),
    { numRuns: 60 },
  );
});

test("7-day fallback: zones 25 hours apart never share a single window of at most an hour", () => {
  // Kiritimati (UTC+14) and Pago Pago (UTC-11), no DST: a Kiritimati window [s, s+len) on day D is Pago
  // Pago's [s-60, s+len-60) on day D-1, which cannot meet Pago Pago's own [s, s+len) when len <= 60.
  const zones = ["Pacific/Kiritimati", "Pacific/Pago_Pago"];
  fc.assert(
    fc.property(caseArb(60, 1), ({ s, from }) => {
      const r = resolveNextOpen(s, zones, new Date(from));
      assert.ok(r);
      assert.equal(r.fellBack, true);
      assert.deepEqual(r.zones, [s.TimeZone]);
      const rt = r.at.getTime();
      assert.ok(rt >= from);
      assert.equal(isOpenAt(s, [s.TimeZone], r.at), true);
      assert.equal(isOpenAt(s, zones, r.at), false);
      assertClosedBetween(s, [s.TimeZone], from, rt);
    }),
    { numRuns: 100 },
  );
});
