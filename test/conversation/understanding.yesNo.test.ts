import assert from "node:assert/strict";
import { test } from "node:test";
import { parseText, parseYesNo } from "../../src/conversation/understanding/index.ts";

const CASES: ReadonlyArray<readonly [string, "yes" | "no" | null]> = [
  ["yes", "yes"],
  ["Yes.", "yes"],
  ["yeah", "yes"],
  ["yep", "yes"],
  ["sure", "yes"],
  ["of course", "yes"],
  ["correct", "yes"],
  ["that's right", "yes"],
  ["absolutely", "yes"],
  ["ok", "yes"],
  ["Okay!", "yes"],
  ["I do", "yes"],
  ["go ahead", "yes"],
  ["um yeah sure", "yes"],
  ["yes, that's me", "yes"],
  ["uh-huh", "yes"],
  ["no problem", "yes"],
  ["well, I am", "yes"],
  ["no", "no"],
  ["No.", "no"],
  ["nope", "no"],
  ["nah", "no"],
  ["not really", "no"],
  ["I don't", "no"],
  ["no I don't", "no"],
  ["negative", "no"],
  ["of course not", "no"],
  ["absolutely not", "no"],
  ["uh no thanks", "no"],
  ["that's not correct", "no"],
  ["I haven't", "no"],
  ["yes and no", null],
  ["maybe", null],
  ["yeah no", null],
  ["I'm not sure", null],
  ["I don't know", null],
  ["perhaps", null],
  ["three", null],
  ["hello?", null],
  ["<silence>", null],
  ["", null],
];

test("parseYesNo", () => {
  for (const [text, expected] of CASES) assert.equal(parseYesNo(text), expected, text);
});

test("parseText: trimmed text, null for silence", () => {
  assert.equal(parseText("  I work from home  "), "I work from home");
  assert.equal(parseText("blue"), "blue");
  assert.equal(parseText("<silence>"), null);
  assert.equal(parseText(" <silence> "), null);
  assert.equal(parseText(""), null);
  assert.equal(parseText("   "), null);
  assert.equal(parseText("it's <noise> fine"), "it's fine");
});
