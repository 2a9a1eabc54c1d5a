import type { Intent } from "./understanding/index.ts";

/** What the conversation learned, whatever the agent (flow or LLM). */
export interface ConversationState {
  /** Saved answers by Result field name. */
  answers: Record<string, unknown>;
  /** Flow questions already answered (node id → the answer's branch key), so a next call resumes after them. */
  answeredNodes: Record<string, string>;
  /** The contact's intent that ended the call, if any. */
  intent: Intent | null;
  /** The conversation reached its end (an End node, or the LLM's end_call after finishing). */
  finished: boolean;
  /** A datetime answer on a node with "Action": "schedule_call": the next call is wanted then. */
  scheduleCallAt: Date | null;
}

export const emptyState = (previous?: Partial<ConversationState>): ConversationState => ({
  answers: { ...(previous?.answers ?? {}) },
  answeredNodes: { ...(previous?.answeredNodes ?? {}) },
  intent: null,
  finished: false,
  scheduleCallAt: null,
});

/** One agent step: lines to say, then wait for the contact or end the call. */
export interface AgentStep {
  say: string[];
  next: "listen" | "end";
}

/** A contact turn as the agent sees it. */
export type HeardTurn = { kind: "speech"; text: string } | { kind: "silence" };

/**
 * The brain of a call, independent of the medium: the actor feeds it turns and carries out its
 * steps. Flow agents and LLM agents implement it.
 */
export interface ConversationAgent {
  readonly state: ConversationState;
  /** The agent's opening on an outbound call (it speaks first). */
  open(): Promise<AgentStep>;
  /** The contact's first words on an inbound call: intents are checked, then the agent continues. */
  openInbound(first: HeardTurn): Promise<AgentStep>;
  /** The contact's answer to the agent's last turn. */
  hear(turn: HeardTurn): Promise<AgentStep>;
}
