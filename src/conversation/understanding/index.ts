/**
 * Text understanding for flow agents (CONTRACT §6): the intents recognised at every turn and the
 * parsers of each node's `Expect`. Pure functions over speech-to-text output (any case, little
 * punctuation, filler words, numbers as words); "<silence>" gives null everywhere.
 */
export { parseChoice } from "./parseChoice.ts";
export { type ClockContext, parseDateTime } from "./parseDateTime.ts";
export { parseNumber } from "./parseNumber.ts";
export { parseText } from "./parseText.ts";
export { parseYesNo } from "./parseYesNo.ts";
export { asksNoMoreCalls, type Intent, recognizeIntent } from "./recognizeIntent.ts";
