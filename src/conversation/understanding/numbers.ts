/**
 * Numbers in normalised words: digits ("3", "3.5", "-2", "30k") and number words ("twenty one",
 * "a hundred and five", "two thousand", "a couple", "a dozen", "three and a half", "one point five").
 */

/** A number found in a list of words: words [start, end) make `value`. */
export interface NumberSpan {
  start: number;
  end: number;
  value: number;
}

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};
const TEENS: Record<string, number> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fourty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const SCALES: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9 };
/** Multipliers that may follow digits or a number: "30k", "30 k", "60 grand", "2 thousand". */
const SUFFIX: Record<string, number> = { k: 1e3, grand: 1e3, hundred: 100, thousand: 1e3, million: 1e6 };

/** Every number word, for finding runs of them in free text. */
const NUMBER_WORDS: readonly string[] = [
  ...Object.keys(UNITS),
  ...Object.keys(TEENS),
  ...Object.keys(TENS),
  "hundred",
  ...Object.keys(SCALES),
];

type Last = "none" | "unit" | "teen" | "tens" | "hundred" | "scale";
const has = (o: Record<string, number>, w: string | undefined): w is string => w !== undefined && w in o;
const isSmall = (w: string | undefined) => has(UNITS, w) || has(TEENS, w) || has(TENS, w);

/** Reads cardinal number words from `i`: "twenty one", "two thousand and five", "a hundred". */
function readWords(t: readonly string[], i: number): { value: number; end: number } | null {
  let total = 0;
  let current = 0;
  let last: Last = "none";
  let j = i;
  if ((t[j] === "a" || t[j] === "an") && (t[j + 1] === "hundred" || has(SCALES, t[j + 1]))) {
    current = 1;
    last = "unit";
    j++;
  }
  for (; j < t.length; j++) {
    const w = t[j]!;
    const free = last === "none" || last === "hundred" || last === "scale";
    if (has(UNITS, w)) {
      if (last === "tens" && UNITS[w]! > 0) current += UNITS[w]!;
      else if (free && (last === "none" || UNITS[w]! > 0)) current += UNITS[w]!;
      else break;
      last = "unit";
    } else if (has(TEENS, w) && free) {
      current += TEENS[w]!;
      last = "teen";
    } else if (has(TENS, w) && free) {
      current += TENS[w]!;
      last = "tens";
    } else if (w === "hundred" && (last === "unit" || last === "teen" || last === "tens") && current < 100) {
      current *= 100;
      last = "hundred";
    } else if (has(SCALES, w) && last !== "none" && last !== "scale") {
      total += current * SCALES[w]!;
      current = 0;
      last = "scale";
    } else if (w === "and" && (last === "hundred" || last === "scale") && isSmall(t[j + 1])) {
      // "a hundred and five": the next word continues the number.
    } else break;
  }
  return last === "none" ? null : { value: total + current, end: j };
}

/** Reads a decimal tail "point five" (digit words) after a whole number ending at `j`. */
function readPoint(t: readonly string[], j: number): { frac: string; end: number } {
  if (t[j] !== "point" || !has(UNITS, t[j + 1])) return { frac: "", end: j };
  let frac = "";
  let k = j + 1;
  while (has(UNITS, t[k])) frac += String(UNITS[t[k++]!]);
  return { frac, end: k };
}

/** Reads one number starting exactly at word `i`, or null. */
function readAt(t: readonly string[], i: number): { value: number; end: number } | null {
  const w = t[i]!;
  if ((w === "a" || w === "an") && t[i + 1] === "couple") return { value: 2, end: i + 2 };
  if ((w === "a" || w === "an") && t[i + 1] === "dozen") return { value: 12, end: i + 2 };
  if (w === "half" && t[i + 1] === "a" && t[i + 2] === "dozen") return { value: 6, end: i + 3 };
  if (w === "couple" && t[i + 1] === "of") return { value: 2, end: i + 1 };
  const digits = /^(-?\d+(?:\.\d+)?)(k?)$/.exec(w);
  let value: number;
  let end: number;
  if (digits) {
    value = Number(digits[1]) * (digits[2] ? 1000 : 1);
    end = i + 1;
    if (!digits[2] && has(SUFFIX, t[end])) value *= SUFFIX[t[end++]!]!;
  } else {
    const read = readWords(t, i);
    if (!read) return null;
    const point = readPoint(t, read.end);
    value = point.frac ? Number(`${read.value}.${point.frac}`) : read.value;
    end = point.end;
    if (t[end] === "k" || t[end] === "grand") {
      value *= 1000;
      end++;
    }
  }
  if (t[end] === "dozen") {
    value *= 12;
    end++;
  }
  if (t[end] === "and" && t[end + 1] === "a" && t[end + 2] === "half") {
    value += 0.5;
    end += 3;
  }
  return { value, end };
}

/** All numbers in normalised words, left to right; "minus"/"negative" before one negates it. */
export function findNumbers(t: readonly string[]): NumberSpan[] {
  const spans: NumberSpan[] = [];
  for (let i = 0; i < t.length; ) {
    const read = readAt(t, i);
    if (!read) {
      i++;
      continue;
    }
    const neg = i > 0 && (t[i - 1] === "minus" || t[i - 1] === "negative");
    spans.push({ start: neg ? i - 1 : i, end: read.end, value: neg ? -read.value : read.value });
    i = read.end;
  }
  return spans;
}

/** Replaces each number in the words by its digits: ["thirty", "k"] → ["30000"]. */
function numbersToDigits(t: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const s of findNumbers(t)) {
    out.push(...t.slice(i, s.start), String(s.value));
    i = s.end;
  }
  out.push(...t.slice(i));
  return out;
}

const RUN_WORDS = NUMBER_WORDS.join("|");
const RUN = new RegExp(`\\b(?:${RUN_WORDS})(?:(?:[\\s-]+(?:and\\s+)?)(?:${RUN_WORDS}))*\\b`, "g");

/** Rewrites runs of cardinal number words in free text as digits, keeping the rest: "at five pm" → "at 5 pm". */
export function wordsToDigitsInText(text: string): string {
  return text.replace(RUN, (m) => numbersToDigits(m.split(/[\s-]+/)).join(" "));
}
