import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors/index.ts";

/**
 * What a request costs, in requests: a preview renders the campaign's templates with the caller's
 * job (up to a second each, on the process's one thread), so it counts as ten.
 */
const COST: Record<string, number> = { "/v1/campaigns/:Id/preview": 10 };
/** How often, at most, idle organizations are looked for once many are known. */
const SWEEP_EVERY_MS = 10_000;

/**
 * Requests per organization, in this process: a token bucket refilled at `perSecond`, holding up
 * to `burst`. One organization's flood (or expensive previews) cannot take the API, the dispatcher
 * and the live calls sharing this process from the others.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /**
   * Takes `cost` from the organization's bucket: 0 when taken, else the milliseconds until it can
   * be. `now` is monotonic milliseconds (performance.now()), not the wall clock.
   */
  take(orgId: string, cost: number, now: number = performance.now()): number {
    let b = this.buckets.get(orgId);
    if (!b) {
      if (this.buckets.size > 10_000 && now - this.lastSweep > SWEEP_EVERY_MS) this.forgetIdle(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(orgId, b);
    }
    // performance.now() does not step with the host clock (a wall clock stepped back 2 h emptied
    // every bucket for 2 h); a `now` earlier than the last one refills nothing and takes nothing.
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * this.perSecond);
    b.at = Math.max(b.at, now);
    // A request costing more than the bucket holds waits for a full bucket, not forever.
    const due = Math.min(cost, this.burst);
    if (b.tokens >= due) {
      b.tokens -= due;
      return 0;
    }
    return Math.ceil(((due - b.tokens) / this.perSecond) * 1000);
  }

  /** Forgets organizations idle long enough for their bucket to be full again: nothing is lost. */
  private forgetIdle(now: number): void {
    this.lastSweep = now;
    const refilledMs = (this.burst / this.perSecond) * 1000;
    for (const [org, b] of this.buckets) if (now - b.at >= refilledMs) this.buckets.delete(org);
  }
}

/** After authentication: a request over its organization's rate answers 429 with Retry-After. */
export function rateLimitHook(limiter: RateLimiter) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const waitMs = limiter.take(req.orgId, COST[req.routeOptions.url ?? ""] ?? 1);
    if (waitMs === 0) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    void reply.header("retry-after", String(seconds));
    throw new AppError(
      "rate_limited",
      `Too many requests for this organization: retry after ${seconds} s (Retry-After), or raise COBBERY_RATE_LIMIT.`,
    );
  };
}
