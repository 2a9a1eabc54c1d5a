import assert from "node:assert/strict";
import { test } from "node:test";
import {
  asksNoMoreCalls,
  parseChoice,
  parseDateTime,
  parseNumber,
  parseText,
  parseYesNo,
  recognizeIntent,
} from "../../src/conversation/understanding/index.ts";

// Friday 2026-03-06 10:00 in New York (EST); DST starts Sunday 2026-03-08.
const ctx = { now: new Date("2026-03-06T15:00:00Z"), timeZone: "America/New_York" };
const kind = (text: string) => recognizeIntent(text, ctx)?.kind ?? null;

const CASES: ReadonlyArray<readonly [string, string | null]> = [
  // opt_out
  ["stop calling me", "opt_out"],
  ["Stop calling me!", "opt_out"],
  ["please remove me from your list", "opt_out"],
  ["do not call me again", "opt_out"],
  ["Don't call me again.", "opt_out"],
  ["take me off your list", "opt_out"],
  ["don't call this number anymore", "opt_out"],
  ["unsubscribe", "opt_out"],
  ["um yeah so just put me on the do not call list", "opt_out"],
  ["I don't want any more calls", "opt_out"],
  ["remove my number", "opt_out"],
  ["never call here again", "opt_out"],
  ["dont contact me", "opt_out"],
  ["I want to opt out", "opt_out"],
  ["Don't ever call me again", "opt_out"],
  ["never ever call me again", "opt_out"],
  ["please don't ever call this number again", "opt_out"],
  ["don't ever contact me again", "opt_out"],
  ["don't you dare call me again", "opt_out"],
  ["do not ever call again", "opt_out"],
  ["don't call me back", "opt_out"],
  ["don't call me back at all", "opt_out"],
  // a time to call back within a "don't": a call-back, not an opt-out
  ["don't ever call me back before 9 am", "callback"],
  ["never ever call me back after 9pm", "callback"],
  ["don't call back before noon", "callback"],
  ["don't call me back before noon, call me back tomorrow at 3", "callback"],
  // wrong_contact
  ["wrong number", "wrong_contact"],
  ["there is no one by that name", "wrong_contact"],
  ["you have the wrong person", "wrong_contact"],
  ["no Jane here", "wrong_contact"],
  ["I don't know who that is", "wrong_contact"],
  ["Sorry, you've got the wrong number mate", "wrong_contact"],
  ["nobody here by that name", "wrong_contact"],
  ["she doesn't live here anymore", "wrong_contact"],
  ["that's not me", "wrong_contact"],
  ["never heard of her", "wrong_contact"],
  ["uh I think you dialed the wrong number", "wrong_contact"],
  ["no one lives here", "wrong_contact"],
  ["he passed away last year", "wrong_contact"],
  // refused
  ["not interested", "refused"],
  ["I'm not interested, thanks", "refused"],
  ["I won't do this", "refused"],
  ["I'm not doing a survey", "refused"],
  ["leave me alone", "refused"],
  ["no thanks I don't want to", "refused"],
  ["I don't want to take part", "refused"],
  ["I refuse", "refused"],
  ["go away", "refused"],
  ["stop bothering me", "refused"],
  ["we don't do surveys", "refused"],
  ["I am not going to answer", "refused"],
  // ordinary answers are no intent
  ["no", null],
  ["nope", null],
  ["yes, I am not interested in anything else", null],
  ["I'm not interested in being removed from your list", null],
  ["not interested in your offer", "refused"],
  ["no I don't", null],
  ["three", null],
  ["I'm not sure", null],
  ["yes, that's me", null],
  ["call me Jane", null],
  ["don't call me Jane", null],
  ["yes", null],
  ["about 30k to 60k", null],
  ["no problem here", null],
  ["not really", null],
  ["I don't know", null],
  ["I'm working full time", null],
  ["I wouldn't do that", null],
  ["four, we're busy people", null],
  ["yes I'm busy at the moment but go ahead", null],
  ["I'm not home much", null],
  ["I'd rather not say", null],
  ["who is this?", null],
  ["<silence>", null],
  ["", null],
  ["   ", null],
  // precedence: opt_out > wrong_contact > refused > callback
  ["wrong number, stop calling me", "opt_out"],
  ["not interested, take me off your list", "opt_out"],
  ["wrong person and I'm not interested", "wrong_contact"],
  ["not interested, call me later maybe", "refused"],
  ["I'm busy and not interested", "refused"],
];

