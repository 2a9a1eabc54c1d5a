import { isSilence, normalize } from "./normalize.ts";
import { type ClockContext, parseDateTime } from "./parseDateTime.ts";

/** What a contact may say at any turn that ends the call, whatever the question. */
export type Intent =
  | { kind: "opt_out" }
  | { kind: "wrong_contact" }
  | { kind: "refused" }
  | { kind: "callback"; at: Date | null };

const CALL = "(?:call|calling|phone|phoning|ring|ringing|contact|contacting|text|texting)";
/** "back", but not "back before 9 am" or "back tomorrow": that asks for a call-back at a time. */
const BACK =
  "back(?! (?:before|after|until|till|on|in|tomorrow|today|tonight|later|next|this|between|around|by)\\b| at (?!all\\b))";
/** What may follow "do not call me" in an opt-out, unlike "don't call me Jane" or "don't call me before 5". */
const AFTER = `(?:$| (?:again|anymore|any more|ever|${BACK}|please|thanks|thank|ok|okay|i|we|it|no|not|anyway|at all|understand|got|goodbye|bye)\\b)`;
const ME = "(?:me|us|this number|my number|this phone|here|this house)";
/** What may stand between "do not" and "call": "don't ever call", "never ever call", "don't you dare call". */
const EVER = "(?: ever)*(?: you dare)?";
const TASK =
  "(?:this|that|it|a survey|any survey|surveys|your survey|the survey|this survey|questions|a poll|polls|any of this|this call)\\b";
const DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";
/** What may follow "I'm busy": the end, a time, a request ("busy right now", "busy, call me…"), not "busy people". */
const NOW =
  "(?=$| (?:right|now|at|today|tonight|this|with|call|can|could|please|sorry|so|try|ring|but|and|maybe|until|till|for|in|on)\\b)";
const re = (source: string) => new RegExp(source);

/** "stop calling me", "remove me from your list", "do not call me again", "unsubscribe". */
const OPT_OUT = [
  re(`\\b(?:stop|quit|cease) ${CALL}\\b`),
  re(`\\b(?:do not|never|no more|please do not|i do not want you to)${EVER} ${CALL} ${ME}${AFTER}`),
  re(`\\b(?:do not|never)${EVER} ${CALL} (?:again|anymore|any more|${BACK})\\b`),
  re(
    `\\b(?:i do not|we do not|i never|we never) want (?:any )?(?:more |another |your )?(?:calls?|phone calls?|to be (?:called|contacted))\\b(?! (?:right )?now)`,
  ),
  re(`\\bno more (?:calls?|phone calls)\\b`),
  re(
    `\\b(?:remove|delete|erase|take) (?:me|my (?:number|name|details|info|information)|this number|us)\\b.*\\b(?:list|database|system|records?|file|off)\\b`,
  ),
  re(`\\b(?:remove|delete|erase) (?:me|my (?:number|name|details)|this number|us)$`),
  re(`\\b(?:put|add) (?:me|us|my number|this number) (?:on|to) (?:the|your|a) do not call\\b`),
  re(`\\bdo not call (?:list|registry|register)\\b`),
  re(`\\b(?:unsubscribe|opt (?:me )?out|opting out|lose my number|forget my number)\\b`),
  re(`\\btake (?:me|us|my number|this number) off\\b`),
];

/**
 * The narrow core of OPT_OUT: words that, in any conversation, ask for no more of our calls ("stop
 * calling me", "do not call me again", "take me off your list", "put me on your do not call
 * list"); not "my ex will not stop calling me", "opt out of paper statements" or "take me off
 * autopay", which an open conversation may hold.
 */
const DO_NOT_CALL = [
  re(
    `(?<!\\b(?:not|never|will not|does not|did not|cannot|can not|would not) )\\b(?:stop|quit|cease) ${CALL} ${ME}\\b(?! (?:at|on|before|after|during|until)\\b)`,
  ),
  re(`\\b(?:do not|never|please do not)${EVER} ${CALL} ${ME} (?:again|anymore|any more|ever)\\b`),
  re(
    `\\b(?:remove|delete|take) (?:me|us|my number|this number) (?:off|from) (?:your|the) (?:calling |call |contact |phone )?list\\b`,
  ),
  re(`\\bdo not call (?:list|registry|register)\\b`),
];

