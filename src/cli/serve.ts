import { createApp, createCore } from "../app.ts";
import type { Config } from "../config/index.ts";
import { directAdmin } from "./adminOps.ts";
import { startAdminSocket } from "./adminSocket.ts";
import { acquireDataDirLock } from "./dataDirLock.ts";
import { startWorkerHttp, type WorkerState } from "./workerHttp.ts";

/** `cobbery serve`: the HTTP API (and, on the embedded database, the local admin socket). */
export async function serve(config: Config, opts: { worker: boolean }): Promise<void> {
  const embedded = !config.databaseUrl;
  const release = embedded ? acquireDataDirLock(config.dataDir) : () => {};
  const app = await createApp(config).catch((e) => {
    release();
    throw e;
  });
  const admin = embedded ? await startAdminSocket(config.dataDir, directAdmin(app.deps)) : null;
  const dispatcher = opts.worker ? app.newDispatcher() : null;
  const tasks = opts.worker ? app.newBackgroundTasks() : [];
  await dispatcher?.start();
  for (const t of tasks) await t.start();
  const address = await app.api.listen({ port: config.port, host: config.host });
  const where = embedded ? `embedded database in ${config.dataDir}` : "PostgreSQL from DATABASE_URL";
  process.stderr.write(
    `Cobbery is listening on ${address} (${where}); API docs at /docs${opts.worker ? "" : "; no worker"}.\n`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.deps.logger.info({ signal }, "shutting down");
    // Stop claiming first; live calls finish (or are handed back through their leases).
    await dispatcher?.stop();
    for (const t of tasks) await t.stop();
    await admin?.close();
    await app.close();
    release();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/** `cobbery worker`: a dispatcher alone, against the shared PostgreSQL. */
export async function runWorker(config: Config): Promise<void> {
  const app = await createCore(config);
  const dispatcher = app.newDispatcher();
  const tasks = app.newBackgroundTasks();
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
  const shutDown = async () => {
    await dispatcher.stop();
    for (const t of tasks) await t.stop();
    await http?.close();
    await app.close();
  };
  try {
    await dispatcher.start();
    for (const t of tasks) await t.start();
  } catch (e) {
    // Nothing may keep the process alive (the metrics server, the pool): it exits with the error.
    state = "stopping";
    await shutDown().catch(() => {});
    throw e;
  }
  state = "dispatching";
  process.stderr.write(
    `Cobbery worker ${dispatcher.id} is dispatching.${http ? ` Metrics: ${http.url}/metrics` : ""}\n`,
  );
  const stop = async () => {
    if (state === "stopping") return;
    state = "stopping";
    await shutDown();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}
