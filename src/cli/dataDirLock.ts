import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { ConfigError } from "../config/index.ts";

/** A takeover lock older than this was left by a process that died while taking over. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * The embedded database can be opened by one process at a time: whoever opens it holds this lock
 * file (with its pid). A lock left by a dead process is taken over, by one process only: the
 * takeover is itself locked, so that two processes seeing the same dead pid cannot both remove
 * the lock (one of them removing the other's fresh lock).
 */
export function acquireDataDirLock(dataDir: string): () => void {
  // Made its owner's alone when created here; an existing directory (a project's, a shared one) is
  // left as it is: the database's own directory in it is made private (openPglite).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, "cobbery.lock");
  for (let tries = 0; tries < 3; tries++) {
    if (createLock(file)) {
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      };
    }
    if (!existsSync(file)) continue; // released meanwhile: try again
    const holder = lockHolder(file);
    if (holder !== null && holder !== process.pid && isAlive(holder)) throw inUse(dataDir, holder);
    // A lock with no pid yet is being written by the process that just created it, unless it is old.
    if (holder === null && !olderThan(file, TAKEOVER_STALE_MS)) throw inUse(dataDir, null);
    takeOverStale(file, holder);
  }
  throw inUse(dataDir, lockHolder(file));
}

/** Creates the lock with our pid; false when it exists. */
function createLock(file: string): boolean {
  try {
    const fd = openSync(file, "wx", 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  }
}

/**
 * The pid in the lock file; null when it holds none (being written, or gone). A lock that cannot be
 * read (another user's) throws: it may well be held.
 */
function lockHolder(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Removes the lock of dead process `stale`, if it is still that lock, under the takeover lock. */
function takeOverStale(file: string, stale: number | null): void {
  const takeover = `${file}.takeover`;
  if (!createLock(takeover)) {
    // Another process is taking over; one that died doing so leaves a lock that goes stale.
    if (olderThan(takeover, TAKEOVER_STALE_MS)) {
      try {
        unlinkSync(takeover);
      } catch {
        // gone meanwhile
      }
    }
    return;
  }
  try {
    if (lockHolder(file) === stale) unlinkSync(file);
  } catch {
    // gone meanwhile: the next try creates it
  } finally {
    try {
      unlinkSync(takeover);
    } catch {
      // removed as stale by another process
    }
  }
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
}

const inUse = (dataDir: string, pid: number | null) =>
  new ConfigError(
    `The data directory ${dataDir} is in use${pid === null ? "" : ` by process ${pid}`}. Stop it, or set DATABASE_URL to use a PostgreSQL server that many processes can share.`,
  );

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
