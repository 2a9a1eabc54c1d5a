/**
 * Prints the phone-number prefix -> zone rows of src/store/migrations/0004_analytics.sql (the block
 * between its "phone zones" markers), from the library data src/analytics/phoneZones.ts reads:
 * `node --import tsx bench/analytics/phoneZonesSql.ts`. A new migration, not an edit of 0004, should
 * carry changed rows to databases already migrated (recreate `analytics_phone_zones()` from them).
 */
import { phoneZoneGroups } from "../../src/analytics/phoneZones.ts";

const WIDTH = 100;

/** An array literal wrapped at WIDTH (whitespace around elements is ignored by the array parser). */
function arrayLiteral(items: string[]): string {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    if (line !== "" && line.length + item.length + 1 > WIDTH) {
      lines.push(`${line},`);
      line = "";
    }
    line = line === "" ? item : `${line},${item}`;
  }
  lines.push(line);
  return `'{${lines.join("\n    ")}}'`;
}

const rows = phoneZoneGroups().map(({ zone, prefixes }) => `  ('${zone}', ${arrayLiteral(prefixes)})`);
process.stdout.write(`${rows.join(",\n")}\n`);
