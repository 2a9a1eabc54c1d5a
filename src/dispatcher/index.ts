export type { AnsweredCallHandler } from "./answered.ts";
export { claimDueJobs } from "./claim.ts";
export { CallCloser } from "./closer.ts";
export type { DialedCall } from "./dial.ts";
export { reapExpiredLeases } from "./reaper.ts";
export {
  DEFAULT_DISPATCHER_OPTIONS,
  Dispatcher,
  type DispatcherOptions,
  DUE_CHANNEL,
  HANGUP_CHANNEL,
} from "./worker.ts";
