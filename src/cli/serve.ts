import type { FastifyInstance } from "fastify";
import { type Core, createApp, createCore } from "../app.ts";
import type { Config } from "../config/index.ts";
import { conflict } from "../errors/index.ts";
import { isMigrated } from "../store/index.ts";
import { type AdminOps, directAdmin } from "./adminOps.ts";
import { startAdminSocket } from "./adminSocket.ts";
import { acquireDataDirLock } from "./dataDirLock.ts";
import { startWorkerHttp, type WorkerState } from "./workerHttp.ts";

/**
 * A process's dispatcher and background tasks, started in order; `stop` stops them in the same
 * order (claim nothing more first; live calls finish or are handed back through their leases). A
 * start that fails stops what had started and throws.
 */
async function startWork(core: Core): Promise<{ id: string; stop(): Promise<void>; hurry(): void }> {
  const dispatcher = core.newDispatcher();
  const tasks = core.newBackgroundTasks();
  const stop = async () => {
    await dispatcher.stop();
    for (const t of tasks) await t.stop();
  };
  try {
    await dispatcher.start();
    for (const t of tasks) await t.start();
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  return { id: dispatcher.id, stop, hurry: () => dispatcher.hurry() };
}

/**
 * On the first SIGTERM or SIGINT: `shutDown`, then exit (0, or 1 if shutting down failed). A second
 * signal cuts the grace short (`hurry`: live calls are handed back now); a third exits at once.
 */
function exitOnSignal(shutDown: (signal: string) => Promise<void>, hurry: () => void = () => {}): void {
  let signals = 0;
  const on = (signal: string) => {
    signals++;
    if (signals === 2) {
      process.stderr.write(`${signal} again: handing back live calls now (once more to exit at once).\n`);
      hurry();
    }
    if (signals >= 3) process.exit(signal === "SIGINT" ? 130 : 143);
    if (signals > 1) return;
    shutDown(signal).then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`Shutting down failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => on("SIGTERM"));
  process.on("SIGINT", () => on("SIGINT"));
}

/**
 * The admin operations the server offers the CLI on its socket. It migrated its database at start:
 * migrations that appeared on disk since come with a newer Cobbery, whose code must run them, so
 * they are refused with what to do rather than applied under the running (older) code.
 */
function serverAdmin(app: Core): AdminOps {
  return directAdmin(app.deps, async () => {
    if (!(await isMigrated(app.deps.db)))
      throw conflict(
        "The running server is older than the migrations on disk: stop it and start it again, which applies them.",
      );
    return [];
  });
}

/** `cobbery serve`: the HTTP API (and, on the embedded database, the local admin socket). */
export async function serve(config: Config, opts: { worker: boolean }): Promise<void> {
  const embedded = !config.databaseUrl;
  const release = embedded ? acquireDataDirLock(config.dataDir) : () => {};
  const app = await createApp(config).catch((e) => {
    release();
    throw e;
  });
  let admin: FastifyInstance | null = null;
  let work: Awaited<ReturnType<typeof startWork>> | null = null;
  const closeAll = async () => {
    await admin?.close();
    await app.close();
    release();
  };
  let address: string;
  try {
    admin = embedded ? await startAdminSocket(config.dataDir, serverAdmin(app)) : null;
    // Bound before the worker starts: a port serve cannot take stops it before it dials anyone.
    address = await app.api.listen({ port: config.port, host: config.host });
    work = opts.worker ? await startWork(app) : null;
  } catch (e) {
    // Nothing may keep the process alive (the worker, the socket, the pool): it exits with the error.
    await work?.stop().catch(() => {});
    await closeAll().catch(() => {});
    throw e;
  }
  const where = embedded ? `embedded database in ${config.dataDir}` : "PostgreSQL from DATABASE_URL";
  process.stderr.write(
    `Cobbery is listening on ${address} (${where}); API docs at /docs${opts.worker ? "" : "; no worker"}.\n`,
  );
  exitOnSignal(
    async (signal) => {
      app.deps.logger.info({ signal }, "shutting down");
      await work?.stop();
      await closeAll();
    },
    () => work?.hurry(),
  );
}

/** `cobbery worker`: a dispatcher alone, against the shared PostgreSQL. */
export async function runWorker(config: Config): Promise<void> {
  const app = await createCore(config);
  let state: WorkerState = "starting";
  // Bound before anything starts: a port it cannot take stops the worker before it claims a job.
  const http =
    config.workerMetricsPort === null
      ? null
      : await startWorkerHttp({
          metrics: app.deps.metrics,
          host: config.host,
          port: config.workerMetricsPort,
          state: () => state,
        }).catch(async (e) => {
          await app.close();
          throw e;
        });
  const closeAll = async () => {
    await http?.close();
    await app.close();
  };
  const work = await startWork(app).catch(async (e) => {
    // Nothing may keep the process alive (the metrics server, the pool): it exits with the error.
    state = "stopping";
    await closeAll().catch(() => {});
    throw e;
  });
  state = "dispatching";
  process.stderr.write(
    `Cobbery worker ${work.id} is dispatching.${http ? ` Metrics: ${http.url}/metrics` : ""}\n`,
  );
  exitOnSignal(
    async () => {
      state = "stopping";
      await work.stop();
      await closeAll();
    },
    () => work.hurry(),
  );
}
