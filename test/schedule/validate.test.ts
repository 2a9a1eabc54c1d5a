import assert from "node:assert/strict";
import { test } from "node:test";
import { validateSchedule } from "../../src/schedule/index.ts";

const valid = {
  TimeZone: "America/New_York",
  Windows: [
    { Days: ["mon", "tue"], Start: "09:00", End: "17:00" },
    { Days: ["sat"], Start: "00:00", End: "24:00" },
  ],
  BlackoutDates: ["2025-12-25", "2024-02-29"],
};

const paths = (s: unknown) => validateSchedule(s).map((i) => i.Path);

test("a valid schedule has no issues", () => {
  assert.deepEqual(validateSchedule(valid), []);
  assert.deepEqual(validateSchedule({ ...valid, Windows: [], BlackoutDates: [] }), []);
});

test("invalid inputs are reported at JSON-pointer paths", () => {
  const cases: Array<[string, unknown, string[]]> = [
    ["not an object", null, [""]],
    ["unknown zone", { ...valid, TimeZone: "Mars/Olympus" }, ["/TimeZone"]],
    ["offset is not IANA", { ...valid, TimeZone: "+02:00" }, ["/TimeZone"]],
    ["missing zone", { ...valid, TimeZone: undefined }, ["/TimeZone"]],
    ["Windows not array", { ...valid, Windows: {} }, ["/Windows"]],
    ["window not object", { ...valid, Windows: ["9-5"] }, ["/Windows/0"]],
    ["empty Days", { ...valid, Windows: [{ Days: [], Start: "09:00", End: "10:00" }] }, ["/Windows/0/Days"]],
    [
      "unknown and duplicate days",
      { ...valid, Windows: [{ Days: ["mon", "Monday", "mon"], Start: "09:00", End: "10:00" }] },
      ["/Windows/0/Days/1", "/Windows/0/Days/2"],
    ],
    [
      "bad Start",
      { ...valid, Windows: [{ Days: ["mon"], Start: "9:00", End: "10:00" }] },
      ["/Windows/0/Start"],
    ],
    [
      "Start 24:00",
      { ...valid, Windows: [{ Days: ["mon"], Start: "24:00", End: "24:00" }] },
      ["/Windows/0/Start"],
    ],
    [
      "End 24:01",
      { ...valid, Windows: [{ Days: ["mon"], Start: "09:00", End: "24:01" }] },
      ["/Windows/0/End"],
    ],
    [
      "End 12:60",
      { ...valid, Windows: [{ Days: ["mon"], Start: "09:00", End: "12:60" }] },
      ["/Windows/0/End"],
    ],
    [
      "Start == End",
      { ...valid, Windows: [{ Days: ["mon"], Start: "09:00", End: "09:00" }] },
      ["/Windows/0/End"],
    ],
    [
      "Start > End",
      { ...valid, Windows: [{ Days: ["mon"], Start: "22:00", End: "06:00" }] },
      ["/Windows/0/End"],
    ],
    ["BlackoutDates missing", { ...valid, BlackoutDates: undefined }, ["/BlackoutDates"]],
    [
      "impossible dates",
      { ...valid, BlackoutDates: ["2025-02-29", "2025-13-01", "2025-1-01", 20250101, "2025-12-25"] },
      ["/BlackoutDates/0", "/BlackoutDates/1", "/BlackoutDates/2", "/BlackoutDates/3"],
    ],
  ];
  for (const [name, input, expected] of cases) assert.deepEqual(paths(input), expected, name);
});

test("messages tell how to fix the input", () => {
  const [cross] = validateSchedule({ ...valid, Windows: [{ Days: ["mon"], Start: "22:00", End: "06:00" }] });
  assert.match(cross!.Message, /split/);
  assert.match(cross!.Message, /24:00/);
  const [zone] = validateSchedule({ ...valid, TimeZone: "EST-ish" });
  assert.match(zone!.Message, /America\/New_York/);
  const [day] = validateSchedule({ ...valid, Windows: [{ Days: ["Mon"], Start: "09:00", End: "10:00" }] });
  assert.match(day!.Message, /"mon"/);
  const [date] = validateSchedule({ ...valid, BlackoutDates: ["12/25/2025"] });
  assert.match(date!.Message, /YYYY-MM-DD/);
});
