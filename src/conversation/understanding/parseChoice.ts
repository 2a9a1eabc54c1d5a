import { editDistance, isSilence, normalize } from "./normalize.ts";
import { findNumbers } from "./numbers.ts";

/** Ways of saying "under" and "over" that mean the same in an answer and in a choice. */
const SYNONYMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:less than|fewer than|lower than|below|beneath|up to|under)\b/g, "under"],
  [/\b(?:more than|greater than|higher than|above|over|upwards of|in excess of)\b/g, "over"],
  [/\bbetween (\d+) and (\d+)\b/g, "$1 to $2"],
  [/\b(\d+) (?:and|through|thru|until|till) (\d+)\b/g, "$1 to $2"],
];

/** Words that tell no choice apart. */
const STOP = new Set([
  "a",
  "an",
  "the",
  "to",
  "of",
  "and",
  "or",
  "i",
  "is",
  "it",
  "in",
  "on",
  "at",
  "for",
  "my",
]);

const ORDINALS: Record<string, number> = {
  first: 0,
  "1st": 0,
  second: 1,
  "2nd": 1,
  third: 2,
  "3rd": 2,
  fourth: 3,
  "4th": 3,
  fifth: 4,
  "5th": 4,
  sixth: 5,
  "6th": 5,
  seventh: 6,
  "7th": 6,
  eighth: 7,
  "8th": 7,
  ninth: 8,
  "9th": 8,
  tenth: 9,
  "10th": 9,
};

/**
 * Canonical words for matching: normalised, numbers as digits with "k"/"thousand"/"grand" multiplied
 * out ("thirty k" and "30,000" → "30000"), "between A and B" / "A-B" → "A to B", and in a range whose
 * second end carries the thousands the first one gets them too ("thirty to sixty thousand").
 */
function canonical(text: string): string[] {
  const t = normalize(text.replace(/(\d(?:\s*k)?)\s*[-\u2013]\s*(?=\d|\$)/gi, "$1 to ").replace(/\$/g, " "));
  const words = t === "" ? [] : t.split(" ");
  const spans = findNumbers(words);
  const out: string[] = [];
  let i = 0;
  spans.forEach((s, k) => {
    out.push(...words.slice(i, s.start));
    let value = s.value;
    const next = spans[k + 1];
    const joined = next && next.start === s.end + 1 && ["to", "and"].includes(words[s.end] ?? "");
    if (joined && value > 0 && value < 1000 && next.value >= 1000 && next.value % 1000 === 0) {
      if (value * 1000 < next.value) value *= 1000;
    }
    out.push(String(value));
    i = s.end;
  });
  out.push(...words.slice(i));
  let s = out.join(" ");
  for (const [re, to] of SYNONYMS) s = s.replace(re, to);
  return s === "" ? [] : s.split(" ");
}

const formsCache = new Map<string, string[][]>();
/** The canonical words of each choice, computed once per list of choices. */
function choiceForms(choices: readonly string[]): string[][] {
  const key = choices.join("\u0000");
  let f = formsCache.get(key);
  if (!f) {
    f = choices.map(canonical);
    if (formsCache.size > 10_000) formsCache.clear();
    formsCache.set(key, f);
  }
  return f;
}

/** Where `needle` occurs as whole words in `hay`, or -1. */
function indexOfWords(hay: readonly string[], needle: readonly string[]): number {
  if (needle.length === 0) return -1;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (needle.every((w, j) => hay[i + j] === w)) return i;
  }
  return -1;
}

/** The one index whose score is lowest, or null on a tie or when none scores. */
function uniqueBest(scores: ReadonlyArray<number | null>): number | null {
  let best: number | null = null;
  let tie = false;
  scores.forEach((s, i) => {
    if (s === null) return;
    const b = best === null ? null : scores[best];
    if (b === null || b === undefined || s < b) {
      best = i;
      tie = false;
    } else if (s === b) tie = true;
  });
  return tie ? null : best;
}

/**
 * An ordinal pick: "the second one", "the last", "number 2", "option two"; undefined when the answer
 * has none (or several), null when it names a position past the end.
 */
function ordinalPick(said: readonly string[], count: number): number | null | undefined {
  const picks = new Set<number>();
  said.forEach((w, i) => {
    if (w in ORDINALS) picks.add(ORDINALS[w]!);
    else if (w === "last") picks.add(count - 1);
    else if (["number", "option", "choice"].includes(w) && /^\d+$/.test(said[i + 1] ?? "")) {
      picks.add(Number(said[i + 1]) - 1);
    }
  });
  if (picks.size !== 1) return undefined;
  const [i] = picks;
  return i !== undefined && i >= 0 && i < count ? i : null;
}

const isNumeric = (w: string) => /^-?\d/.test(w);

