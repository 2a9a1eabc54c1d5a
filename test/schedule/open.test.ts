import assert from "node:assert/strict";
import { test } from "node:test";
import {
  contactZones,
  isAnyTime,
  isOpenAt,
  nextOpenTime,
  resolveNextOpen,
  zonesForPhoneNumber,
} from "../../src/schedule/index.ts";
import { ALL_DAYS, at, iso, schedule, WEEKDAYS_MON_FRI } from "./helpers.ts";

const NY = "America/New_York";
// 2025-03-03 is a Monday; New York is on EST (UTC-5) until 2025-03-09.
const nyOffice = schedule(NY, [[WEEKDAYS_MON_FRI, "09:00", "17:00"]]);

test("New York weekday window: nextOpenTime table", () => {
  const cases: Array<[string, string, string]> = [
    ["before opening", "2025-03-03T13:59:59.999Z", "2025-03-03T14:00:00.000Z"],
    ["inside keeps ms precision", "2025-03-03T14:30:00.123Z", "2025-03-03T14:30:00.123Z"],
    ["End is exclusive", "2025-03-03T22:00:00.000Z", "2025-03-04T14:00:00.000Z"],
    ["last open ms", "2025-03-03T21:59:59.999Z", "2025-03-03T21:59:59.999Z"],
    ["Friday evening -> Monday, across spring-forward", "2025-03-07T22:30:00Z", "2025-03-10T13:00:00.000Z"],
  ];
  for (const [name, from, expected] of cases) {
    assert.equal(iso(nextOpenTime(nyOffice, [NY], at(from))), expected, name);
  }
});

test("weekend closed", () => {
  assert.equal(isOpenAt(nyOffice, [NY], at("2025-03-08T15:00:00Z")), false);
  assert.equal(isOpenAt(nyOffice, [NY], at("2025-03-09T15:00:00Z")), false);
  assert.equal(isOpenAt(nyOffice, [NY], at("2025-03-07T15:00:00Z")), true);
});

test("blackout date skips the whole local day", () => {
  const s = schedule(NY, [[WEEKDAYS_MON_FRI, "09:00", "17:00"]], ["2025-03-04"]);
  assert.equal(isOpenAt(s, [NY], at("2025-03-04T15:00:00Z")), false);
  assert.equal(iso(nextOpenTime(s, [NY], at("2025-03-03T22:00:00Z"))), "2025-03-05T14:00:00.000Z");
});

test("blackout dates follow the contact's local calendar, not UTC", () => {
  const s = schedule("UTC", [[ALL_DAYS, "00:00", "24:00"]], ["2025-03-04"]);
  const tokyo = ["Asia/Tokyo"]; // UTC+9: 2025-03-04 local = 2025-03-03T15:00Z .. 2025-03-04T15:00Z
  assert.equal(isOpenAt(s, tokyo, at("2025-03-03T14:59:59.999Z")), true);
  assert.equal(isOpenAt(s, tokyo, at("2025-03-03T15:00:00Z")), false);
  assert.equal(iso(nextOpenTime(s, tokyo, at("2025-03-03T15:00:00Z"))), "2025-03-04T15:00:00.000Z");
});

test('End "24:00" runs to local midnight and joins the next day\'s 00:00 window', () => {
  const s = schedule(NY, [
    [["fri"], "18:00", "24:00"],
    [["sat"], "00:00", "02:00"],
  ]);
  // Friday 2025-03-07 EST: 18:00 = 23:00Z, midnight = 05:00Z Saturday.
  assert.equal(isOpenAt(s, [NY], at("2025-03-08T04:59:59.999Z")), true);
  assert.equal(isOpenAt(s, [NY], at("2025-03-08T05:00:00Z")), true);
  assert.equal(isOpenAt(s, [NY], at("2025-03-08T07:00:00Z")), false);
  const only = schedule(NY, [[["fri"], "18:00", "24:00"]]);
  assert.equal(isOpenAt(only, [NY], at("2025-03-08T04:59:59.999Z")), true);
  assert.equal(isOpenAt(only, [NY], at("2025-03-08T05:00:00Z")), false);
  assert.equal(iso(nextOpenTime(only, [NY], at("2025-03-07T12:00:00Z"))), "2025-03-07T23:00:00.000Z");
});

test("isAnyTime", () => {
  assert.equal(isAnyTime(schedule(NY, [[ALL_DAYS, "00:00", "24:00"]])), true);
  // Split windows that still cover every minute mean the same thing.
  assert.equal(
    isAnyTime(
      schedule(NY, [
        [ALL_DAYS, "00:00", "12:00"],
        [ALL_DAYS, "12:00", "24:00"],
      ]),
    ),
    true,
  );
  assert.equal(isAnyTime(schedule(NY, [[ALL_DAYS, "00:00", "24:00"]], ["2025-12-25"])), false);
  assert.equal(isAnyTime(schedule(NY, [[WEEKDAYS_MON_FRI, "00:00", "24:00"]])), false);
  assert.equal(isAnyTime(schedule(NY, [[ALL_DAYS, "00:00", "23:59"]])), false);
  const any = schedule(NY, [[ALL_DAYS, "00:00", "24:00"]]);
  const from = at("2025-03-09T07:30:00.5Z");
  assert.equal(iso(nextOpenTime(any, ["Pacific/Guam", NY], from)), from.toISOString());
  assert.equal(isOpenAt(any, [NY], from), true);
});

