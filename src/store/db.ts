/** The database port: the same SQL runs on embedded PGlite and on a real PostgreSQL server. */
export type Row = Record<string, unknown>;

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface ListenGaps {
  onLost?: () => void;
  onGap?: () => void;
}

export interface Db extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** Runs fn in one transaction; rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls fn with the payload of each NOTIFY on the channel; returns how to stop listening. A
   * listening session that is lost (the server restarted) is opened again: `onLost` is called when
   * it ends, `onGap` once it is open again (notifications sent meanwhile were missed).
   */
  listen(channel: string, fn: (payload: string) => void, gaps?: ListenGaps): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** PostgreSQL error codes the use cases react to. */
export const PG_UNIQUE_VIOLATION = "23505";

export function pgErrorCode(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return undefined;
}

/** The name of the violated constraint, on both drivers. */
export function pgConstraint(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "constraint" in e && typeof e.constraint === "string") {
    return e.constraint;
  }
  return undefined;
}
