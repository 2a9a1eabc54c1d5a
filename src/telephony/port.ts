import type { Queryable } from "../store/db.ts";

/**
 * The telephony port: what the dispatcher and the conversation runtime need from a carrier. The
 * simulated carrier (sim/) implements it now; real carriers (Twilio first) plug in behind it.
 */
export interface OutboundCallRequest {
  callId: string;
  orgId: string;
  /** Caller ID: the campaign's first phone number, or null to let the carrier choose. */
  from: string | null;
  to: string;
  /** When the call is handed to the carrier (database time); simulated times count from it. */
  startedAt: Date;
}

export type UnansweredReason = "no_answer" | "busy" | "carrier_failed" | "invalid_number";

/** One utterance of the contact on a connected call. */
export type ContactTurn =
  | { kind: "speech"; text: string; at: Date }
  | { kind: "silence"; at: Date }
  | { kind: "hangup"; at: Date };

/**
 * The text channel of a connected call. Audio carriers put speech-to-text and text-to-speech behind
 * it; the conversation actor only sees turns.
 */
export interface CallMedia {
  /** The agent speaks; resolves (with the time it finished speaking) once the text is out. */
  say(text: string): Promise<Date>;
  /** The contact's next turn. */
  listen(): Promise<ContactTurn>;
  /** Ends the call from our side. */
  hangup(): Promise<Date>;
}

export type UnansweredOutcome = {
  kind: "unanswered";
  reason: UnansweredReason;
  ringingAt: Date | null;
  endedAt: Date;
};

export type CallOutcome =
  | { kind: "answered"; by: "human" | "voicemail"; ringingAt: Date; answeredAt: Date; media: CallMedia }
  | UnansweredOutcome;

/**
 * Where a carrier that keeps its own records in Cobbery's database (the simulator) writes them: the
 * transaction that hands the calls over, so that they commit or roll back with the dial. Other
 * carriers ignore it.
 */
export interface PlacementContext {
  q: Queryable;
}

export interface PlacedCall {
  callId: string;
  carrierCallId: string;
  /**
   * Resolves when the call is answered or has ended without an answer. Called once, after the
   * dispatcher has recorded the call as dialed.
   */
  outcome(): Promise<CallOutcome>;
  /**
   * An ending the carrier already knew when it took the call (the simulator's unanswered calls). The
   * dispatcher then records the dial and the end in one write and never calls outcome().
   */
  readonly ended?: UnansweredOutcome;
}

export interface Telephony {
  readonly name: string;
  /**
   * Whether placing calls writes only through the PlacementContext, so that a dial transaction
   * rolled back leaves no call placed (the simulator). Any other carrier places calls that no
   * rollback takes back: the dispatcher first commits that their dial begins, then hands them over
   * (see dialClaims).
   */
  readonly placesInTransaction?: boolean;
  /**
   * Hands calls to the carrier. Resolves once the carrier has taken them (not when they are
   * answered). A call the carrier refuses outright resolves with an unanswered outcome.
   */
  placeCalls(requests: readonly OutboundCallRequest[], ctx: PlacementContext): Promise<PlacedCall[]>;
  /** Ends a live call (cancel, opt-out, PII deletion, max duration). Unknown calls are ignored. */
  hangup(callId: string): Promise<void>;
}