test("nextOpenTime is null with no windows or everything blacked out within the horizon", () => {
  assert.equal(nextOpenTime(schedule(NY, []), [NY], at("2025-03-03T00:00:00Z")), null);
  assert.equal(nextOpenTime(schedule(NY, [[["mon"], "10:00", "09:00"]]), [NY], at("2025-03-03Z")), null);
  const mondays = (n: number) =>
    Array.from({ length: n }, (_, i) => new Date(Date.UTC(2025, 2, 3 + 7 * i)).toISOString().slice(0, 10));
  const from = at("2025-03-03T00:00:00Z");
  assert.equal(nextOpenTime(schedule(NY, [[["mon"], "09:00", "10:00"]], mondays(60)), [NY], from), null);
  // With 50 Mondays blacked out the 51st Monday (2026-02-16, EST) is found.
  const r = nextOpenTime(schedule(NY, [[["mon"], "09:00", "10:00"]], mondays(50)), [NY], from);
  assert.equal(iso(r), "2026-02-16T14:00:00.000Z");
});

test("several zones: open only when open in all of them", () => {
  const zones = zonesForPhoneNumber("+17755551234"); // Boise (UTC-7) and Los Angeles (UTC-8)
  // Mountain 09-17 = 16:00Z-24:00Z, Pacific 09-17 = 17:00Z-01:00Z on Monday 2025-03-03.
  assert.equal(isOpenAt(nyOffice, zones, at("2025-03-03T16:30:00Z")), false);
  assert.equal(isOpenAt(nyOffice, zones, at("2025-03-03T23:30:00Z")), true);
  assert.equal(isOpenAt(nyOffice, zones, at("2025-03-04T00:30:00Z")), false);
  const r = resolveNextOpen(nyOffice, zones, at("2025-03-03T16:00:00Z"));
  assert.equal(iso(r?.at ?? null), "2025-03-03T17:00:00.000Z");
  assert.equal(r?.fellBack, false);
  assert.equal(
    iso(nextOpenTime(nyOffice, [NY, "America/Los_Angeles"], at("2025-03-03T14:00:00Z"))),
    "2025-03-03T17:00:00.000Z",
  );
});

test("7-day fallback: toll-free number's zones never share an open minute", () => {
  const zones = zonesForPhoneNumber("+18005551234"); // Guam (UTC+10) .. Pago Pago (UTC-11)
  const from = at("2025-03-03T12:00:00Z");
  const r = resolveNextOpen(nyOffice, zones, from);
  assert.deepEqual(r, { at: at("2025-03-03T14:00:00Z"), zones: [NY], fellBack: true });
  assert.equal(iso(nextOpenTime(nyOffice, zones, from)), "2025-03-03T14:00:00.000Z");
  // isOpenAt applies the all-zones rule strictly, without the fallback.
  assert.equal(isOpenAt(nyOffice, zones, at("2025-03-03T14:00:00Z")), false);
});

test("7-day fallback also applies when the intersection only opens after 7 days", () => {
  // Mondays 09-10 local in New York and in Tokyo never overlap; the fallback takes New York alone.
  const s = schedule(NY, [[["mon"], "09:00", "10:00"]]);
  const r = resolveNextOpen(s, [NY, "Asia/Tokyo"], at("2025-03-04T00:00:00Z"));
  assert.equal(r?.fellBack, true);
  assert.equal(iso(r?.at ?? null), "2025-03-10T13:00:00.000Z");
});

test("the job's TimeZone overrides the phone number's zones", () => {
  const zones = contactZones({
    jobTimeZone: "Europe/London",
    phoneNumber: "+12125551234",
    scheduleTimeZone: NY,
  });
  assert.deepEqual(zones, ["Europe/London"]);
  // London 09:00 GMT on Monday 2025-03-03.
  assert.equal(iso(nextOpenTime(nyOffice, zones, at("2025-03-03T00:00:00Z"))), "2025-03-03T09:00:00.000Z");
});

test("no zones means Schedule.TimeZone; duplicate zones are a single zone", () => {
  assert.equal(iso(nextOpenTime(nyOffice, [], at("2025-03-03T00:00:00Z"))), "2025-03-03T14:00:00.000Z");
  assert.equal(isOpenAt(nyOffice, [], at("2025-03-03T14:00:00Z")), true);
  const r = resolveNextOpen(nyOffice, [NY, NY], at("2025-03-03T00:00:00Z"));
  assert.deepEqual(r, { at: at("2025-03-03T14:00:00Z"), zones: [NY], fellBack: false });
});

test("names of one zone (a UK mobile's London, Guernsey, Isle of Man) are a single zone: no 7-day fallback", () => {
  const uk = ["Europe/Guernsey", "Europe/Isle_of_Man", "Europe/London"];
  assert.deepEqual(zonesForPhoneNumber("+447911123456"), uk);
  // A week of blackout dates in the contact's calendar: with three zones counted, the 7-day fallback
  // used to move the call to Schedule.TimeZone and dial at 00:30 in London on a blacked-out day.
  const s = schedule(
    "America/Los_Angeles",
    [[["mon", "tue", "wed", "thu", "fri", "sat"], "09:00", "20:00"]],
    [
      "2025-12-24",
      "2025-12-25",
      "2025-12-26",
      "2025-12-27",
      "2025-12-28",
      "2025-12-29",
      "2025-12-30",
      "2025-12-31",
    ],
  );
  const r = resolveNextOpen(s, uk, at("2025-12-24T00:30:00Z"));
  assert.deepEqual(r, { at: at("2026-01-01T09:00:00Z"), zones: ["Europe/Guernsey"], fellBack: false });
  // Zones that really differ still intersect.
  const both = resolveNextOpen(s, ["Europe/London", "Europe/Paris"], at("2026-01-05T08:00:00Z"));
  assert.deepEqual(both?.zones, ["Europe/London", "Europe/Paris"]);
  assert.equal(iso(both?.at ?? null), "2026-01-05T09:00:00.000Z");
});
