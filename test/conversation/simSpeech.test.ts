import assert from "node:assert/strict";
import { test } from "node:test";
import { speechMs } from "../../src/telephony/sim/simMedia.ts";

test("simulated speech: 150 words a minute, punctuation alone is not a word, at least one word", () => {
  assert.equal(speechMs("Hi Ana, this is Acme."), 5 * 400);
  // A missing template variable leaves "Hi , this": the lone comma takes no time.
  assert.equal(speechMs("Hi , this is Acme ."), 4 * 400);
  assert.equal(speechMs("J'ai 3 enfants — merci !"), 4 * 400);
  assert.equal(speechMs("   "), 400);
});
