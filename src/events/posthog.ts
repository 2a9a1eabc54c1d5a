import type { EventRow } from "../store/index.ts";
import { toEventItem } from "./list.ts";

/** A PostHog batch capture request: `POST {host}/batch/`. */
export interface PosthogBatch {
  api_key: string;
  historical_migration?: boolean;
  batch: Array<{
    event: string;
    uuid: string;
    timestamp: string;
    distinct_id: string;
    properties: Record<string, unknown>;
  }>;
}

/** PostHog asks backfills of events older than 48 hours to be flagged as historical migrations. */
const HISTORICAL_MS = 48 * 3600_000;

/**
 * The batch for some events. The distinct id is the job (the campaign for events without a job, the
 * organization for events without either); person profiles are not processed (a job is not a person).
 */
export function posthogBatch(apiKey: string, events: readonly EventRow[], now: Date): PosthogBatch {
  const batch = events.map((r) => {
    const item = toEventItem(r);
    const distinctId = r.job_id ?? r.campaign_id ?? r.org_id;
    return {
      event: item.event,
      uuid: item.uuid,
      timestamp: item.timestamp,
      distinct_id: distinctId,
      properties: {
        ...item.properties,
        org_id: r.org_id,
        distinct_id: distinctId,
        $process_person_profile: false,
      },
    };
  });
  const historical = events.every((e) => now.getTime() - e.occurred_at.getTime() > HISTORICAL_MS);
  return { api_key: apiKey, ...(historical ? { historical_migration: true } : {}), batch };
}

/** PostHog did not take a batch; `retryAfterMs` is what it asked for (429, 503), if anything. */
export class PosthogError extends Error {
  override name = "PosthogError";
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

function retryAfterMs(h: string | null): number | null {
  if (!h) return null;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** Sends one batch; resolves once PostHog answered 2xx, throws PosthogError otherwise. */
export async function sendPosthogBatch(
  host: string,
  body: PosthogBatch,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  let res: Response;
  try {
    res = await fetch(`${host.replace(/\/+$/, "")}/batch/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.any(signals),
    });
  } catch (e) {
    throw new PosthogError(`PostHog is unreachable: ${(e as Error).message}`, null, null);
  }
  // Drain the body so the connection can be reused; its content is not needed.
  await res.arrayBuffer().catch(() => {});
  if (!res.ok) {
    throw new PosthogError(
      `PostHog answered ${res.status} to a batch of ${body.batch.length} events`,
      res.status,
      retryAfterMs(res.headers.get("retry-after")),
    );
  }
}
