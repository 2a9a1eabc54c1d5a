import type { BackgroundTask, BackgroundTaskFactory } from "../background.ts";
import type { Logger } from "../logging/index.ts";
import { PollLoop } from "../pollLoop.ts";
import { foldLiveCallCounters } from "../store/dispatch/liveCalls.ts";
import type { Db } from "../store/index.ts";

export const LIVE_CALL_COUNTERS_TASK_NAME = "live-call-counters";

/**
 * Folds the live-call counters the claims sum (one row per database session) into one row per
 * campaign and direction, every `intervalMs`, so that those sums stay small however many sessions
 * came and went. Exact while dispatchers write, so any number of processes may run it.
 */
export class LiveCallCountersTask implements BackgroundTask {
  readonly name = LIVE_CALL_COUNTERS_TASK_NAME;
  private readonly loop = new PollLoop(async () => {
    try {
      const folded = await this.deps.db.tx(foldLiveCallCounters);
      if (folded > 0) this.deps.logger.debug({ folded }, "live-call counters folded");
    } catch (e) {
      this.deps.logger.warn({ err: e }, "folding the live-call counters failed");
    }
    return this.intervalMs;
  });

  constructor(
    private readonly deps: { db: Db; logger: Logger },
    private readonly intervalMs = 60_000,
  ) {}

  async start(): Promise<void> {
    this.loop.start(this.intervalMs);
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}

/** A BACKGROUND_TASKS entry (src/background.ts). */
export const liveCallCountersTask: BackgroundTaskFactory = (deps) =>
  new LiveCallCountersTask({ db: deps.db, logger: deps.logger });
