import type { ErrorDetail } from "../errors/index.ts";
import { isValidTimeZone } from "../schedule/zone.ts";

export const LIMITS = {
  metadataKeys: 50,
  metadataKeyLength: 40,
  metadataStringLength: 500,
  metadataBytes: 8 * 1024,
  dataBytes: 16 * 1024,
  batchJobs: 10_000,
  bodyBytes: 10 * 1024 * 1024,
  shortText: 200,
  longText: 20_000,
  /** Levels of nested objects and arrays in a JSON value (a body, Metadata, Data, a schema). */
  jsonDepth: 64,
} as const;

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Characters as people count them (code points): an emoji is one, though JavaScript's length says 2. */
const characters = (s: string): number => [...s].length;

/** Whether a string has more than `max` characters; most strings are decided by their length alone. */
export const longerThan = (s: string, max: number): boolean => s.length > max && characters(s) > max;

export function checkMetadata(value: unknown, path: string, out: ErrorDetail[]): void {
  if (!isPlainObject(value)) {
    out.push({ Path: path, Message: 'must be a JSON object of non-PII values, e.g. {"zip": "94110"}.' });
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > LIMITS.metadataKeys) {
    out.push({ Path: path, Message: `has ${keys.length} keys; at most ${LIMITS.metadataKeys} are allowed.` });
  }
  for (const k of keys) {
    if (k.length === 0 || longerThan(k, LIMITS.metadataKeyLength)) {
      out.push({
        Path: `${path}/${escapePointer(k)}`,
        Message: `keys must be 1 to ${LIMITS.metadataKeyLength} characters long.`,
      });
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > LIMITS.metadataBytes) {
    out.push({
      Path: path,
      Message: `is ${bytes} bytes as JSON; the limit is ${LIMITS.metadataBytes} (8 KiB).`,
    });
    return;
  }
  // Every string, nested ones too (within the 8 KiB just checked, so the walk is short).
  for (const { value: v, path: p } of jsonNodes(value, path)) {
    if (typeof v === "string" && longerThan(v, LIMITS.metadataStringLength)) {
      out.push({
        Path: p,
        Message: `is ${characters(v)} characters long; string values are limited to ${LIMITS.metadataStringLength}.`,
      });
    }
  }
}

export function checkData(value: unknown, path: string, out: ErrorDetail[]): void {
  if (value === null) return;
  if (!isPlainObject(value)) {
    out.push({ Path: path, Message: 'must be a JSON object (or null), e.g. {"invoice_id": "A-17"}.' });
    return;
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > LIMITS.dataBytes) {
    out.push({
      Path: path,
      Message: `is ${bytes} bytes as JSON; the limit is ${LIMITS.dataBytes} (16 KiB).`,
    });
  }
}

export function checkText(
  value: unknown,
  path: string,
  out: ErrorDetail[],
  /** notBlank: a blank string is refused (null says "none"; "" would be sent on as a value). */
  opts: { nullable?: boolean; max?: number; required?: boolean; notBlank?: boolean } = {},
): void {
  if (value === undefined) {
    if (opts.required) out.push({ Path: path, Message: "is required." });
    return;
  }
  if (value === null) {
    if (!opts.nullable) out.push({ Path: path, Message: "must be a string, not null." });
    return;
  }
  if (typeof value !== "string") {
    out.push({ Path: path, Message: `must be a string${opts.nullable ? " or null" : ""}.` });
    return;
  }
  const max = opts.max ?? LIMITS.shortText;
  if (longerThan(value, max)) out.push({ Path: path, Message: `is longer than ${max} characters.` });
  if (opts.required && value.trim() === "") out.push({ Path: path, Message: "must not be empty." });
  else if (opts.notBlank && value.trim() === "")
    out.push({ Path: path, Message: "must not be blank: give a value, or null for none." });
}

export function checkBoolean(value: unknown, path: string, out: ErrorDetail[], nullable = false): void {
  if (value === undefined || (nullable && value === null)) return;
  if (typeof value !== "boolean") {
    out.push({ Path: path, Message: `must be true or false${nullable ? " (or null)" : ""}.` });
  }
}

export function checkTimeZone(value: unknown, path: string, out: ErrorDetail[], nullable = true): void {
  if (value === undefined || (nullable && value === null)) return;
  if (!isValidTimeZone(value)) {
    out.push({ Path: path, Message: 'must be an IANA time zone such as "America/New_York".' });
  }
}

export function checkUnknownFields(
  value: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  out: ErrorDetail[],
): void {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) {
      out.push({
        Path: `${path}/${escapePointer(k)}`,
        Message: `is not a known field; the fields are ${allowed.join(", ")} (names are PascalCase).`,
      });
    }
  }
}

