/**
 * Webhooks: endpoints an organization registers, and a durable outbox that the workers fan events
 * out into and deliver from, signed per the Standard Webhooks spec.
 */
export { nonPublicKind } from "./addresses.ts";
export { payloadOf, signedHeaders } from "./deliver.ts";
export { ALL_EVENTS, WEBHOOK_EVENT_TYPES, type WebhookEventType } from "./events.ts";
export { fanOutOnce, messageIdOf } from "./fanOut.ts";
export {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  type Webhook,
  type WebhookDelivery,
} from "./manage.ts";
export { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from "./retry.ts";
export { loadWebhookSettings, type WebhookSettings } from "./settings.ts";
export { WEBHOOK_TASK_NAME, WebhookWorker, webhookTask } from "./task.ts";
