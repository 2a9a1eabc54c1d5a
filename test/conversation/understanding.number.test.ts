import assert from "node:assert/strict";
import { test } from "node:test";
import { parseNumber } from "../../src/conversation/understanding/index.ts";

const CASES: ReadonlyArray<readonly [string, number | null]> = [
  ["3", 3],
  ["3.5", 3.5],
  ["1,200", 1200],
  ["-2", -2],
  ["minus two", -2],
  ["three", 3],
  ["Three.", 3],
  ["twenty one", 21],
  ["twenty-one", 21],
  ["a hundred and five", 105],
  ["two thousand", 2000],
  ["two thousand and twenty six", 2026],
  ["one hundred twenty", 120],
  ["a couple", 2],
  ["a couple of kids", 2],
  ["a dozen", 12],
  ["half a dozen", 6],
  ["two and a half", 2.5],
  ["one point five", 1.5],
  ["30k", 30000],
  ["zero", 0],
  ["none", 0],
  ["nobody", 0],
  ["no one", 0],
  ["just me", 1],
  ["um, it's just me, nobody else", 1],
  ["I live alone", 1],
  ["there are four of us", 4],
  ["about 5 people", 5],
  ["uh well we are like six", 6],
  ["four, four", 4],
  ["4 - four people", 4],
  ["three or four", null],
  ["2 kids and 3 dogs", null],
  ["just me and my two kids", null],
  ["no idea", null],
  ["a few", null],
  ["the 3rd", null],
  ["yes", null],
  ["<silence>", null],
  ["", null],
];

test("parseNumber", () => {
  for (const [text, expected] of CASES) assert.equal(parseNumber(text), expected, text);
});
