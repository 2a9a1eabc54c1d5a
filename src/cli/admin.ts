import path from "node:path";
import type { Config } from "../config/index.ts";
import { createLogger } from "../logging/index.ts";
import { migrate, openPglite, openPostgres } from "../store/index.ts";
import { type AdminOps, directAdmin } from "./adminOps.ts";
import { socketAdmin, socketIsLive, socketPath } from "./adminSocket.ts";
import { acquireDataDirLock } from "./dataDirLock.ts";

/**
 * Runs fn with the admin operations reached the right way: a real PostgreSQL is opened directly (many
 * processes may share it); the embedded one through the running server's socket when there is one,
 * else directly, holding the data directory's lock.
 */
export async function withAdmin<T>(config: Config, fn: (ops: AdminOps) => Promise<T>): Promise<T> {
  if (!config.databaseUrl && (await socketIsLive(socketPath(config.dataDir)))) {
    return fn(socketAdmin(socketPath(config.dataDir)));
  }
  const release = config.databaseUrl ? () => {} : acquireDataDirLock(config.dataDir);
  const db = config.databaseUrl
    ? await openPostgres(config.databaseUrl, 4)
    : await openPglite(path.join(config.dataDir, "pgdata"));
  try {
    const applied = await migrate(db);
    // The migrations ran as the database was opened: `migrate` reports those.
    return await fn(
      directAdmin({ db, config, logger: createLogger("warn", process.stderr as never) }, async () => applied),
    );
  } finally {
    await db.close();
    release();
  }
}
