/**
 * Webhooks: endpoints an organization registers, and a durable outbox that the workers fan events
 * out into and deliver from, signed per the Standard Webhooks spec.
 */
export { payloadOf, signedHeaders } from "./deliver.ts";
export { WEBHOOK_EVENT_TYPES } from "./events.ts";
export { fanOutOnce } from "./fanOut.ts";
export {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  type Webhook,
  type WebhookDelivery,
} from "./manage.ts";
export { pruneWebhookDeliveries, WEBHOOK_PRUNING_TASK_NAME, webhookPruningTask } from "./prune.ts";
export { WEBHOOK_TASK_NAME, WebhookWorker, webhookTask } from "./task.ts";
