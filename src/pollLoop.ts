/**
 * The loop of a worker that polls (dispatcher claims, PostHog forwarder, webhook deliveries): runs `round`
 * until stopped, sleeping between rounds as long as each asks (null: go on at once, more is waiting).
 * `wake()` cuts a sleep short (new work, or room for it); `stop()` does too, so a stopping task never
 * waits out its poll interval, and then waits for the round under way.
 */
export class PollLoop {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  /** A wake came while a round ran: what it announced may have come after the round looked. */
  private wokenDuringRound = false;

  /** `round` resolves with the milliseconds to sleep before the next one; it must not throw. */
  constructor(private readonly round: () => Promise<number | null>) {}

  /** Whether stop() was called: a round checks it before taking new work. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Whether the loop runs (started, and not stopped yet). */
  get running(): boolean {
    return this.loop !== null;
  }

  /** Starts the loop, unless it is running; the first round after `firstAfterMs` (or a wake). */
  start(firstAfterMs = 0): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run(firstAfterMs);
  }

  /** Ends the sleep, and resolves once the round under way has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    this.loop = null;
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wokenDuringRound = true;
  }

  private async run(firstAfterMs: number): Promise<void> {
    if (firstAfterMs > 0) await this.sleep(firstAfterMs);
    while (!this.stopped) {
      this.wokenDuringRound = false;
      const ms = await this.round();
      // A wake during the round is not lost: the next round runs at once instead of after the sleep.
      if (ms !== null && !this.stopped && !this.wokenDuringRound) await this.sleep(ms);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
