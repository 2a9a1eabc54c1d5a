import { analyticsCompactionTask } from "./analytics/index.ts";
import { liveCallCountersTask } from "./dispatcher/liveCounters.ts";
import { posthogForwardingTask } from "./events/index.ts";
import type { Telephony } from "./telephony/index.ts";
import { rescheduleResumeTask } from "./usecases/campaigns/rescheduleJobs.ts";
import type { Deps } from "./usecases/context.ts";
import { webhookPruningTask, webhookTask } from "./webhooks/index.ts";

/**
 * Work that runs beside the dispatcher in every worker process (`serve` and `worker`): webhook
 * deliveries, analytics forwarding, housekeeping. Each is durable in the database, so any number of
 * processes may run them.
 */
export interface BackgroundTask {
  readonly name: string;
  start(): Promise<void>;
  /** Stops taking new work and finishes (or hands back) what is under way. */
  stop(): Promise<void>;
}

export type BackgroundTaskFactory = (deps: Deps & { telephony: Telephony }) => BackgroundTask;

/** The background tasks of a worker process. */
export const BACKGROUND_TASKS: BackgroundTaskFactory[] = [
  posthogForwardingTask,
  webhookTask,
  webhookPruningTask,
  analyticsCompactionTask,
  liveCallCountersTask,
  rescheduleResumeTask,
];
