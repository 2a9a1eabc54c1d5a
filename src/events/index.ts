export {
  createPosthogForwarding,
  DEFAULT_FORWARDER_OPTIONS,
  type ForwarderOptions,
  POSTHOG_DESTINATION,
  PosthogForwarder,
  posthogForwardingTask,
} from "./forwarder.ts";
export { type EventItem, type EventQuery, listEvents, parseEventQuery, toEventItem } from "./list.ts";
export { type PosthogBatch, PosthogError, posthogBatch, sendPosthogBatch } from "./posthog.ts";
export { parseIsoTime } from "./time.ts";
