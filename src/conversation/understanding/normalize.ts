/**
 * Normalisation of speech-to-text utterances: lower case, contractions expanded ("don't" → "do not"),
 * punctuation dropped, filler words ("um", "uh", a leading "well" / "yeah so") removed.
 */

/** True when the utterance carries nothing: empty, only whitespace, or only markers like "<silence>". */
export function isSilence(text: string): boolean {
  return stripMarkers(text).trim() === "";
}

/** Removes speech-to-text markers such as "<silence>" or "<noise>". */
export function stripMarkers(text: string): string {
  return text.replace(/<[^<>]*>/g, " ");
}

const CONTRACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bwon'?t\b/g, "will not"],
  [/\bcan'?t\b/g, "can not"],
  [/\bcannot\b/g, "can not"],
  [/\bshan'?t\b/g, "shall not"],
  [/\bain'?t\b/g, "am not"],
  [/\b(do|does|did|is|are|was|were|would|could|should|have|has|had|must|need)n'?t\b/g, "$1 not"],
  [/\bi'?m\b/g, "i am"],
  [/\bi'?ve\b/g, "i have"],
  [/\bi'll\b/g, "i will"],
  [/\bi'd\b/g, "i would"],
  [/\blet's\b/g, "let us"],
  [/\b(that|it|there|he|she|what|who|here|where|this)'s\b/g, "$1 is"],
  [/'re\b/g, " are"],
  [/'ve\b/g, " have"],
  [/'ll\b/g, " will"],
  [/'d\b/g, " would"],
];

/** Expands the apostrophe-less spellings a transcriber may produce: "thats" → "that is". */
const BARE: Record<string, string> = {
  thats: "that is",
  theres: "there is",
  whats: "what is",
  youre: "you are",
};

/** Filler words dropped wherever they stand. */
const FILLERS = /\b(?:u+m+|u+h+m*|e+r+m*|a+h+|h+m+|m{2,})\b/g;
/** Sounds that say yes: kept as the one word "uhhuh" rather than dropped as fillers. */
const ASSENT = /\b(?:uh huh|mm hmm|mm hm|mhm|mhmm)\b/g;
/** Fillers dropped only at the start of an utterance (repeatedly): "well", "oh", "yeah so", "ok so", … */
const LEADING =
  /^(?:(?:well|oh|so|like|you know|i mean|let me (?:think|see)|(?:yeah|yes|ok|okay|right|well|oh) so) )+/;

/** Lower case, contractions expanded, curly quotes straightened; punctuation kept. */
export function lowerExpanded(text: string): string {
  let s = stripMarkers(text)
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'");
  for (const [re, to] of CONTRACTIONS) s = s.replace(re, to);
  return s.replace(/\b(thats|theres|whats|youre)\b/g, (w) => BARE[w] ?? w);
}

/** The last utterance normalised and its result: a turn normalises the same text several times in a row. */
let lastText: string | null = null;
let lastNormal = "";

/**
 * Normalises an utterance to lower-case words separated by single spaces. Kept: digits with their
 * decimal point ("3.5"), a leading minus ("-2"), "k" suffixes ("30k"); thousands separators are
 * dropped ("1,200" → "1200"); hyphens between words become spaces ("twenty-one" → "twenty one").
 */
export function normalize(text: string): string {
  if (text === lastText) return lastNormal;
  lastNormal = normalizeUncached(text);
  lastText = text;
  return lastNormal;
}

function normalizeUncached(text: string): string {
  const s = lowerExpanded(text)
    .replace(/(\d),(?=\d{3}\b)/g, "$1")
    .replace(/(^|[^\w])-(?=\d)/g, "$1\u2212")
    .replace(/(\d)\.(?=\d)/g, "$1\u2024")
    .replace(/(\d):(?=\d)/g, "$1\u2236")
    .replace(/'/g, "")
    .replace(/[^a-z0-9\u2212\u2024\u2236]+/g, " ")
    .replace(/\u2212/g, "-")
    .replace(/\u2024/g, ".")
    .replace(/\u2236/g, ":");
  return dropFillers(s);
}

/** Removes filler words and collapses whitespace. */
export function dropFillers(s: string): string {
  let out = s.replace(ASSENT, "uhhuh").replace(FILLERS, " ").replace(/\s+/g, " ").trim();
  for (;;) {
    const next = out.replace(LEADING, "");
    if (next === out) return out;
    out = next;
  }
}

/** Edit distance with adjacent transpositions ("bicylce" is 1 from "bicycle"); small strings only. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
