import type { BackgroundTask, BackgroundTaskFactory } from "../background.ts";
import type { Logger } from "../logging/index.ts";
import { type Db, forwardEvents } from "../store/index.ts";
import type { Deps } from "../usecases/context.ts";
import { PosthogError, posthogBatch, sendPosthogBatch } from "./posthog.ts";

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
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly deps: ForwarderDeps,
    opts: Partial<ForwarderOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FORWARDER_OPTIONS, ...opts };
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.loop = this.run();
    this.deps.logger.info({ task: this.name }, "forwarding events to PostHog");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private backoffMs(failures: number, e: unknown): number {
    const { minBackoffMs, maxBackoffMs } = this.opts;
    const asked = e instanceof PosthogError ? e.retryAfterMs : null;
    if (asked !== null) return Math.min(Math.max(asked, minBackoffMs), maxBackoffMs);
    const exp = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const sent = await this.forwardOnce();
        failures = 0;
        // A full batch: more are probably waiting.
        if (sent < this.opts.batchSize) await this.sleep(this.opts.pollMs);
      } catch (e) {
        if (this.stopping) break;
        failures++;
        this.deps.onFailure?.();
        const delay = this.backoffMs(failures, e);
        this.deps.logger.warn(
          {
            task: this.name,
            status: e instanceof PosthogError ? e.status : undefined,
            error: (e as Error).message,
            failures,
            retryInMs: delay,
          },
          "forwarding events to PostHog failed; retrying",
        );
        await this.sleep(delay);
      }
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
