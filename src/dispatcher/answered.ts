import type { CallOutcome } from "../telephony/port.ts";
import type { CallCloser } from "./closer.ts";
import type { DialedCall } from "./dial.ts";

export type Answered = Extract<CallOutcome, { kind: "answered" }>;

/**
 * What runs a connected call: the conversation runtime. It writes the call's transcript and its
 * ending (with the analysis' decision) through the closer, fenced by the claim's token.
 */
export type AnsweredCallHandler = (call: DialedCall, outcome: Answered, closer: CallCloser) => Promise<void>;
