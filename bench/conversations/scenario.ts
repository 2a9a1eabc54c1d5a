/**
 * The benchmark's campaign: a flow of ten questions (yes_no, number, choice, text, datetime, twice)
 * ending with an End node, and the ten replies of a contact that answers every one of them.
 */
import type { Flow } from "../../src/domain/flow.ts";

export const FIRST_MESSAGE = "Hi {{ Job.ContactName }}, this is Ana from the city housing office.";

export const FLOW: Flow = {
  Start: "q1",
  Nodes: {
    q1: {
      Say: "Do you have a few minutes for a short survey about your neighbourhood?",
      Expect: "yes_no",
      Save: "agreed",
      Next: { yes: "q2", no: "q2" },
    },
    q2: {
      Say: "How many people live in your household?",
      Expect: "number",
      Save: "household_size",
      Next: "q3",
    },
    q3: {
      Say: "Do you rent, own, or live with family?",
      Expect: "choice",
      Choices: ["rent", "own", "live with family"],
      Save: "tenure",
      Next: "q4",
    },
    q4: {
      Say: "What do you like most about your neighbourhood, {{ Job.ContactName }}?",
      Expect: "text",
      Save: "likes",
      Next: "q5",
    },
    q5: {
      Say: "When would be a good time for an inspector to visit?",
      Expect: "datetime",
      Save: "visit_at",
      Next: "q6",
    },
    q6: {
      Say: "Do you have a car?",
      Expect: "yes_no",
      Save: "has_car",
      Next: { yes: "q7", no: "q7" },
    },
    q7: {
      Say: "How many years have you lived at this address?",
      Expect: "number",
      Save: "years_here",
      Next: "q8",
    },
    q8: {
      Say: "How do you usually get to work: car, bus, bike, or walking?",
      Expect: "choice",
      Choices: ["car", "bus", "bike", "walking"],
      Save: "commute",
      Next: "q9",
    },
    q9: {
      Say: "What should the city fix first?",
      Expect: "text",
      Save: "fix_first",
      Next: "q10",
    },
    q10: {
      Say: "And when could we send you the results?",
      Expect: "datetime",
      Save: "results_at",
      Next: "bye",
    },
    bye: { Say: "Thank you {{ Job.ContactName }}, that is all.", End: true },
  },
};

/** A reply and the value its question must save ("datetime": any ISO instant). */
type Reply = readonly [say: string, value: unknown];

/**
 * Ways to answer each question, in flow order; call i takes variant (i + question) of each, so that
 * calls run side by side say different things (no cache sees the same utterance twice in a row).
 */
const VARIANTS: ReadonlyArray<readonly Reply[]> = [
  [
    ["yes sure", true],
    ["yeah", true],
    ["yes of course", true],
  ],
  [
    ["three of us", 3],
    ["there are 4 of us", 4],
    ["two", 2],
  ],
  [
    ["we rent", "rent"],
    ["we own it", "own"],
    ["I live with family", "live with family"],
  ],
  [
    ["the park and the quiet streets", "the park and the quiet streets"],
    ["the neighbours", "the neighbours"],
    ["the market on Saturdays", "the market on Saturdays"],
  ],
  [
    ["next tuesday at 3pm", "datetime"],
    ["tomorrow at 10am", "datetime"],
    ["friday afternoon", "datetime"],
  ],
  [
    ["no", false],
    ["nope", false],
    ["yes we do", true],
  ],
  [
    ["twelve years", 12],
    ["5", 5],
    ["about twenty years", 20],
  ],
  [
    ["mostly by bus", "bus"],
    ["walking, mostly", "walking"],
    ["by car", "car"],
  ],
  [
    ["the potholes on main street", "the potholes on main street"],
    ["the street lights", "the street lights"],
    ["more buses at night", "more buses at night"],
  ],
  [
    ["friday morning", "datetime"],
    ["next monday at noon", "datetime"],
    ["tomorrow evening", "datetime"],
  ],
];

/** The Result field each question saves, in flow order. */
const FIELDS = [
  "agreed",
  "household_size",
  "tenure",
  "likes",
  "visit_at",
  "has_car",
  "years_here",
  "commute",
  "fix_first",
  "results_at",
];

const variant = (i: number, q: number): Reply => {
  const v = VARIANTS[q]!;
  return v[(i + q) % v.length]!;
};

/** Questions (and replies) per call. */
export const QUESTIONS = VARIANTS.length;

/** The contact of call i: one reply per question, in order; every one parses. */
export const repliesFor = (i: number): string[] => VARIANTS.map((_, q) => variant(i, q)[0]);

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

/** The fields of call i's saved answers that are not what its replies say (empty when all are right). */
export function wrongFields(answers: Record<string, unknown> | null, i: number): string[] {
  const out: string[] = [];
  FIELDS.forEach((k, q) => {
    const want = variant(i, q)[1];
    const got = answers?.[k];
    const value = got instanceof Date ? got.toISOString() : got;
    const ok = want === "datetime" ? typeof value === "string" && ISO.test(value) : value === want;
    if (!ok) out.push(`${k}=${JSON.stringify(value)} (want ${JSON.stringify(want)})`);
  });
  return out;
}

/** Call i of phoneOf(i). */
export const indexOfPhone = (phone: string): number => Number(phone.slice(4)) - 20_000_000;

/**
 * Transcript entries of one full call: FirstMessage and the first question, then for each of the
 * ten replies the reply and the agent's next line (the next question, or the End node's line).
 */
export const ENTRIES_PER_CALL = 2 + 2 * QUESTIONS;

const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** The campaign as the API takes it: always open, one attempt, limits out of the way. */
export function campaignInput(maxConcurrentCalls: number): Record<string, unknown> {
  return {
    Name: "bench conversations",
    Agent: { Type: "flow", FirstMessage: FIRST_MESSAGE, Flow: FLOW },
    AnalysisSchema: {
      type: "object",
      properties: {
        agreed: { type: "boolean" },
        household_size: { type: "integer", minimum: 1 },
        tenure: { type: "string", enum: ["rent", "own", "live with family"] },
        likes: { type: "string" },
        visit_at: { type: "string" },
        has_car: { type: "boolean" },
        years_here: { type: "integer", minimum: 0 },
        commute: { type: "string", enum: ["car", "bus", "bike", "walking"] },
        fix_first: { type: "string" },
        results_at: { type: "string" },
      },
    },
    Schedule: {
      TimeZone: "America/New_York",
      Windows: [{ Days: ALL_DAYS, Start: "00:00", End: "24:00" }],
      MaxAttempts: 1,
      MaxConcurrentCalls: maxConcurrentCalls,
    },
  };
}

/** The i-th distinct French mobile number (+33 6 ...): valid, one zone. */
export const phoneOf = (i: number): string => `+336${String(20_000_000 + i).padStart(8, "0")}`;
