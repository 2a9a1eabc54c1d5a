import path from "node:path";

/** Everything Cobbery reads from its environment, parsed once, with units in the names. */
export interface Config {
  databaseUrl: string | null;
  dataDir: string;
  port: number;
  host: string;
  /** Where `cobbery worker` serves GET /metrics and /healthz (on `host`); null: it serves no HTTP. */
  workerMetricsPort: number | null;
  apiKey: string | null;
  /** The carrier: the simulated one (a real adapter, Twilio first, plugs in behind the same port). */
  telephony: "sim";
  llm: { baseUrl: string; apiKey: string | null; model: string | null } | null;
  llmTimeoutMs: number;
  orgMaxConcurrentCalls: number;
  /** API requests per second per organization in each process, and the burst above it; null: no limit. */
  rateLimit: { perSecond: number; burst: number } | null;
  allowPrivateWebhooks: boolean;
  posthog: { host: string; apiKey: string } | null;
  logLevel: string;
  dispatch: {
    leaseSeconds: number;
    batchSize: number;
    maxInFlight: number;
    pollMs: number;
  };
  webhooks: {
    /** Multiplies the retry delays (tests use 0.001). */
    retryScale: number;
    /** How often an idle worker looks for new events and due deliveries. */
    pollMs: number;
    /** Per delivery request. */
    timeoutMs: number;
    /** Finished deliveries older than this are deleted. */
    retentionDays: number;
  };
}

export interface ConfigOverrides {
  port?: number | undefined;
  host?: string | undefined;
  workerMetricsPort?: number | undefined;
  dataDir?: string | undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  // Decimal digits only: Number() would also take "0x10", "1e3" or " 8 ".
  if (!/^-?\d+$/.test(raw) || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}".`);
  }
  return n;
}

/** Like integer(), but any decimal number (for scales). */
function decimal(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max)
    throw new ConfigError(`${name} must be a number between ${min} and ${max}, got "${raw}".`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? "").toLowerCase();
  if (raw === "" || raw === "false" || raw === "0") return false;
  if (raw === "true" || raw === "1") return true;
  throw new ConfigError(`${name} must be "true" or "false", got "${env[name]}".`);
}

function text(env: NodeJS.ProcessEnv, name: string): string | null {
  const v = env[name];
  return v === undefined || v === "" ? null : v;
}

/** An http(s) URL, checked at start: a bad one would otherwise fail every request later, as if transient. */
function httpUrl(env: NodeJS.ProcessEnv, name: string, example: string): string | null {
  const v = text(env, name);
  if (v === null) return null;
  const protocol = URL.canParse(v) ? new URL(v).protocol : null;
  if (protocol !== "http:" && protocol !== "https:")
    throw new ConfigError(`${name} must be an http(s) URL such as ${example}, got "${v}".`);
  return v;
}

function rateLimit(env: NodeJS.ProcessEnv): { perSecond: number; burst: number } | null {
  const perSecond = integer(env, "COBBERY_RATE_LIMIT", 100, 0, 1_000_000);
  if (perSecond === 0) return null;
  return { perSecond, burst: integer(env, "COBBERY_RATE_LIMIT_BURST", perSecond * 10, 1, 10_000_000) };
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function logLevel(env: NodeJS.ProcessEnv): string {
  const v = text(env, "LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(v))
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${v}".`);
  return v;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigOverrides = {}): Config {
  const telephony = text(env, "COBBERY_TELEPHONY") ?? "sim";
  if (telephony === "twilio") {
    // Refused here, before anything is opened: the adapter will plug in behind the same port.
    throw new ConfigError(
      "COBBERY_TELEPHONY=twilio: the Twilio adapter is not part of this build yet; use sim.",
    );
  }
  if (telephony !== "sim") throw new ConfigError(`COBBERY_TELEPHONY must be "sim", got "${telephony}".`);
  const llmBaseUrl = httpUrl(env, "COBBERY_LLM_BASE_URL", "https://api.openai.com/v1");
  const posthogHost = httpUrl(env, "COBBERY_POSTHOG_HOST", "https://us.i.posthog.com");
  const posthogKey = text(env, "COBBERY_POSTHOG_API_KEY");
  if ((posthogHost === null) !== (posthogKey === null)) {
    throw new ConfigError(
      "COBBERY_POSTHOG_HOST and COBBERY_POSTHOG_API_KEY go together: set both to forward analytics events to PostHog, or neither.",
    );
  }
  return {
    databaseUrl: text(env, "DATABASE_URL"),
    dataDir: path.resolve(flags.dataDir ?? text(env, "COBBERY_DATA_DIR") ?? ".cobbery"),
    port: flags.port ?? integer(env, "PORT", 8080, 0, 65535),
    host: flags.host ?? text(env, "HOST") ?? "127.0.0.1",
    workerMetricsPort:
      flags.workerMetricsPort ??
      (text(env, "COBBERY_WORKER_METRICS_PORT") === null
        ? null
        : integer(env, "COBBERY_WORKER_METRICS_PORT", 0, 0, 65535)),
    apiKey: text(env, "COBBERY_API_KEY"),
    telephony,
    llm: llmBaseUrl
      ? {
          baseUrl: llmBaseUrl.replace(/\/+$/, ""),
          apiKey: text(env, "COBBERY_LLM_API_KEY"),
          model: text(env, "COBBERY_LLM_MODEL"),
        }
      : null,
    llmTimeoutMs: integer(env, "COBBERY_LLM_TIMEOUT_MS", 30000, 1, 3_600_000),
    orgMaxConcurrentCalls: integer(env, "COBBERY_ORG_MAX_CONCURRENT_CALLS", 100, 1, 1_000_000),
    rateLimit: rateLimit(env),
    allowPrivateWebhooks: bool(env, "COBBERY_ALLOW_PRIVATE_WEBHOOKS"),
    posthog: posthogHost && posthogKey ? { host: posthogHost, apiKey: posthogKey } : null,
    logLevel: logLevel(env),
    dispatch: {
      leaseSeconds: integer(env, "COBBERY_DISPATCH_LEASE_SECONDS", 30, 1, 3600),
      batchSize: integer(env, "COBBERY_DISPATCH_BATCH_SIZE", 100, 1, 10_000),
      maxInFlight: integer(env, "COBBERY_DISPATCH_MAX_IN_FLIGHT", 1000, 1, 1_000_000),
      pollMs: integer(env, "COBBERY_DISPATCH_POLL_MS", 500, 10, 60_000),
    },
    webhooks: {
      retryScale: decimal(env, "COBBERY_WEBHOOK_RETRY_SCALE", 1, 0, 100),
      pollMs: integer(env, "COBBERY_WEBHOOK_POLL_MS", 250, 10, 60_000),
      timeoutMs: integer(env, "COBBERY_WEBHOOK_TIMEOUT_MS", 10_000, 100, 120_000),
      retentionDays: integer(env, "COBBERY_WEBHOOK_RETENTION_DAYS", 30, 1, 3650),
    },
  };
}
