import { ConfigError } from "../config/index.ts";

/** How the webhook worker runs; read from the environment once, when the task is built. */
export interface WebhookSettings {
  /** Multiplies the retry delays (tests use 0.001). COBBERY_WEBHOOK_RETRY_SCALE, default 1. */
  retryScale: number;
  /** How often an idle worker looks for new events and due deliveries. COBBERY_WEBHOOK_POLL_MS. */
  pollMs: number;
  /** Per delivery request. COBBERY_WEBHOOK_TIMEOUT_MS, default 10000. */
  timeoutMs: number;
  /** Deliveries one worker has under way at most. */
  maxInFlight: number;
  /** Events read per fan-out transaction. */
  fanOutBatch: number;
  /** Finished deliveries older than this are deleted. COBBERY_WEBHOOK_RETENTION_DAYS, default 30. */
  retentionDays: number;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a number between ${min} and ${max}, got "${raw}".`);
  return n;
}

export function loadWebhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings {
  return {
    retryScale: number(env, "COBBERY_WEBHOOK_RETRY_SCALE", 1, 0, 100),
    pollMs: Math.round(number(env, "COBBERY_WEBHOOK_POLL_MS", 250, 10, 60_000)),
    timeoutMs: Math.round(number(env, "COBBERY_WEBHOOK_TIMEOUT_MS", 10_000, 100, 120_000)),
    maxInFlight: 50,
    fanOutBatch: 500,
    retentionDays: number(env, "COBBERY_WEBHOOK_RETENTION_DAYS", 30, 1, 3650),
  };
}

/** The lease of one attempt: past it, another worker tries again. */
export const leaseSecondsOf = (s: WebhookSettings): number => Math.ceil(s.timeoutMs / 1000) + 20;
