import type { FastifyInstance } from "fastify";
import { buildApi, type RouteGroup } from "./api/server.ts";
import { BACKGROUND_TASKS, type BackgroundTask } from "./background.ts";
import type { Config } from "./config/index.ts";
import { createConversationRunner } from "./conversation/runner.ts";
import { type AnsweredCallHandler, Dispatcher } from "./dispatcher/index.ts";
import { createLlmClient } from "./llm/index.ts";
import { createLogger, type Logger } from "./logging/index.ts";
import { createMetrics } from "./metrics/index.ts";
import { type Db, migrate, openDatabase } from "./store/index.ts";
import { createTelephony, simRoutes, type Telephony } from "./telephony/index.ts";
import type { Deps } from "./usecases/context.ts";
import { bootstrapApiKey } from "./usecases/keys/index.ts";

export interface App {
  deps: Deps;
  api: FastifyInstance;
  telephony: Telephony;
  /** Builds a dispatcher worker on this app's dependencies (not started). */
  newDispatcher(): Dispatcher;
  /** Builds the background tasks a worker process runs beside its dispatcher (not started). */
  newBackgroundTasks(): BackgroundTask[];
  close(): Promise<void>;
}

export interface AppOptions {
  db?: Db;
  logger?: Logger;
  telephony?: Telephony;
  extraRoutes?: RouteGroup[];
  onAnswered?: AnsweredCallHandler;
}

/**
 * The composition root: reads the config it is given once, opens and migrates the database, and
 * wires the dependencies. Nothing is built at import time.
 */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
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
  const telephony = opts.telephony ?? createTelephony(config, db);
  const llm = config.llm
    ? createLlmClient({
        baseUrl: config.llm.baseUrl,
        apiKey: config.llm.apiKey,
        timeoutMs: config.llmTimeoutMs,
        logger,
      })
    : null;
  const conversations = createConversationRunner({ db, config, logger, llm });
  const metrics = createMetrics({ db, logger });
  const deps: Deps = { db, config, logger, conversations, metrics };
  const routes = [...(opts.extraRoutes ?? []), ...(config.telephony === "sim" ? [simRoutes] : [])];
  const api = await buildApi(deps, routes);
  const onAnswered = opts.onAnswered ?? conversations.onAnswered;
  return {
    deps,
    api,
    telephony,
    newDispatcher: () =>
      new Dispatcher(
        {
          db,
          telephony,
          logger,
          onAnswered,
          onHangup: (callId) => conversations.hangup(callId),
          metrics: metrics.dispatch,
        },
        { ...config.dispatch, orgMaxConcurrentCalls: config.orgMaxConcurrentCalls },
      ),
    newBackgroundTasks: () => BACKGROUND_TASKS.map((make) => make({ ...deps, telephony })),
    async close() {
      await api.close();
      await db.close();
    },
  };
}
