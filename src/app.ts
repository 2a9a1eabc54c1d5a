import type { FastifyInstance } from "fastify";
import { buildApi, type RouteGroup } from "./api/server.ts";
import type { Config } from "./config/index.ts";
import { createLogger, type Logger } from "./logging/index.ts";
import { type Db, migrate, openDatabase } from "./store/index.ts";
import type { Deps } from "./usecases/context.ts";
import { bootstrapApiKey } from "./usecases/keys/index.ts";

export interface App {
  deps: Deps;
  api: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The composition root: reads the config it is given once, opens and migrates the database, and
 * wires the dependencies. Nothing is built at import time.
 */
export async function createApp(
  config: Config,
  opts: { db?: Db; logger?: Logger; extraRoutes?: RouteGroup[] } = {},
): Promise<App> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = opts.db ?? (await openDatabase(config));
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
    if (config.apiKey) await bootstrapApiKey(db, config.apiKey);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  const deps: Deps = { db, config, logger };
  const api = await buildApi(deps, opts.extraRoutes ?? []);
  return {
    deps,
    api,
    async close() {
      await api.close();
      await db.close();
    },
  };
}
