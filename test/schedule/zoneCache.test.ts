import assert from "node:assert/strict";
import { test } from "node:test";
import { cachedZoneNames, isValidTimeZone, offsetAt, zoneNameCase } from "../../src/schedule/zone.ts";

/** The letter-case variants of a name, in order (bit i of n upper-cases letter i). */
function caseVariant(name: string, n: number): string {
  let bit = 0;
  return [...name]
    .map((ch) => (/[a-z]/i.test(ch) && (n >> bit++) & 1 ? ch.toUpperCase() : ch.toLowerCase()))
    .join("");
}

test("zone caches stay bounded however many distinct names clients send, and keep answering right", () => {
  for (let i = 0; i < 20_000; i++) assert.equal(isValidTimeZone(`Mars/Crater_${i}`), false);
  for (let i = 0; i < 6_000; i++) {
    const zone = caseVariant("america/los_angeles", i);
    assert.equal(isValidTimeZone(zone), true);
    assert.equal(zoneNameCase(zone), "America/Los_Angeles");
  }
  // Three caches of names as given, and one state per IANA zone (about 600).
  assert.ok(cachedZoneNames() <= 3 * 4096 + 1000, `${cachedZoneNames()} names cached`);
  // Emptied caches are filled again on demand: -8 h in a Los Angeles January, -5 h in New York.
  assert.equal(offsetAt("America/Los_Angeles", Date.UTC(2026, 0, 15)), -8 * 3600_000);
  assert.equal(offsetAt("America/New_York", Date.UTC(2026, 0, 15)), -5 * 3600_000);
  assert.equal(isValidTimeZone("Mars/Crater_1"), false);
});
