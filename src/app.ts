import type { FastifyInstance } from "fastify";
import { buildApi, type RouteGroup } from "./api/server.ts";
import { BACKGROUND_TASKS, type BackgroundTask } from "./background.ts";
import type { Config } from "./config/index.ts";
import { createConversationRunner } from "./conversation/runner.ts";
import { type AnsweredCallHandler, Dispatcher } from "./dispatcher/index.ts";
import { createLlmClient } from "./llm/index.ts";
import { createLogger, type Logger } from "./logging/index.ts";
import { createMetrics, type Metrics } from "./metrics/index.ts";
import { type Db, migrate, openDatabase, rebaseMovedEventCursors } from "./store/index.ts";
import { createTelephony, simRoutes, type Telephony } from "./telephony/index.ts";
import type { Deps } from "./usecases/context.ts";
import { bootstrapApiKey } from "./usecases/keys/index.ts";

/** Everything but the HTTP API: what a worker process runs. */
export interface Core {
  /** With its metrics, which a core always has (Deps leaves them out for tools that serve none). */
  deps: Deps & { metrics: Metrics };
  telephony: Telephony;
  /** Builds a dispatcher worker on these dependencies (not started). */
  newDispatcher(): Dispatcher;
  /** Builds the background tasks a worker process runs beside its dispatcher (not started). */
  newBackgroundTasks(): BackgroundTask[];
  close(): Promise<void>;
}

/** The core and its HTTP API. */
export interface App extends Core {
  api: FastifyInstance;
}

export interface AppOptions {
  db?: Db;
  logger?: Logger;
  telephony?: Telephony;
  extraRoutes?: RouteGroup[];
  onAnswered?: AnsweredCallHandler;
}

/**
 * The composition root of a worker: reads the config it is given once, opens and migrates the
 * database, and wires the dependencies. Nothing is built at import time.
 */
export async function createCore(config: Config, opts: Omit<AppOptions, "extraRoutes"> = {}): Promise<Core> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = opts.db ?? (await openDatabase(config));
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
    if (await rebaseMovedEventCursors(db))
      logger.warn("the database was restored from another server: event cursors rebased onto this one");
    const apiKey = config.apiKey;
    if (apiKey) await db.tx((q) => bootstrapApiKey(q, apiKey));
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  const telephony = opts.telephony ?? createTelephony(config);
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
  const deps = { db, config, logger, conversations, metrics };
  const onAnswered = opts.onAnswered ?? conversations.onAnswered;
  return {
    deps,
    telephony,
    newDispatcher: () =>
      new Dispatcher(
        {
          db,
          telephony,
          logger,
          onAnswered,
          onHangup: (callId) => conversations.hangup(callId),
          liveCalls: () => conversations.liveCallIds(),
          metrics: metrics.dispatch,
        },
        { ...config.dispatch, orgMaxConcurrentCalls: config.orgMaxConcurrentCalls },
      ),
    newBackgroundTasks: () => BACKGROUND_TASKS.map((make) => make({ ...deps, telephony })),
    close: () => db.close(),
  };
}

/**
 * The core and its HTTP API (serve, the demo, tests). A worker process builds the core alone: the
 * API's route schemas take a noticeable time to compile, and a worker serves no HTTP.
 */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const core = await createCore(config, opts);
  const routes = [...(opts.extraRoutes ?? []), ...(config.telephony === "sim" ? [simRoutes] : [])];
  const api = await buildApi(core.deps, routes).catch(async (e) => {
    await core.close().catch(() => {});
    throw e;
  });
  return {
    ...core,
    api,
    async close() {
      // close() ends the keep-alive connections idle at that moment; one whose request was still
      // being answered would otherwise stay open for the keep-alive timeout (72 s) once it is idle.
      const sweep = setInterval(() => api.server.closeIdleConnections(), 100);
      try {
        await api.close();
      } finally {
        clearInterval(sweep);
      }
      await core.close();
    },
  };
}
