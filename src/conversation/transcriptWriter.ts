import type { TranscriptEntry } from "../store/calls.ts";
import { appendTranscripts } from "../store/conversations.ts";
import type { Db } from "../store/index.ts";

/**
 * Writes transcript entries while calls go on, batched across calls (a few milliseconds apart), so
 * that a crash mid-call keeps what was said without a database round trip per turn.
 */
export class TranscriptWriter {
  private pending = new Map<string, { fence: number; entries: TranscriptEntry[] }>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly delayMs = 20,
  ) {}

  append(callId: string, fence: number, e: TranscriptEntry): void {
    const p = this.pending.get(callId);
    if (p) p.entries.push(e);
    else this.pending.set(callId, { fence, entries: [e] });
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
  }

  /** Drops what is not yet written for a call whose whole transcript is about to be saved. */
  forget(callId: string): void {
    this.pending.delete(callId);
  }

  flush(): Promise<void> {
    const batch = [...this.pending.entries()].map(([callId, p]) => ({
      call_id: callId,
      fence: p.fence,
      entries: p.entries,
    }));
    this.pending.clear();
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => appendTranscripts(this.db, batch).catch(() => {}));
    return this.flushing;
  }
}
