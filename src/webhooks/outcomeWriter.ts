import { type AttemptOutcome, type Db, recordOutcomes } from "../store/index.ts";

interface Waiting {
  outcome: AttemptOutcome;
  done: (written: boolean) => void;
  failed: (e: unknown) => void;
}

/** Outcomes written per statement at most. */
const MAX_BATCH = 500;

/**
 * Writes the outcomes of a worker's attempts: the first at once, and those that finish while a
 * write is under way together in the next statement. Attempts finish in bursts (a claim starts
 * many at once), and one statement per attempt would keep the pool busy and the next claim waiting.
 * Nothing is held back longer than the write before it takes.
 */
export class OutcomeWriter {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly db: Db) {}

  /** Resolves with whether the outcome was written (false: the attempt's lease had been taken over). */
  write(outcome: AttemptOutcome): Promise<boolean> {
    return new Promise((done, failed) => {
      this.waiting.push({ outcome, done, failed });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      try {
        const written = await recordOutcomes(
          this.db,
          batch.map((w) => w.outcome),
        );
        for (const w of batch) w.done(written.has(w.outcome.id));
      } catch (e) {
        for (const w of batch) w.failed(e);
      }
    }
    this.writing = false;
  }
}