export const escapePointer = (k: string): string => k.replaceAll("~", "~0").replaceAll("/", "~1");

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** PostgreSQL text and jsonb refuse NUL characters and unpaired surrogates. */
export const storableText = (s: string): boolean => !s.includes("\u0000") && !LONE_SURROGATE.test(s);

/**
 * Checks that a parsed JSON value can be stored and measured: no string (key or value) PostgreSQL
 * refuses, and no nesting deeper than LIMITS.jsonDepth. It walks without recursion, since JSON.parse
 * accepts nesting that a recursive walk (JSON.stringify, to measure sizes) overflows the stack on.
 * Reports the first problem; false when there was one.
 */
export function checkStorable(value: unknown, path: string, out: ErrorDetail[]): boolean {
  for (const { value: v, path: p, depth } of jsonNodes(value, path)) {
    if (typeof v === "string") {
      if (storableText(v)) continue;
      out.push({
        Path: p,
        Message:
          "holds a NUL character (\\u0000) or a lone surrogate (\\ud800-\\udfff), which cannot be stored.",
      });
      return false;
    }
    if (typeof v !== "object" || v === null) continue;
    if (depth >= LIMITS.jsonDepth) {
      out.push({ Path: p, Message: `is nested more than ${LIMITS.jsonDepth} levels deep.` });
      return false;
    }
    for (const k of Object.keys(v)) {
      if (storableText(k)) continue;
      out.push({
        Path: `${p}/${escapePointer(k)}`,
        Message: "is a key holding a NUL character or a lone surrogate, which cannot be stored.",
      });
      return false;
    }
  }
  return true;
}

/**
 * Every value of a JSON document with its JSON pointer (under `path`) and depth, the document first.
 * Without recursion: JSON.parse accepts nesting deeper than the call stack. A caller that stops
 * early (a document nested too deep) stops the walk.
 */
function* jsonNodes(root: unknown, path: string): Generator<{ value: unknown; path: string; depth: number }> {
  const stack = [{ value: root, path, depth: 0 }];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    yield n;
    if (n.value === null || typeof n.value !== "object") continue;
    for (const [k, x] of Object.entries(n.value))
      stack.push({ value: x, path: `${n.path}/${escapePointer(k)}`, depth: n.depth + 1 });
  }
}

/**
 * A simulated contact's turns: strings, each at most `SIM_REPLY_MAX_CHARS` (about two minutes of
 * speech), at most `SIM_REPLIES_MAX` of them. Each turn is parsed on the process's one thread with
 * every other call and request, at a cost that grows faster than its length.
 */
export const SIM_REPLY_MAX_CHARS = 2000;
export const SIM_REPLIES_MAX = 1000;

/** Why `replies` cannot be a simulated contact's turns, or null when they can. */
export function repliesProblem(replies: unknown): string | null {
  if (!Array.isArray(replies) || !replies.every((r) => typeof r === "string"))
    return 'must be an array of strings, turn by turn ("<silence>" and "<hangup>" are special).';
  if (replies.length > SIM_REPLIES_MAX) return `must hold at most ${SIM_REPLIES_MAX} turns.`;
  if (replies.some((r) => longerThan(r, SIM_REPLY_MAX_CHARS)))
    return `must hold turns of at most ${SIM_REPLY_MAX_CHARS} characters each.`;
  return null;
}
