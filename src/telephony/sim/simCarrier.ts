import type { Db } from "../../store/index.ts";
import { takeSimBehaviours } from "../../store/sim.ts";
import type { CallOutcome, OutboundCallRequest, PlacedCall, Telephony } from "../port.ts";
import { SimMedia } from "./simMedia.ts";

/** 5 s of ringing before an answer, 30 s before giving up as no answer. */
const RING_BEFORE_ANSWER_MS = 5_000;
const RING_BEFORE_NO_ANSWER_MS = 30_000;

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

/**
 * The simulated carrier: calls run as fast as the machine allows and report deterministic simulated
 * times. How each number behaves is registered per organization (POST /v1/sim/contacts).
 */
export class SimCarrier implements Telephony {
  readonly name = "sim";
  private readonly live = new Map<string, SimMedia>();

  constructor(private readonly db: Db) {}

  // Outcomes asked for in the same tick share one query (the n-th call to a number follows Calls[n]).
  private pending: Array<{
    req: OutboundCallRequest;
    resolve: (o: CallOutcome) => void;
    reject: (e: unknown) => void;
  }> = [];

  async placeCalls(requests: readonly OutboundCallRequest[]): Promise<PlacedCall[]> {
    return requests.map((req) => ({
      callId: req.callId,
      carrierCallId: `sim-${req.callId}`,
      outcome: () =>
        new Promise<CallOutcome>((resolve, reject) => {
          if (this.pending.length === 0) setImmediate(() => void this.flush());
          this.pending.push({ req, resolve, reject });
        }),
    }));
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const behaviours = await takeSimBehaviours(
        this.db,
        batch.map((p) => ({ orgId: p.req.orgId, phone: p.req.to })),
      );
      batch.forEach((p, i) => {
        p.resolve(this.outcome(p.req, behaviours[i] ?? null));
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }

  private outcome(req: OutboundCallRequest, b: { Answer: string; Replies: string[] } | null): CallOutcome {
    const start = req.startedAt;
    switch (b?.Answer ?? "no_answer") {
      case "human":
      case "voicemail": {
        const answeredAt = at(start, RING_BEFORE_ANSWER_MS);
        const media = new SimMedia(answeredAt, b?.Answer === "human" ? (b?.Replies ?? []) : [], {
          onEnd: () => this.live.delete(req.callId),
        });
        this.live.set(req.callId, media);
        return {
          kind: "answered",
          by: b?.Answer === "human" ? "human" : "voicemail",
          ringingAt: start,
          answeredAt,
          media,
        };
      }
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

  async hangup(callId: string): Promise<void> {
    this.live.get(callId)?.cut();
    this.live.delete(callId);
  }
}
