import type { Config } from "../config/index.ts";
import type { ConversationRunner } from "../conversation/runner.ts";
import type { Logger } from "../logging/index.ts";
import type { Metrics } from "../metrics/index.ts";
import type { Db } from "../store/index.ts";

/** Everything a use case may touch, passed in as one typed bag: no singletons. */
export interface Deps {
  db: Db;
  config: Config;
  logger: Logger;
  /** Runs connected calls; absent in tools that place no calls (the CLI). */
  conversations?: ConversationRunner;
  /** The process's Prometheus metrics (GET /metrics); absent in tools that serve none (the CLI). */
  metrics?: Metrics;
}

/** A use case runs for one organization. */
export interface Ctx {
  deps: Deps;
  orgId: string;
}

export interface Page<T> {
  Items: T[];
  NextCursor: string | null;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Builds a page from `limit + 1` fetched rows: the extra row only says that there is more. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
  cursorOf: (r: R) => string,
): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return { Items: items.map(map), NextCursor: more && last !== undefined ? cursorOf(last) : null };
}