test("recognizeIntent: kinds, non-intents and precedence", () => {
  for (const [text, expected] of CASES) assert.equal(kind(text), expected, text);
});

const CALLBACKS: ReadonlyArray<readonly [string, string | null]> = [
  ["call me back tomorrow at 5pm", "2026-03-07T22:00:00.000Z"],
  ["Call me back tomorrow at five p.m.", "2026-03-07T22:00:00.000Z"],
  ["call me later", null],
  ["can you call back in an hour", "2026-03-06T16:00:00.000Z"],
  ["call back in two hours", "2026-03-06T17:00:00.000Z"],
  // Monday is after the DST change: 9:00 EDT is 13:00 UTC.
  ["I'm busy right now, try again on Monday morning", "2026-03-09T13:00:00.000Z"],
  ["now is not a good time", null],
  ["another time", null],
  ["um, can you call me another time", null],
  ["I'm driving", null],
  ["not right now", null],
  ["call me tomorrow", "2026-03-07T15:00:00.000Z"],
  ["call me tonight", "2026-03-06T23:00:00.000Z"],
  ["try me next Tuesday afternoon", "2026-03-10T18:00:00.000Z"],
  // 9am has passed at 10am: tomorrow.
  ["call me at 9am", "2026-03-07T14:00:00.000Z"],
  ["call me back at 4", "2026-03-06T21:00:00.000Z"],
  ["give me a call on Sunday at 3pm", "2026-03-08T19:00:00.000Z"],
  ["ring me back in 20 minutes", "2026-03-06T15:20:00.000Z"],
  ["I'm in a meeting, call me back after lunch", "2026-03-06T18:00:00.000Z"],
  ["bad time, sorry", null],
  ["can we do this later", null],
  ["she's not here right now", null],
  ["I'm busy with work, try tomorrow", "2026-03-07T15:00:00.000Z"],
];

test("recognizeIntent: callback times on the contact's clock", () => {
  for (const [text, at] of CALLBACKS) {
    const intent = recognizeIntent(text, ctx);
    assert.equal(intent?.kind, "callback", text);
    assert.equal(intent.kind === "callback" ? (intent.at?.toISOString() ?? null) : undefined, at, text);
  }
});

test("recognizeIntent: callback in Europe/London across its DST change", () => {
  // Friday 2026-03-27 12:00 GMT; BST starts Sunday 2026-03-29.
  const london = { now: new Date("2026-03-27T12:00:00Z"), timeZone: "Europe/London" };
  const at = (text: string) => {
    const intent = recognizeIntent(text, london);
    return intent?.kind === "callback" ? (intent.at?.toISOString() ?? null) : "no callback";
  };
  assert.equal(at("call me back tomorrow at 5pm"), "2026-03-28T17:00:00.000Z");
  assert.equal(at("call me back on Monday at 10am"), "2026-03-30T09:00:00.000Z");
  assert.equal(at("call me back in an hour"), "2026-03-27T13:00:00.000Z");
});

test("<silence> is no intent and no answer for any parser", () => {
  for (const text of ["<silence>", " <silence> ", "", "  ", "<noise>"]) {
    assert.equal(recognizeIntent(text, ctx), null, text);
    assert.equal(parseYesNo(text), null, text);
    assert.equal(parseNumber(text), null, text);
    assert.equal(parseChoice(text, ["a", "b"]), null, text);
    assert.equal(parseDateTime(text, ctx), null, text);
    assert.equal(parseText(text), null, text);
  }
});

test("asksNoMoreCalls: the clear requests an LLM agent may not let pass, and what an open conversation may say", () => {
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ["please stop calling me", true],
    ["don't call me again", true],
    ["do not ever call me again", true],
    ["remove me from your calling list", true],
    ["put me on your do not call list", true],
    ["Can I opt out of paper statements and get them by email?", false],
    ["I want to unsubscribe from the premium plan", false],
    ["Please take me off autopay", false],
    ["My ex won't stop calling me, that's why I changed my number", false],
    ["Stop calling me at work, call me at home tonight at 7", false],
    ["you can remove my name from the waiting list now that I found a place", false],
    ["don't call me Jane", false],
    ["don't you dare call me again", true],
    ["never ever call me again", true],
  ];
  for (const [text, expected] of cases) assert.equal(asksNoMoreCalls(text), expected, text);
});
