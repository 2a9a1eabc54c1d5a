// Carriers for tests that drive the dispatcher: they speak the telephony port like the simulator,
// with call endings the test controls.
import assert from "node:assert/strict";
import { Dispatcher, type DispatcherOptions } from "../../src/dispatcher/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import type { Db } from "../../src/store/index.ts";
import type { CallOutcome, OutboundCallRequest, PlacedCall, Telephony } from "../../src/telephony/port.ts";
import type { TestApp } from "./app.ts";

/** Options for a dispatcher a test starts itself: small claims and a 20 ms poll. */
export const QUICK_DISPATCH: DispatcherOptions = {
  batchSize: 10,
  maxInFlight: 10,
  leaseSeconds: 30,
  pollMs: 20,
  orgMaxConcurrentCalls: 100,
};

/** A carrier that records what it is asked to dial; calls end unanswered when the test says so. */
export class RecordingCarrier implements Telephony {
  readonly name = "recording-test";
  readonly placed: OutboundCallRequest[] = [];
  private readonly gates = new Map<string, () => void>();
  /** When false, outcomes wait for release(callId). */
  constructor(private readonly autoRelease = false) {}

  async placeCalls(requests: readonly OutboundCallRequest[]): Promise<PlacedCall[]> {
    this.placed.push(...requests);
    return requests.map((r) => ({
      callId: r.callId,
      carrierCallId: `rec-${r.callId}`,
      outcome: () =>
        new Promise<CallOutcome>((resolve) => {
          const done = () =>
            resolve({ kind: "unanswered", reason: "no_answer", ringingAt: r.startedAt, endedAt: new Date() });
          if (this.autoRelease) done();
          else this.gates.set(r.callId, done);
        }),
    }));
  }

  /** Lets the call end (no answer); true when its outcome was being awaited. */
  release(callId: string): boolean {
    const g = this.gates.get(callId);
    this.gates.delete(callId);
    g?.();
    return g !== undefined;
  }

  /** The calls the dispatcher asked it to hang up, in order. */
  readonly hungUp: string[] = [];

  async hangup(callId: string): Promise<void> {
    this.hungUp.push(callId);
  }
}

/**
 * A dispatcher (not started) on the test app's database, or `db`, dialing through `carrier`; its
 * answered calls go to the app's conversations.
 */
export function testDispatcher(
  t: TestApp,
  carrier: Telephony,
  opts: Partial<DispatcherOptions> = {},
  db: Db = t.database.db,
): Dispatcher {
  const conversations = t.app.deps.conversations;
  assert.ok(conversations);
  return new Dispatcher(
    { db, telephony: carrier, logger: createLogger("silent"), onAnswered: conversations.onAnswered },
    { ...QUICK_DISPATCH, ...opts },
  );
}
