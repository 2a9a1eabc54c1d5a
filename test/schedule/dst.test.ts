import assert from "node:assert/strict";
import { test } from "node:test";
import { isOpenAt, localParts, nextOpenTime, type Weekday } from "../../src/schedule/index.ts";
import { at, iso, schedule } from "./helpers.ts";

const NY = "America/New_York";
const LONDON = "Europe/London";
const sunday = (zone: string, start: string, end: string) =>
  schedule(zone, [[["sun"] as Weekday[], start, end]]);

/** [label, schedule, zone, instant, expected isOpenAt] */
type OpenCase = [string, ReturnType<typeof sunday>, string, string, boolean];

// New York springs forward 2025-03-09 at 02:00 EST (07:00Z): 02:00-02:59 local does not exist.
test("New York spring-forward day", () => {
  const gap = sunday(NY, "02:00", "04:00");
  const cases: OpenCase[] = [
    ["01:59:59.999 EST is before the window", gap, NY, "2025-03-09T06:59:59.999Z", false],
    ["03:00 EDT is the first existing time in the window", gap, NY, "2025-03-09T07:00:00Z", true],
    ["03:59:59.999 EDT", gap, NY, "2025-03-09T07:59:59.999Z", true],
    ["04:00 EDT ends it", gap, NY, "2025-03-09T08:00:00Z", false],
    ["01:00-03:00 lasts one real hour", sunday(NY, "01:00", "03:00"), NY, "2025-03-09T06:59:59.999Z", true],
    ["... and is closed at 03:00 EDT", sunday(NY, "01:00", "03:00"), NY, "2025-03-09T07:00:00Z", false],
  ];
  for (const [label, s, zone, t, expected] of cases)
    assert.equal(isOpenAt(s, [zone], at(t)), expected, label);
  assert.equal(iso(nextOpenTime(gap, [NY], at("2025-03-09T05:00:00Z"))), "2025-03-09T07:00:00.000Z");
  // A window lying entirely inside the skipped hour does not exist that day: next Sunday (EDT).
  const inside = sunday(NY, "02:00", "02:30");
  assert.equal(iso(nextOpenTime(inside, [NY], at("2025-03-09T05:00:00Z"))), "2025-03-16T06:00:00.000Z");
});

// New York falls back 2025-11-02 at 02:00 EDT (06:00Z): 01:00-01:59 local happens twice.
test("New York fall-back day", () => {
  const repeated = sunday(NY, "01:00", "02:00");
  const cases: OpenCase[] = [
    ["00:59 EDT", repeated, NY, "2025-11-02T04:59:59.999Z", false],
    ["first 01:30 (EDT)", repeated, NY, "2025-11-02T05:30:00Z", true],
    ["second 01:30 (EST)", repeated, NY, "2025-11-02T06:30:00Z", true],
    ["02:00 EST", repeated, NY, "2025-11-02T07:00:00Z", false],
    [
      "window ending 01:30 closes in the first pass",
      sunday(NY, "00:00", "01:30"),
      NY,
      "2025-11-02T05:45:00Z",
      false,
    ],
    [
      "... and reopens for the second 01:00-01:30",
      sunday(NY, "00:00", "01:30"),
      NY,
      "2025-11-02T06:15:00Z",
      true,
    ],
  ];
  for (const [label, s, zone, t, expected] of cases)
    assert.equal(isOpenAt(s, [zone], at(t)), expected, label);
  assert.equal(iso(nextOpenTime(repeated, [NY], at("2025-11-02T04:00:00Z"))), "2025-11-02T05:00:00.000Z");
  assert.equal(
    iso(nextOpenTime(sunday(NY, "00:00", "01:30"), [NY], at("2025-11-02T05:30:00Z"))),
    "2025-11-02T06:00:00.000Z",
  );
  assert.equal(
    iso(nextOpenTime(sunday(NY, "01:30", "03:00"), [NY], at("2025-11-02T06:00:00Z"))),
    "2025-11-02T06:30:00.000Z",
  );
});

// London: 2025-03-30 01:00 GMT -> 02:00 BST (01:00Z); 2025-10-26 02:00 BST -> 01:00 GMT (01:00Z).
test("Europe/London spring-forward and fall-back days", () => {
  const skipped = sunday(LONDON, "01:00", "02:00");
  assert.equal(iso(nextOpenTime(skipped, [LONDON], at("2025-03-30T00:00:00Z"))), "2025-04-06T00:00:00.000Z");
  const straddle = sunday(LONDON, "01:30", "03:00");
  assert.equal(iso(nextOpenTime(straddle, [LONDON], at("2025-03-30T00:00:00Z"))), "2025-03-30T01:00:00.000Z");
  assert.equal(isOpenAt(straddle, [LONDON], at("2025-03-30T01:59:59.999Z")), true);
  assert.equal(isOpenAt(straddle, [LONDON], at("2025-03-30T02:00:00Z")), false);

  const repeated = sunday(LONDON, "01:00", "02:00");
  assert.equal(isOpenAt(repeated, [LONDON], at("2025-10-25T23:59:59.999Z")), false);
  assert.equal(isOpenAt(repeated, [LONDON], at("2025-10-26T00:00:00Z")), true);
  assert.equal(isOpenAt(repeated, [LONDON], at("2025-10-26T01:30:00Z")), true);
  assert.equal(isOpenAt(repeated, [LONDON], at("2025-10-26T02:00:00Z")), false);
  assert.equal(iso(nextOpenTime(repeated, [LONDON], at("2025-10-26T00:30:00Z"))), "2025-10-26T00:30:00.000Z");
});

test("localParts across transitions", () => {
  const first = localParts(NY, at("2025-11-02T05:30:00Z"));
  const second = localParts(NY, at("2025-11-02T06:30:00Z"));
  assert.deepEqual([first.hour, first.minute, first.offsetMs / 3_600_000], [1, 30, -4]);
  assert.deepEqual([second.hour, second.minute, second.offsetMs / 3_600_000], [1, 30, -5]);
  assert.equal(first.date, "2025-11-02");
  assert.equal(first.weekday, "sun");
  const spring = localParts(NY, at("2025-03-09T07:00:00Z"));
  assert.deepEqual([spring.hour, spring.minute], [3, 0]);
  const ms = localParts("Asia/Kathmandu", at("2025-01-01T00:00:00.250Z"));
  assert.deepEqual([ms.hour, ms.minute, ms.millisecond, ms.date], [5, 45, 250, "2025-01-01"]);
});
