import { isSilence, normalize } from "./normalize.ts";
import { findNumbers } from "./numbers.ts";

/**
 * Phrases that mean a count without a number word. "just me" / "only me" / "only myself" / "I live
 * alone" mean 1: the answer to a "how many people…" question, the usual place for them; they do not
 * count when more people follow ("just me and my kids" is no number). "none", "zero", "nobody",
 * "no one" mean 0 ("nobody else" / "no one else" do not count: "just me, nobody else" is 1).
 */
const COUNT_PHRASES: ReadonlyArray<readonly [RegExp, number]> = [
  [/\b(?:just|only) (?:me|myself)\b(?! (?:and|plus|with)\b)/, 1],
  [/\b(?:i live|me|myself) alone\b/, 1],
  [/\b(?:none|nobody|noone|zero)\b(?! else\b)/, 0],
];

/** "me and my two kids", "three kids plus me": a count to add up, so no number is read. */
const ME_AND = /\b(?:me|myself|i) (?:and|plus)\b|\b(?:and|plus) (?:me|myself)\b/;

/** Ordinals ("3rd", "21st") and clock times ("5:30") are not counts. */
const NOT_A_COUNT = /^\d+(?:st|nd|rd|th)$|:/;

/**
 * The one number in an answer: digits ("3", "3.5", "1,200", "-2", "30k") or words ("twenty-one",
 * "a hundred and five", "a couple", "a dozen"), with any words around it ("there are four of us",
 * "about 5 people"). A count the contact leaves to add up ("me and my two kids") is null. Several different numbers ("three or four") or none give null; the same number
 * said twice ("four, four") is that number.
 */
export function parseNumber(text: string): number | null {
  if (isSilence(text)) return null;
  const norm = normalize(text).replace(/\bno one\b/g, "nobody");
  if (ME_AND.test(norm)) return null;
  const t = norm === "" ? [] : norm.split(" ").filter((w) => !NOT_A_COUNT.test(w));
  const values = new Set(findNumbers(t).map((s) => s.value));
  for (const [re, value] of COUNT_PHRASES) if (re.test(norm)) values.add(value);
  if (values.size !== 1) return null;
  const [value] = values;
  return value !== undefined && Number.isFinite(value) ? value : null;
}
