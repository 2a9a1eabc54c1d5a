import type { BackgroundTask, BackgroundTaskFactory } from "../background.ts";
import type { Logger } from "../logging/index.ts";
import { PollLoop } from "../pollLoop.ts";
import { type Db, forwardEvents } from "../store/index.ts";
import type { Deps } from "../usecases/context.ts";
import { PosthogError, posthogBatch, sendPosthogBatch } from "./posthog.ts";

/** The longest PostHog may ask us to wait (Retry-After) before the next try. */
const RETRY_AFTER_CAP_MS = 3_600_000;

export interface ForwarderOptions {
  /** Events per PostHog request. */
  batchSize: number;
  /** How often an idle forwarder looks for new events. */
  pollMs: number;
  /** Back-off after a failure: doubles from min to max (with jitter), or PostHog's Retry-After. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** One PostHog request at most; the cursor's lease (embedded database) is longer. */
  timeoutMs: number;
}

export const DEFAULT_FORWARDER_OPTIONS: ForwarderOptions = {
  batchSize: 100,
  pollMs: 1000,
  minBackoffMs: 1000,
  maxBackoffMs: 60_000,
  timeoutMs: 10_000,
};

/** The cursor's name in event_forwarding. */
export const POSTHOG_DESTINATION = "posthog";

interface ForwarderDeps {
  db: Db;
  logger: Logger;
  posthog: { host: string; apiKey: string };
  /** Counts forwarded events and failures, when metrics are wired in. */
  onForwarded?: (count: number) => void;
  onFailure?: () => void;
}

/**
 * Forwards events to PostHog in a task of its own, beside the dispatcher (it never holds up calls):
 * reads the events after a durable cursor, sends them in batches, advances the cursor only once
 * PostHog took the batch, and backs off while PostHog fails. Any number of processes may run it.
 */
export class PosthogForwarder implements BackgroundTask {
  readonly name = "posthog-forwarding";
  private readonly opts: ForwarderOptions;
  private readonly loop = new PollLoop(() => this.round());
  /** Failures in a row: the back-off grows with them. */
  private failures = 0;
  /** Aborted by stop(): the request under way ends at once. */
  private abort = new AbortController();

  constructor(
    private readonly deps: ForwarderDeps,
    opts: Partial<ForwarderOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FORWARDER_OPTIONS, ...opts };
  }

  async start(): Promise<void> {
    if (this.loop.running) return;
    this.abort = new AbortController();
    this.failures = 0;
    this.loop.start();
    this.deps.logger.info({ task: this.name }, "forwarding events to PostHog");
  }

  async stop(): Promise<void> {
    const stopped = this.loop.stop();
    // The loop is stopping first: round() then takes the aborted request for no failure.
    this.abort.abort();
    await stopped;
  }

  /** Sends what is waiting now: resolves with the number of events sent (tests, and the loop). */
  async forwardOnce(): Promise<number> {
    const { db, posthog } = this.deps;
    const r = await forwardEvents(
      db,
      POSTHOG_DESTINATION,
      this.opts.batchSize,
      Math.ceil(this.opts.timeoutMs / 1000) * 3,
      (events) =>
        sendPosthogBatch(posthog.host, posthogBatch(posthog.apiKey, events, new Date()), {
          timeoutMs: this.opts.timeoutMs,
          signal: this.abort.signal,
        }),
    );
    if (r.kind !== "sent") return 0;
    this.deps.onForwarded?.(r.count);
    return r.count;
  }

  private backoffMs(failures: number, e: unknown): number {
    const { minBackoffMs, maxBackoffMs } = this.opts;
    const asked = e instanceof PosthogError ? e.retryAfterMs : null;
    // PostHog's Retry-After is honoured even past the back-off's ceiling, up to an hour.
    if (asked !== null) return Math.min(Math.max(asked, minBackoffMs), RETRY_AFTER_CAP_MS);
    const exp = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(failures - 1, 20));
    return Math.max(minBackoffMs, Math.round(exp / 2 + (Math.random() * exp) / 2));
  }

  /** One round of the loop: how long to wait before the next (null: at once). */
  private async round(): Promise<number | null> {
    try {
      const sent = await this.forwardOnce();
      this.failures = 0;
      // A full batch: more are probably waiting.
      return sent < this.opts.batchSize ? this.opts.pollMs : null;
    } catch (e) {
      // Stopping aborts the request under way: that is no failure.
      if (this.loop.stopping) return null;
      this.failures++;
      this.deps.onFailure?.();
      const delay = this.backoffMs(this.failures, e);
      this.deps.logger.warn(
        {
          task: this.name,
          status: e instanceof PosthogError ? e.status : undefined,
          error: (e as Error).message,
          failures: this.failures,
          retryInMs: delay,
        },
        "forwarding events to PostHog failed; retrying",
      );
      return delay;
    }
  }
}

/** A task that does nothing: PostHog is not configured. */
const idle = (name: string): BackgroundTask => ({ name, start: async () => {}, stop: async () => {} });

/** The background task: forwards events when COBBERY_POSTHOG_HOST and COBBERY_POSTHOG_API_KEY are set. */
export function createPosthogForwarding(deps: Deps, opts: Partial<ForwarderOptions> = {}): BackgroundTask {
  const posthog = deps.config.posthog;
  if (!posthog) return idle("posthog-forwarding");
  const m = deps.metrics;
  return new PosthogForwarder(
    {
      db: deps.db,
      logger: deps.logger,
      posthog,
      ...(m
        ? {
            onForwarded: (n: number) => m.eventsForwarded.inc(n),
            onFailure: () => m.eventForwardingFailures.inc(),
          }
        : {}),
    },
    opts,
  );
}

export const posthogForwardingTask: BackgroundTaskFactory = (deps) => createPosthogForwarding(deps);
