/**
 * When a failed delivery is tried again: after attempt n fails, RETRY_DELAYS_SECONDS[n - 1] later
 * (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), multiplied by the retry scale; after the 8th attempt
 * fails the delivery is failed for good. A `Retry-After` longer than the delay wins (unscaled).
 */
export const RETRY_DELAYS_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000] as const;

/** A receiver cannot push a retry further than this. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 3600;

/** Seconds until the next attempt after attempt `attempt` failed, or null when none is left. */
export function retryDelaySeconds(
  attempt: number,
  scale: number,
  retryAfterSeconds: number | null,
): number | null {
  const base = RETRY_DELAYS_SECONDS[attempt - 1];
  if (base === undefined) return null;
  return Math.max(base * scale, retryAfterSeconds ?? 0);
}

/** Retry-After: delay-seconds or an HTTP date; capped; null when absent or not understood. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  let seconds: number;
  if (/^\d+$/.test(v)) seconds = Number(v);
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return null;
    seconds = Math.max(0, (at - now) / 1000);
  }
  return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}