/** Whether the words clearly ask for no more calls: see DO_NOT_CALL. */
export function asksNoMoreCalls(text: string): boolean {
  return !isSilence(text) && any(DO_NOT_CALL, normalize(text));
}

/** "wrong number", "there is no one by that name", "you have the wrong person", "no Jane here". */
const WRONG_CONTACT = [
  re(`\\bwrong (?:number|person|house|guy|girl|lady|man|people|family|phone|contact|one)\\b`),
  re(
    `\\b(?:you have|you got|you have got|you dialed|you dialled|you called) (?:the |a )?wrong (?:name|number|person)\\b`,
  ),
  re(`\\b(?:misdialed|misdialled)\\b`),
  re(
    `\\b(?:no one|nobody|noone|no body)(?: lives)?(?: here)? (?:by|with|named|called|of) (?:that|this|the) name\\b`,
  ),
  re(`\\b(?:no one|nobody|noone) (?:here |lives here )?(?:named|called|by the name)\\b`),
  re(`\\bthere is no (?:one|body)? ?(?:here )?(?:by|named|called|with) (?:that|this)? ?name\\b`),
  re(
    `\\bi do not know (?:who (?:that|this|you mean|you are talking about|you are looking for|he is|she is|they are)|(?:anyone|anybody|any one) (?:by|named|called|with) (?:that|this)?)`,
  ),
  re(`\\bnever heard of (?:him|her|them|that person|this person|anyone)\\b`),
  re(`\\b(?:he|she|they) (?:does not|do not|no longer|never) (?:live|lives|lived|work|works) here\\b`),
  re(`\\bthis is not (?:his|her|their) (?:number|phone)\\b`),
  re(`\\b(?:that is not|i am not) (?:me|him|her|that person|the person you want)\\b`),
  re(`\\b(?:no one|nobody|noone) (?:lives|is living) here\\b`),
  re(
    `\\b(?:this|that|the|your) (?:number|phone number) is (?:wrong|not (?:right|correct|theirs|his|hers))\\b`,
  ),
  re(`\\b(?:he|she|they) (?:passed away|died|has died|have died|is deceased|are deceased)\\b`),
  re(`\\bnot (?:the person|who) you (?:are looking for|want|think)\\b`),
];

/** "No Jane here": a name between "no" and "here"; not "no problem here", "no not here". */
const NO_NAME_HERE = /\bno ([a-z]+)(?: ([a-z]+))? (?:here|lives here|at this number|at this address)\b/;
const NOT_A_NAME = new Set(
  "not one body problem problems worries thanks thank i it we you they he she that this there need way time sorry just yes no".split(
    " ",
  ),
);

/** "not interested", "I won't do this", "I'm not doing a survey", "leave me alone". */
const REFUSED = [
  // "not interested in anything else" (that is all) and "... in being removed" (keep calling) are no refusal.
  re(
    `\\bnot (?:really |very |at all |even remotely |the least bit )?interested\\b(?! in (?:anything|something) (?:else|more)| in being (?:removed|taken off))`,
  ),
  re(`\\bno interest\\b`),
  re(
    `\\b(?:i|we) (?:will not|am not going to|are not going to|am not gonna|refuse to) (?:do|take|answer|participate|take part|fill|be part)\\b`,
  ),
  re(
    `\\b(?:i|we) (?:do not|never) (?:do|take|answer) (?:surveys|polls|questionnaires|these|phone surveys)\\b`,
  ),
  re(
    `\\b(?:i|we) (?:am|are) not (?:doing|taking|answering|participating in|taking part in|filling|going to do|gonna do) ${TASK}`,
  ),
  re(
    `\\b(?:i|we) (?:do not|really do not) (?:want|wish|care) to (?:do|take|answer|participate|take part|talk|speak|continue|be (?:part|surveyed|bothered))\\b`,
  ),
  re(`\\b(?:i|we) (?:do not|really do not) want to$`),
  re(`\\b(?:i|we) refuse\\b`),
  re(`\\bleave (?:me|us) alone\\b`),
  re(`\\b(?:go away|get lost|piss off|bugger off|f off|fuck off|screw you|buzz off)\\b`),
  re(`\\bno time for (?:this|that|surveys?|polls?|your)\\b`),
  re(`\\b(?:stop|quit) (?:bothering|harassing|pestering) (?:me|us)\\b`),
  re(`\\bnot (?:doing|taking|answering) ${TASK}`),
];

