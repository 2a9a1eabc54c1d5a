import { BatchWriter } from "../batchWriter.ts";
import { type CallClose, closeCalls } from "../store/dispatch/finish.ts";
import type { Db } from "../store/index.ts";

/**
 * Writes call endings and their job decisions in batches: calls that end close together share one
 * transaction. close() resolves once its row is committed.
 */
export class CallCloser {
  private readonly writer: BatchWriter<CallClose, void>;

  constructor(db: Db, maxBatch = 500) {
    this.writer = new BatchWriter<CallClose, void>(async (items) => {
      await db.tx((q) => closeCalls(q, items));
      return items.map(() => undefined);
    }, maxBatch);
  }

  close(item: CallClose): Promise<void> {
    return this.writer.write(item);
  }

  /** Resolves once everything queued so far is written. */
  drain(): Promise<void> {
    return this.writer.drain();
  }
}
