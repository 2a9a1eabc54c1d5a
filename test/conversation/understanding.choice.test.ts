import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChoice } from "../../src/conversation/understanding/index.ts";

const INCOME = ["under 30k", "30k to 60k", "over 60k"] as const;

const CASES: ReadonlyArray<readonly [string, string | null]> = [
  ["under 30k", "under 30k"],
  ["Under 30K.", "under 30k"],
  ["I'd say 30k to 60k", "30k to 60k"],
  ["thirty k to sixty k", "30k to 60k"],
  ["thirty to sixty thousand", "30k to 60k"],
  ["between 30 and 60 thousand", "30k to 60k"],
  ["30-60k", "30k to 60k"],
  ["$30,000 to $60,000", "30k to 60k"],
  ["um, well, over sixty k I guess", "over 60k"],
  ["more than sixty thousand", "over 60k"],
  ["less than thirty thousand", "under 30k"],
  ["the first one", "under 30k"],
  ["the second", "30k to 60k"],
  ["the last one", "over 60k"],
  ["number two", "30k to 60k"],
  ["over", "over 60k"],
  ["undr 30k", "under 30k"],
  ["ovr 60k", "over 60k"],
  // the thousands left implied, as people say them
  ["over sixty", "over 60k"],
  ["thirty to sixty", "30k to 60k"],
  ["30k-60k", "30k to 60k"],
  ["under thirty", "under 30k"],
  ["less than thirty", "under 30k"],
  ["between thirty and sixty", "30k to 60k"],
  ["30 to 60", "30k to 60k"],
  // ambiguous or not a choice
  ["under forty", null],
  ["under 40k", null],
  ["under 30k or over 60k", null],
  ["60k", null],
  ["the fourth one", null],
  ["yes", null],
  ["I'd rather not say", null],
  ["<silence>", null],
  ["", null],
];

test("parseChoice: income bands", () => {
  for (const [text, expected] of CASES) assert.equal(parseChoice(text, INCOME), expected, text);
});

test("parseChoice: words, typos and the exact choice string", () => {
  const colours = ["Red", "Dark Blue", "Light Blue"];
  assert.equal(parseChoice("red", colours), "Red");
  assert.equal(parseChoice("I think dark blue!", colours), "Dark Blue");
  assert.equal(parseChoice("drak blue", colours), "Dark Blue");
  assert.equal(parseChoice("light", colours), "Light Blue");
  assert.equal(parseChoice("blue", colours), null);
  assert.equal(parseChoice("green", colours), null);
  const transport = ["By car", "Public transport", "Bicycle", "On foot"];
  assert.equal(parseChoice("I usually take public transport", transport), "Public transport");
  assert.equal(parseChoice("bicylce", transport), "Bicycle");
  assert.equal(parseChoice("car", transport), "By car");
  assert.equal(parseChoice("the third", transport), "Bicycle");
  assert.equal(parseChoice("car or bicycle", transport), null);
  assert.equal(parseChoice("anything", []), null);
  const counts = ["1", "2", "3 or more"];
  assert.equal(parseChoice("two", counts), "2");
  assert.equal(parseChoice("three or more", counts), "3 or more");
});
