export {
  createPosthogForwarding,
  type ForwarderOptions,
  PosthogForwarder,
  posthogForwardingTask,
} from "./forwarder.ts";
export { type EventItem, type EventQuery, listEvents } from "./list.ts";
export { parseIsoTime } from "./time.ts";
