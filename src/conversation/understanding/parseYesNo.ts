import { isSilence, normalize } from "./normalize.ts";

type Polarity = "yes" | "no" | "unsure";

/**
 * Phrases in the order they are looked for; each phrase found is removed before the next are looked
 * for, so "i am not sure" is a hedge and never the "no" of "i am not", and "of course not" is a "no"
 * and never the "yes" of "of course".
 */
const PHRASES: ReadonlyArray<readonly [RegExp, Polarity]> = [
  [
    /\b(?:maybe|perhaps|possibly|probably|not sure|unsure|no idea|depends|it depends|kind of|sort of)\b/g,
    "unsure",
  ],
  [/\b(?:i (?:do not|dunno|would not) know|hard to say|not certain|yes and no|i guess so)\b/g, "unsure"],
  [/\b(?:absolutely|definitely|certainly|of course|sure|surely|really) not\b/g, "no"],
  [/\b(?:not at all|not really|no way|never|nope|nah|negative|incorrect|wrong)\b/g, "no"],
  [/\b(?:that is|it is|that was|this is) not (?:right|correct|true|me|it)\b/g, "no"],
  [/\b(?:not|no) (?:correct|true|right)\b/g, "no"],
  [/\b(?:no (?:problem|worries|doubt)|not a problem|why not|i do not mind|do not mind)\b/g, "yes"],
  [/\b(?:i|we) (?:do|am|are|have|has|can|will|did|would|could) not\b/g, "no"],
  [/\b(?:i|we) (?:have|had|do|did|does) (?:not|no)\b/g, "no"],
  [/\bno\b/g, "no"],
  [/\b(?:yes|yeah|yea|yep|yup|ya|yah|aye|sure|of course|correct|absolutely|definitely|certainly)\b/g, "yes"],
  [/\b(?:ok|okay|alright|all right|affirmative|indeed|exactly|that is right|that is true|uhhuh)\b/g, "yes"],
  [
    /\b(?:go ahead|go on|sounds good|fine by me|please do|yes please|by all means|that is me|speaking)\b/g,
    "yes",
  ],
  [/\b(?:i|we) (?:do|am|are|have|can|will|did|would|could)$/g, "yes"],
  [/^(?:right|fine|please|true|it is|that is it|i think so|you bet)$/g, "yes"],
];

/**
 * A yes or a no: yes/yeah/yep/sure/of course/correct/that's right/absolutely/ok/okay/I do/go ahead →
 * "yes"; no/nope/nah/not really/I don't/negative/of course not → "no". An answer that says both
 * ("yes and no", "yeah no") or hedges ("maybe", "I'm not sure", "I don't know") is null, as is one
 * that says neither.
 */
export function parseYesNo(text: string): "yes" | "no" | null {
  if (isSilence(text)) return null;
  let s = normalize(text);
  const found = new Set<Polarity>();
  for (const [re, polarity] of PHRASES) {
    s = s.replace(re, () => {
      found.add(polarity);
      return " , ";
    });
  }
  if (found.size !== 1 || found.has("unsure")) return null;
  return found.has("yes") ? "yes" : "no";
}
