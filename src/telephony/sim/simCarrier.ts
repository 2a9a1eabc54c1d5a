import { type SimCallBehaviour, takeSimBehaviours } from "../../store/sim.ts";
import type {
  CallOutcome,
  OutboundCallRequest,
  PlacedCall,
  PlacementContext,
  Telephony,
  UnansweredOutcome,
} from "../port.ts";
import { SimMedia } from "./simMedia.ts";

/** 5 s of ringing before an answer, 30 s before giving up as no answer. */
const RING_BEFORE_ANSWER_MS = 5_000;
const RING_BEFORE_NO_ANSWER_MS = 30_000;

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

/** The ending of a call that is not answered, or null when it is answered (human, voicemail). */
function unanswered(start: Date, answer: SimCallBehaviour["Answer"]): UnansweredOutcome | null {
  switch (answer) {
    case "human":
    case "voicemail":
      return null;
    case "busy":
      return { kind: "unanswered", reason: "busy", ringingAt: null, endedAt: start };
    case "failed":
      return { kind: "unanswered", reason: "carrier_failed", ringingAt: null, endedAt: start };
    case "invalid":
      return { kind: "unanswered", reason: "invalid_number", ringingAt: null, endedAt: start };
    default:
      return {
        kind: "unanswered",
        reason: "no_answer",
        ringingAt: start,
        endedAt: at(start, RING_BEFORE_NO_ANSWER_MS),
      };
  }
}

/**
 * The simulated carrier: calls run as fast as the machine allows and report deterministic simulated
 * times. How each number behaves is registered per organization (POST /v1/sim/contacts).
 */
export class SimCarrier implements Telephony {
  readonly name = "sim";
  /** Its calls are rows of the dial's transaction: they commit or roll back with it. */
  readonly placesInTransaction = true;
  private readonly live = new Map<string, SimMedia>();

  /**
   * Takes the calls: how each number behaves is read (and its per-attempt counter moved on) in the
   * dialing transaction, so that a dial rolled back leaves the counters as they
   * were. Unanswered calls end at once: their ending is known here.
   */
  async placeCalls(requests: readonly OutboundCallRequest[], ctx: PlacementContext): Promise<PlacedCall[]> {
    const behaviours = await takeSimBehaviours(
      ctx.q,
      requests.map((r) => ({ orgId: r.orgId, phone: r.to })),
    );
    return requests.map((req, i) => {
      const b = behaviours[i] ?? null;
      const ended = unanswered(req.startedAt, b?.Answer ?? "no_answer");
      return {
        callId: req.callId,
        carrierCallId: `sim-${req.callId}`,
        // The media of an answered call starts when the dispatcher follows the call, not before.
        outcome: () => Promise.resolve(ended ?? this.answered(req, b?.Answer === "human" ? b.Replies : null)),
        ...(ended ? { ended } : {}),
      };
    });
  }

  /** `replies` null: voicemail. */
  private answered(req: OutboundCallRequest, replies: string[] | null): CallOutcome {
    const answeredAt = at(req.startedAt, RING_BEFORE_ANSWER_MS);
    const media = new SimMedia(answeredAt, replies ?? [], { onEnd: () => this.live.delete(req.callId) });
    this.live.set(req.callId, media);
    return {
      kind: "answered",
      by: replies ? "human" : "voicemail",
      ringingAt: req.startedAt,
      answeredAt,
      media,
    };
  }

  async hangup(callId: string): Promise<void> {
    this.live.get(callId)?.cut();
    this.live.delete(callId);
  }
}
