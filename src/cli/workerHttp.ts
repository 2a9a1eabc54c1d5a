import http from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../config/index.ts";
import type { Metrics } from "../metrics/index.ts";

export type WorkerState = "starting" | "dispatching" | "stopping";

export interface WorkerHttp {
  /** The address it listens on, e.g. http://127.0.0.1:9464 (the real port when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/**
 * The small HTTP side of a `cobbery worker` (which serves no API): GET /metrics, the process's
 * Prometheus metrics as `serve` gives them (no key, no PII), and GET /healthz, 200 while the worker
 * dispatches and 503 while it starts or stops, for a supervisor's probes. Plain node:http: a worker has no
 * routes to validate, and the API's framework takes a noticeable time to start.
 */
export async function startWorkerHttp(o: {
  metrics: Metrics;
  host: string;
  port: number;
  state: () => WorkerState;
}): Promise<WorkerHttp> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      const state = o.state();
      res.writeHead(state === "dispatching" ? 200 : 503, {
        "content-type": "text/plain",
        "cache-control": "no-store",
      });
      res.end(`${state}\n`);
      return;
    }
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("GET /metrics or /healthz\n");
      return;
    }
    o.metrics.render().then(
      (m) => {
        res.writeHead(200, { "content-type": m.contentType, "cache-control": "no-store" });
        res.end(m.body);
      },
      () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          `The worker cannot serve its metrics on ${o.host}:${o.port} (COBBERY_WORKER_METRICS_PORT, --metrics-port): ${e.code ?? e.message}.`,
        ),
      );
    server.once("error", failed);
    server.listen(o.port, o.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
