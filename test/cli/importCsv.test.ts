import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { CsvParser, type CsvRecord } from "../../src/cli/import/csv.ts";
import { csvColumns, csvRow, ndjsonRow } from "../../src/cli/import/rows.ts";

function parseAll(text: string, chunkSizes: number[] = [text.length || 1]): CsvRecord[] {
  const p = new CsvParser();
  const out: CsvRecord[] = [];
  let i = 0;
  let k = 0;
  while (i < text.length) {
    const size = Math.max(1, chunkSizes[k++ % chunkSizes.length]!);
    p.push(text.slice(i, i + size), (r) => out.push(r));
    i += size;
  }
  p.end((r) => out.push(r));
  return out;
}

test("quoted commas, doubled quotes, CRLF, BOM and line numbers", () => {
  const text = '\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"multi\nline",z\n3,,\n';
  const recs = parseAll(text);
  assert.deepEqual(
    recs.map((r) => [r.line, r.fields, r.problem]),
    [
      [1, ["a", "b", "c"], null],
      [2, ["1", "x, y", 'say "hi"'], null],
      [4, ["2", "multi\nline", "z"], null],
      [6, ["3", "", ""], null],
    ],
  );
  // The same text in one-character chunks (a CRLF split across chunks, a BOM alone in a chunk).
  assert.deepEqual(parseAll(text, [1]), recs);
});

test("a last line without a line break, a lone CR, and malformed quotes are reported, not thrown", () => {
  assert.deepEqual(
    parseAll("a,b\rc,d").map((r) => r.fields),
    [
      ["a", "b"],
      ["c", "d"],
    ],
  );
  const bad = parseAll('h\n"ab"c\nok\n"never closed\n');
  assert.deepEqual(
    bad.map((r) => r.line),
    [1, 2, 3, 4],
  );
  assert.match(bad[1]!.problem ?? "", /after a closing quote/);
  assert.deepEqual(bad[2]!.fields, ["ok"]);
  assert.equal(bad[2]!.problem, null);
  assert.match(bad[3]!.problem ?? "", /never closed/);
});

const field = fc.oneof(
  fc.string({ unit: fc.constantFrom("a", "b", " ", ",", '"', "\n", "\r", "é", "😀", "1") }),
  fc.string(),
);

test("property: any table written as CSV parses back to itself, in any chunking, like csv-parse", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 }),
      (rows, crlf, bom, finalNewline, chunks) => {
        const eol = crlf ? "\r\n" : "\n";
        const quote = (f: string, force: boolean) =>
          force || /[",\r\n]/.test(f) || f.startsWith('"') ? `"${f.replaceAll('"', '""')}"` : f;
        // A record holding one blank field would be a blank line, which is skipped: quote it.
        const lines = rows.map((r) => r.map((f) => quote(f, r.length === 1 && f.trim() === "")).join(","));
        const text = (bom ? "\uFEFF" : "") + lines.join(eol) + (finalNewline ? eol : "");
        const recs = parseAll(text, chunks);
        assert.deepEqual(
          recs.map((r) => r.fields),
          rows,
        );
        assert.ok(recs.every((r) => r.problem === null));
        // Each record starts after the line breaks of the records before it (LFs inside quotes count).
        let line = 1;
        rows.forEach((r, i) => {
          assert.equal(recs[i]!.line, line);
          line += 1 + r.join("").split("\n").length - 1;
        });
        const oracle = parse(text, { bom: true, relax_column_count: true }) as string[][];
        assert.deepEqual(
          recs.map((r) => r.fields),
          oracle,
        );
      },
    ),
    { numRuns: 500 },
  );
});

test("header: unknown, duplicate and missing columns are refused with the allowed list", () => {
  assert.throws(
    () => csvColumns(["PhoneNumber", "Phone", "metadata."]),
    (e: Error) => {
      assert.match(e.message, /"Phone" is not a known column/);
      assert.match(e.message, /no key after the dot/);
      assert.match(
        e.message,
        /Allowed columns: PhoneNumber, ContactName, TimeZone, TestJob, ExternalId, HangupOptOut, metadata.<key>, data.<key>/,
      );
      return true;
    },
  );
  assert.throws(() => csvColumns(["ContactName"]), /PhoneNumber column is missing/);
  assert.throws(() => csvColumns(["PhoneNumber", "PhoneNumber"]), /appears twice/);
  assert.throws(() => csvColumns(["PhoneNumber", `metadata.${"k".repeat(41)}`]), /at most 40 characters/);
  // Characters as the API counts them: 40 emoji are 40 characters (80 UTF-16 units).
  const emojiKey = "\u{1F600}".repeat(40);
  assert.deepEqual(csvColumns(["PhoneNumber", `metadata.${emojiKey}`])[1], {
    kind: "metadata",
    key: emojiKey,
  });
});

test("header: a file without one is refused without quoting its first row", () => {
  assert.throws(
    () => csvColumns(["+14155550101", "Jane Doe", "jane@example.com"]),
    (e: Error) => {
      assert.match(e.message, /none of its names is a known column: is the first line a header\?/);
      for (const cell of ["4155550101", "Jane", "jane@example.com"])
        assert.equal(e.message.includes(cell), false);
      return true;
    },
  );
});

test("rows: booleans, empty cells and Metadata/Data keys", () => {
  const cols = csvColumns([
    "PhoneNumber",
    "TestJob",
    "HangupOptOut",
    "ContactName",
    "metadata.zip",
    "data.acct",
  ]);
  assert.deepEqual(csvRow(cols, ["+14155550123", "YES", "0", "", "94110", ""]), {
    ok: true,
    input: { PhoneNumber: "+14155550123", TestJob: true, HangupOptOut: false, Metadata: { zip: "94110" } },
  });
  assert.deepEqual(csvRow(cols, ["+14155550123", "", "", "Ann", "", "A-1"]), {
    ok: true,
    input: { PhoneNumber: "+14155550123", ContactName: "Ann", Data: { acct: "A-1" } },
  });
  const bad = csvRow(cols, ["12", "maybe", "", "", "", ""]);
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.deepEqual(
      bad.details.map((d) => d.Path),
      ["/TestJob", "/PhoneNumber"],
    );
  }
  const short = csvRow(cols, ["+14155550123"]);
  assert.equal(short.ok, false);
});

test("NDJSON rows: invalid JSON and non-objects are rejected without echoing the line", () => {
  const r = ndjsonRow('{"PhoneNumber": "+14155550123", "ContactName": "Jane Secret"');
  assert.equal(r.ok, false);
  if (!r.ok) assert.doesNotMatch(JSON.stringify(r.details), /Jane|4155550123/);
  assert.equal(ndjsonRow("[1]").ok, false);
  assert.equal(ndjsonRow('{"PhoneNumber": "+14155550123", "ContactName": "a\\u0000b"}').ok, false);
  assert.equal(ndjsonRow('{"PhoneNumber": "+14155550123", "ContactName": "\\ud800"}').ok, false);
  assert.deepEqual(ndjsonRow('{"PhoneNumber": "+14155550123", "ContactName": "\\u00e9"}'), {
    ok: true,
    input: { PhoneNumber: "+14155550123", ContactName: "é" },
  });
});
