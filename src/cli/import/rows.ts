import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { parseJobInput } from "../../domain/jobInput.ts";
import { checkStorable, LIMITS, longerThan } from "../../domain/limits.ts";
import type { ErrorDetail } from "../../errors/index.ts";

/**
 * Turns the records of an import file into job inputs as the API takes them (the same object a
 * `POST /v1/campaigns/{Id}/jobs` body holds), or into a rejection for rows that cannot even be read.
 * Validation proper (phone number, limits, ...) is Cobbery's, on the way in.
 */

export type ImportFormat = "csv" | "ndjson";

export class ImportFileError extends Error {
  override name = "ImportFileError";
}

/** By extension; otherwise by the first character that is not blank (`{` = NDJSON). */
export function detectFormat(file: string): ImportFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".ndjson" || ext === ".jsonl") return "ndjson";
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf
      .subarray(0, n)
      .toString("utf8")
      .replace(/^\uFEFF/, "");
    return head.trimStart().startsWith("{") ? "ndjson" : "csv";
  } finally {
    closeSync(fd);
  }
}

/** What a row turned into: a job input to send, or the reasons it was rejected here. */
export type RowOutcome = { ok: true; input: Record<string, unknown> } | { ok: false; details: ErrorDetail[] };

const PLAIN_COLUMNS = [
  "PhoneNumber",
  "ContactName",
  "TimeZone",
  "TestJob",
  "ExternalId",
  "HangupOptOut",
] as const;
type PlainColumn = (typeof PLAIN_COLUMNS)[number];

type Column =
  | { kind: "plain"; name: PlainColumn }
  | { kind: "metadata"; key: string }
  | { kind: "data"; key: string };

export const ALLOWED_COLUMNS_TEXT = `${PLAIN_COLUMNS.join(", ")}, metadata.<key>, data.<key>`;

/** Reads a CSV header; throws ImportFileError naming every column it cannot take. */
export function csvColumns(header: string[]): Column[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  let known = 0;
  const columns = header.map((raw, i): Column => {
    const name = raw.trim();
    if (seen.has(name)) problems.push(`column ${i + 1} "${name}" appears twice`);
    seen.add(name);
    if ((PLAIN_COLUMNS as readonly string[]).includes(name)) {
      known++;
      return { kind: "plain", name: name as PlainColumn };
    }
    const m = /^(metadata|data)\.(.*)$/.exec(name);
    if (m) {
      known++;
      const key = m[2]!;
      if (key === "") problems.push(`column ${i + 1} "${name}" has no key after the dot`);
      else if (m[1] === "metadata" && longerThan(key, LIMITS.metadataKeyLength)) {
        problems.push(`column ${i + 1}: Metadata keys are at most ${LIMITS.metadataKeyLength} characters`);
      }
      return { kind: m[1] as "metadata" | "data", key };
    }
    problems.push(
      name === "" ? `column ${i + 1} has no name` : `column ${i + 1} "${name}" is not a known column`,
    );
    return { kind: "plain", name: "PhoneNumber" };
  });
  if (problems.length === 0 && !seen.has("PhoneNumber")) problems.push("the PhoneNumber column is missing");
  // A file without a header line has a contact's number, name and email where the names should be:
  // when no column is known, the first line is not quoted back (reports never show a row's content).
  if (known === 0) {
    problems.length = 0;
    problems.push("none of its names is a known column: is the first line a header? (it is not shown)");
  }
  if (problems.length > 0) {
    throw new ImportFileError(
      `The CSV header is not usable: ${problems.join("; ")}. Allowed columns: ${ALLOWED_COLUMNS_TEXT} (names are case-sensitive). Nothing was imported.`,
    );
  }
  return columns;
}

const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

function csvBoolean(cell: string): boolean | null | undefined {
  const v = cell.trim().toLowerCase();
  if (v === "") return null;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

/** One CSV record as a job input. Empty cells leave their field (or Metadata/Data key) out. */
export function csvRow(columns: readonly Column[], fields: readonly string[]): RowOutcome {
  if (fields.length !== columns.length) {
    return {
      ok: false,
      details: [
        { Path: "", Message: `has ${fields.length} fields but the header has ${columns.length} columns.` },
      ],
    };
  }
  const input: Record<string, unknown> = {};
  let metadata: Record<string, string> | undefined;
  let data: Record<string, string> | undefined;
  let badBooleans: ErrorDetail[] | undefined;
  for (let i = 0; i < columns.length; i++) {
    const cell = fields[i]!;
    if (cell === "") continue;
    const col = columns[i]!;
    if (col.kind === "metadata") {
      metadata ??= {};
      metadata[col.key] = cell;
    } else if (col.kind === "data") {
      data ??= {};
      data[col.key] = cell;
    } else if (col.name === "TestJob" || col.name === "HangupOptOut") {
      const b = csvBoolean(cell);
      if (b === undefined) {
        badBooleans ??= [];
        badBooleans.push({
          Path: `/${col.name}`,
          Message: "must be true or false (also accepted: 1/0, yes/no; empty means false).",
        });
      } else if (b !== null) input[col.name] = b;
    } else input[col.name] = cell;
  }
  if (metadata) input.Metadata = metadata;
  if (data) input.Data = data;
  if (badBooleans) {
    // Report the row's other problems too, in one go (rare rows: validating twice costs nothing).
    const other = parseJobInput(input, "");
    return { ok: false, details: [...badBooleans, ...(other.ok ? [] : other.details)] };
  }
  return { ok: true, input };
}

/** One NDJSON line as a job input: any JSON object goes on to validation; other lines are rejected. */
export function ndjsonRow(line: string): RowOutcome {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    // The parser's own message quotes the line: never echo it (it may hold PII), only where it broke.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    return {
      ok: false,
      details: [
        {
          Path: "",
          Message: `is not valid JSON${at ? ` (at character ${Number(at) + 1})` : ""}: each line must be one job as a JSON object.`,
        },
      ],
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      details: [{ Path: "", Message: 'must be a JSON object such as {"PhoneNumber": "+14155550123"}.' }],
    };
  }
  const details: ErrorDetail[] = [];
  if (!checkStorable(value, "", details)) return { ok: false, details };
  return { ok: true, input: value as Record<string, unknown> };
}

/**
 * What makes a record's text unusable, or null: a NUL character (PostgreSQL cannot store it) or,
 * when `notUtf8` says the bytes it was read from were not all UTF-8, the U+FFFD they decoded to (a
 * file saved in another encoding, such as a spreadsheet's Latin-1 CSV, would otherwise be stored
 * with its accented letters replaced).
 */
export function textProblem(texts: readonly string[], notUtf8: boolean): string | null {
  for (const t of texts) {
    if (t.includes("\u0000")) return "holds a NUL character, which cannot be stored.";
    if (notUtf8 && t.includes("\uFFFD"))
      return 'is not UTF-8 text: save the file as UTF-8 (in a spreadsheet, "CSV UTF-8") and import it again.';
  }
  return null;
}
