import { type CallClose, closeCalls } from "../store/dispatch/finish.ts";
import type { Db } from "../store/index.ts";

/**
 * Writes call endings and their job decisions in batches: calls that end close together share one
 * transaction. close() resolves once its row is committed.
 */
export class CallCloser {
  private queue: Array<{ item: CallClose; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 500,
  ) {}

  close(item: CallClose): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) this.flushing = new Promise((r) => setImmediate(r)).then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.db.tx((q) =>
          closeCalls(
            q,
            batch.map((b) => b.item),
          ),
        );
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.flushing = null;
  }

  /** Resolves once everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }
}