/** Typo distance between words said and a choice: numbers must be equal, letters may differ a little. */
function typoDistance(said: readonly string[], choice: readonly string[]): number | null {
  if (said.length !== choice.length) return null;
  if (said.some((w, i) => (isNumeric(w) || isNumeric(choice[i]!)) && w !== choice[i])) return null;
  const letters = choice.filter((w) => !isNumeric(w)).join(" ");
  const d = editDistance(said.join(" "), choice.join(" "));
  return d <= Math.floor(letters.length / 4) ? d : null;
}

/** The lowest typo distance of `choice` against any run of words in `said`. */
function fuzzy(said: readonly string[], choice: readonly string[]): number | null {
  let best: number | null = null;
  for (let i = 0; i + choice.length <= said.length; i++) {
    const d = typoDistance(said.slice(i, i + choice.length), choice);
    if (d !== null && (best === null || d < best)) best = d;
  }
  return best;
}

/**
 * The one of `choices` the answer names, returned exactly as given. Tried in turn: the same words
 * (case, punctuation, number words vs digits, "k" vs "thousand" aside); the choice said within the
 * answer ("I'd say 30k to 60k"); an ordinal pick ("the second one", "the last one"); a small typo
 * (edit distance up to a quarter of the choice's letters; numbers must match exactly); a word of only
 * one choice ("over" → "over 60k"). Two choices matching at the same step, or none, give null.
 */
export function parseChoice(text: string, choices: readonly string[]): string | null {
  if (isSilence(text) || choices.length === 0) return null;
  const said = canonical(text);
  if (said.length === 0) return null;
  const forms = choiceForms(choices);
  const found = matchChoice(said, choices, forms);
  if (found !== null) return found;
  const inThousands = thousandsImplied(said, forms);
  return inThousands ? matchChoice(inThousands, choices, forms) : null;
}

/**
 * The answer with its numbers in thousands, when the choices speak in thousands and the answer
 * leaves them implied ("over sixty" for "over 60k", "thirty to sixty" for "30k-60k"); null when
 * the choices hold any other number or the answer says one of the choices' own numbers.
 */
function thousandsImplied(said: readonly string[], forms: readonly string[][]): string[] | null {
  const theirs = forms.flat().filter(isNumeric);
  if (theirs.length === 0 || theirs.some((n) => Number(n) < 1000 || Number(n) % 1000 !== 0)) return null;
  const ours = said.filter(isNumeric);
  if (ours.length === 0 || ours.some((n) => Number(n) >= 1000 || theirs.includes(n))) return null;
  return said.map((w) => (isNumeric(w) ? String(Number(w) * 1000) : w));
}

function matchChoice(
  said: readonly string[],
  choices: readonly string[],
  forms: readonly string[][],
): string | null {
  const pickOne = (i: number | null) => (i === null ? null : (choices[i] ?? null));

  const exact = forms.map((f, i) => (f.join(" ") === said.join(" ") ? i : -1)).filter((i) => i >= 0);
  if (exact.length > 0) return exact.length === 1 ? pickOne(exact[0]!) : null;

  // Words of only one choice ("over" in "over 60k" when no other choice says "over").
  const counts = new Map<string, number>();
  for (const f of forms) for (const w of new Set(f)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const distinctive = forms.map((f) => f.filter((w) => !STOP.has(w) && counts.get(w) === 1));

  // Choices said within the answer; one inside a longer one that is also said does not count, and a
  // word of another choice said beside it makes it ambiguous ("car or bicycle").
  const spans = forms
    .map((f, i) => ({ i, at: indexOfWords(said, f), len: f.length }))
    .filter((m) => m.at >= 0);
  const outer = spans.filter(
    (m) => !spans.some((o) => o !== m && o.len > m.len && o.at <= m.at && o.at + o.len >= m.at + m.len),
  );
  if (outer.length > 1) return null;
  const [only] = outer;
  if (only) {
    const rest = said.filter((_, k) => k < only.at || k >= only.at + only.len);
    const other = distinctive.some((ws, i) => i !== only.i && ws.some((w) => rest.includes(w)));
    return other ? null : pickOne(only.i);
  }

  const picked = ordinalPick(said, choices.length);
  if (picked !== undefined) return pickOne(picked);

  const typos = forms.map((f) => fuzzy(said, f));
  if (typos.some((d) => d !== null)) return pickOne(uniqueBest(typos));

  // A word of only one choice picks it; a number said must then be that choice's ("under 40k" is
  // not "under 30k").
  const numbers = said.filter(isNumeric);
  const fits = (f: readonly string[]) => numbers.every((n) => f.includes(n));
  const hits = distinctive
    .map((ws, i) => (fits(forms[i]!) && ws.some((w) => said.includes(w)) ? i : -1))
    .filter((i) => i >= 0);
  if (hits.length > 0) return hits.length === 1 ? pickOne(hits[0]!) : null;
  const near = distinctive
    .map((ws, i) =>
      fits(forms[i]!) &&
      ws.some((w) => w.length >= 5 && !isNumeric(w) && said.some((s) => editDistance(s, w) === 1))
        ? i
        : -1,
    )
    .filter((i) => i >= 0);
  return near.length === 1 ? pickOne(near[0]!) : null;
}