/** "call me back tomorrow at 5pm", "call me later", "now is not a good time", "I'm busy right now". */
const CALLBACK = [
  re(`\\b(?:call|ring|phone|try|reach|contact) (?:me |us |here )?(?:back|again)\\b`),
  re(
    `\\b(?:call|ring|phone) (?:me |us )?(?:later|tomorrow|tonight|next|in|on|at|after|before|around|this|some ?time|another|when|${DAYS})\\b`,
  ),
  re(`\\b(?:try|reach|contact) (?:me |us )?(?:later|tomorrow|tonight|next|after|${DAYS})\\b`),
  re(`\\bgive (?:me|us) a (?:call|ring|buzz)\\b`),
  re(
    `\\b(?:call|ring|phone|talk|speak|chat|do (?:this|it|that)|get back to (?:me|you)|catch me|maybe|perhaps)\\b(?: [a-z]+){0,3} later\\b`,
  ),
  re(`^later\\b`),
  re(`\\b(?:another|some other|a different|a better|a more convenient) (?:time|day)\\b`),
  re(`\\bnot (?:a )?(?:good|great|convenient|right|the best|the right) (?:time|moment)\\b`),
  re(`\\b(?:bad|inconvenient|busy) (?:time|moment)\\b`),
  re(
    `\\b(?:i|we) (?:am|are) (?:a bit |kind of |really |very |quite |just )?(?:driving|in a meeting|in the middle of|on (?:another|the other) (?:call|line)|with (?:a )?(?:customer|client|patient)|about to)\\b`,
  ),
  re(
    `\\b(?:i|we) (?:am|are) (?:a bit |kind of |really |very |quite |just )?(?:busy|not (?:home|free|available))${NOW}`,
  ),
  re(`\\b(?:he|she|they) (?:is|are) (?:not|out) (?:here|home|in|around|available)${NOW}`),
  re(
    `\\b(?:i|we) (?:am|are) (?:at work|cooking|eating|having (?:dinner|lunch|breakfast)) (?:right now|now|at the moment)\\b`,
  ),
  re(
    `\\b(?:can not|could not) (?:talk|speak|chat|do (?:this|it)) (?:right )?(?:now|at the moment|today|at the minute)\\b`,
  ),
  re(`\\bnot (?:right )?now\\b`),
  re(`\\bnot at the moment\\b`),
];

/** "I'm busy, but go ahead": the contact goes on, so no callback. */
const GO_ON =
  /\b(?:go ahead|go on|make it quick|make it fast|(?:i|we) have (?:a|two|five|a few) (?:minute|minutes|moment))\b/;

const any = (patterns: readonly RegExp[], s: string) => patterns.some((p) => p.test(s));

function noNameHere(s: string): boolean {
  const m = NO_NAME_HERE.exec(s);
  return m !== null && !NOT_A_NAME.has(m[1]!) && (m[2] === undefined || !NOT_A_NAME.has(m[2]));
}

/** The callback time: a moment after `now`, or null when none was said (or it is already past). */
function callbackTime(text: string, ctx: ClockContext): Date | null {
  const at = parseDateTime(text, ctx);
  return at && at.getTime() > ctx.now.getTime() ? at : null;
}

/**
 * The intent of an utterance that ends the call at any turn, or null for an ordinary answer ("no",
 * "nope", "three", "I'm not sure", "yes, that's me", "call me Jane" are answers). When several match,
 * opt_out > wrong_contact > refused > callback. A callback's time is read like parseDateTime on the
 * contact's clock; "later", "another time", "now is not a good time" have none (null).
 */
export function recognizeIntent(text: string, ctx: ClockContext): Intent | null {
  if (isSilence(text)) return null;
  const s = normalize(text);
  if (s === "") return null;
  if (any(OPT_OUT, s)) return { kind: "opt_out" };
  if (any(WRONG_CONTACT, s) || noNameHere(s)) return { kind: "wrong_contact" };
  if (any(REFUSED, s)) return { kind: "refused" };
  if (any(CALLBACK, s) && !GO_ON.test(s)) return { kind: "callback", at: callbackTime(text, ctx) };
  return null;
}
