import type { BackgroundTask } from "../background.ts";
import type { Logger } from "../logging/index.ts";
import { PeriodicTask } from "../periodicTask.ts";
import { foldLiveCallCounters } from "../store/dispatch/liveCalls.ts";
import type { Db } from "../store/index.ts";

export const LIVE_CALL_COUNTERS_TASK_NAME = "live-call-counters";

/**
 * A BACKGROUND_TASKS entry (src/background.ts): folds the live-call counters the claims sum (one row
 * per database session) into one row per campaign and direction, every `intervalMs`, so that those
 * sums stay small however many sessions came and went. Exact while dispatchers write, so any number
 * of processes may run it.
 */
export const liveCallCountersTask = (deps: { db: Db; logger: Logger }, intervalMs = 60_000): BackgroundTask =>
  new PeriodicTask(LIVE_CALL_COUNTERS_TASK_NAME, intervalMs, deps.logger, async () => {
    const folded = await deps.db.tx(foldLiveCallCounters);
    if (folded > 0) deps.logger.debug({ folded }, "live-call counters folded");
  });
