/**
 * CSV as RFC 4180 writes it (CRLF line ends; a field with a comma, a quote or a line break is quoted,
 * quotes doubled), with cells that a spreadsheet would run as a formula neutralised.
 */

/** A cell a spreadsheet reads as a formula: starts with =, +, -, @ (or a tab or carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Prefixes a text that would start a formula with a single quote, which spreadsheets show as text. */
export const escapeFormula = (s: string): string => (FORMULA_START.test(s) ? `'${s}` : s);

/**
 * One cell: null and undefined are empty; numbers as written (a JSON number is never a formula);
 * booleans as true/false; objects and arrays as JSON; text escaped against formulas.
 */
export function csvCell(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) return "";
  if (typeof v === "number" || typeof v === "bigint") s = String(v);
  else if (typeof v === "boolean") s = v ? "true" : "false";
  else if (typeof v === "string") s = escapeFormula(v);
  else s = escapeFormula(JSON.stringify(v));
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (cells: readonly unknown[]): string => `${cells.map(csvCell).join(",")}\r\n`;

export const toCsv = (rows: ReadonlyArray<readonly unknown[]>): string => rows.map(csvLine).join("");
