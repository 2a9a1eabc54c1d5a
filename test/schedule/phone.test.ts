import assert from "node:assert/strict";
import { test } from "node:test";
import { contactZones, primaryZone, zonesForPhoneNumber } from "../../src/schedule/index.ts";

test("zonesForPhoneNumber: US geographic numbers map to one zone", () => {
  assert.deepEqual(zonesForPhoneNumber("+14155550123"), ["America/Los_Angeles"]);
  assert.deepEqual(zonesForPhoneNumber("+12125551234"), ["America/New_York"]);
  assert.deepEqual(zonesForPhoneNumber("+442071234567"), ["Europe/London"]);
});

test("zonesForPhoneNumber: longest prefix wins, several zones for a split area code", () => {
  assert.deepEqual(zonesForPhoneNumber("+17755551234"), ["America/Boise", "America/Los_Angeles"]);
});

test("zonesForPhoneNumber: toll-free numbers fall back to the whole country prefix", () => {
  const zones = zonesForPhoneNumber("+18005551234");
  assert.ok(zones.length >= 35, `expected ~40 zones, got ${zones.length}`);
  for (const z of ["America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Guam"]) {
    assert.ok(zones.includes(z), z);
  }
});

test("zonesForPhoneNumber: tolerates separators, rejects non-E.164 input", () => {
  assert.deepEqual(zonesForPhoneNumber("+1 (212) 555-1234"), ["America/New_York"]);
  assert.deepEqual(zonesForPhoneNumber("12125551234"), []);
  assert.deepEqual(zonesForPhoneNumber("+1212555x1234"), []);
  assert.deepEqual(zonesForPhoneNumber(""), []);
  assert.deepEqual(zonesForPhoneNumber("+"), []);
  assert.deepEqual(zonesForPhoneNumber("+999123"), []);
});

test("zonesForPhoneNumber: returned arrays are copies", () => {
  const a = zonesForPhoneNumber("+12125551234");
  a.push("Mutated/Zone");
  assert.deepEqual(zonesForPhoneNumber("+12125551234"), ["America/New_York"]);
});

test("zonesForPhoneNumber: fast when warm (sanity bound, not a benchmark)", () => {
  const numbers = ["+14155550123", "+18005551234", "+442071234567", "+8613812345678"];
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) zonesForPhoneNumber(numbers[i & 3]!);
  const perSecond = n / ((performance.now() - t0) / 1000);
  assert.ok(perSecond > 1_000_000, `${Math.round(perSecond)} lookups/s`);
});

test("contactZones: job TimeZone, else phone zones, else schedule TimeZone", () => {
  const base = { scheduleTimeZone: "America/Chicago" };
  assert.deepEqual(contactZones({ ...base, jobTimeZone: "Europe/London", phoneNumber: "+12125551234" }), [
    "Europe/London",
  ]);
  assert.deepEqual(contactZones({ ...base, jobTimeZone: null, phoneNumber: "+12125551234" }), [
    "America/New_York",
  ]);
  assert.deepEqual(contactZones({ ...base, jobTimeZone: null, phoneNumber: "+999123" }), ["America/Chicago"]);
  assert.deepEqual(contactZones({ ...base, jobTimeZone: null, phoneNumber: null }), ["America/Chicago"]);
  assert.deepEqual(contactZones({ ...base, jobTimeZone: "", phoneNumber: null }), ["America/Chicago"]);
});

test("primaryZone: the only zone; over several, the campaign's zone when among them, else the first", () => {
  const tollFree = zonesForPhoneNumber("+18005550100");
  assert.equal(tollFree[0], "America/Adak");
  assert.equal(primaryZone(tollFree, "America/New_York"), "America/New_York");
  assert.equal(primaryZone(tollFree, "Europe/Paris"), "America/Adak");
  assert.equal(primaryZone(["Europe/Paris"], "America/New_York"), "Europe/Paris");
  assert.equal(primaryZone([], "America/New_York"), "America/New_York");
});
