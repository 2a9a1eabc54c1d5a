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

/** One reply per question, in order: every one parses. */
export const REPLIES: readonly string[] = [
  "yes sure",
  "three of us",
  "we rent",
  "the park and the quiet streets",
  "next tuesday at 3pm",
  "no",
  "twelve years",
  "mostly by bus",
  "the potholes on main street",
  "friday morning",
];

/** What each Result field must hold after the call (datetimes: any ISO instant). */
export const EXPECTED_RESULT: Record<string, unknown> = {
  agreed: true,
  household_size: 3,
  tenure: "rent",
  likes: "the park and the quiet streets",
  visit_at: "datetime",
  has_car: false,
  years_here: 12,
  commute: "bus",
  fix_first: "the potholes on main street",
  results_at: "datetime",
};

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

/** The fields of `answers` that are not what EXPECTED_RESULT says (empty when all are right). */
export function wrongFields(answers: Record<string, unknown> | null): string[] {
  const out: string[] = [];
  for (const [k, want] of Object.entries(EXPECTED_RESULT)) {
    const got = answers?.[k];
    const value = got instanceof Date ? got.toISOString() : got;
    const ok = want === "datetime" ? typeof value === "string" && ISO.test(value) : value === want;
    if (!ok) out.push(`${k}=${JSON.stringify(value)}`);
  }
  return out;
}

/**
 * Transcript entries of one full call: FirstMessage and the first question, then for each of the
 * ten replies the reply and the agent's next line (the next question, or the End node's line).
 */
export const ENTRIES_PER_CALL = 2 + 2 * REPLIES.length;

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
