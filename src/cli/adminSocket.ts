import { chmodSync, existsSync, unlinkSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { toAppError } from "../api/errors.ts";
import { ConfigError } from "../config/index.ts";
import { AppError, type ErrorCode, type ErrorDetail, httpStatusOf } from "../errors/index.ts";
import { ADMIN_METHODS, type AdminOps } from "./adminOps.ts";

export const socketPath = (dataDir: string): string => path.join(dataDir, "cobbery.sock");
const MAX_SOCKET_PATH = 103;

/**
 * The local channel through which CLI commands reach a running server that holds the embedded
 * database: a Unix socket in the data directory, readable and writable by its owner only.
 */
export async function startAdminSocket(dataDir: string, ops: AdminOps): Promise<FastifyInstance> {
  const file = socketPath(dataDir);
  // The system cuts longer socket paths (about 107 bytes on Linux, 103 on macOS): the socket would
  // land elsewhere and no command would find it.
  const bytes = Buffer.byteLength(path.resolve(file));
  if (bytes > MAX_SOCKET_PATH) {
    throw new ConfigError(
      `The data directory's path is too long for its local socket (${bytes} bytes with "cobbery.sock", at most ${MAX_SOCKET_PATH}): choose a shorter --data-dir (or COBBERY_DATA_DIR).`,
    );
  }
  if (existsSync(file)) unlinkSync(file);
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.setErrorHandler((error, _req, reply) => {
    const e = toAppError(error as Error);
    void reply.status(httpStatusOf[e.code]).send(e.toBody());
  });
  app.post<{ Params: { method: string }; Body: { args: unknown[] } }>("/rpc/:method", async (req) => {
    const method = req.params.method as (typeof ADMIN_METHODS)[number];
    if (!ADMIN_METHODS.includes(method)) throw new AppError("not_found", `Unknown admin method ${method}.`);
    const fn = ops[method] as (...a: unknown[]) => Promise<unknown>;
    return { result: (await fn(...(req.body.args ?? []))) ?? null };
  });
  // The socket is created with no permissions for others before anyone can connect to it.
  const previous = process.umask(0o177);
  try {
    await app.listen({ path: file });
  } finally {
    process.umask(previous);
  }
  chmodSync(file, 0o600);
  return app;
}

/** An AdminOps that forwards each call to the server listening on `file`. */
export function socketAdmin(file: string): AdminOps {
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ args });
      const req = http.request(
        {
          socketPath: file,
          path: `/rpc/${method}`,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          // A server that stops mid-answer (killed, shut down) ends the response early: the call
          // fails with that, rather than waiting for an end that never comes.
          res.on("aborted", () => reject(serverGone()));
          res.on("error", () => reject(serverGone()));
          res.on("close", () => {
            if (!res.complete) reject(serverGone());
          });
          res.on("end", () => {
            let parsed: {
              result?: unknown;
              Error?: { Code?: ErrorCode; Message?: string; Details?: ErrorDetail[] };
            };
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              return reject(new AppError("internal", "The running server gave an answer that is not JSON."));
            }
            if (res.statusCode === 200) resolve(parsed.result);
            else
              reject(
                new AppError(
                  parsed.Error?.Code ?? "internal",
                  parsed.Error?.Message ?? "admin call failed",
                  parsed.Error?.Details ?? [],
                ),
              );
          });
        },
      );
      req.on("error", (e) => reject(isGone(e) ? serverGone() : e));
      req.end(body);
    });
  const ops: Record<string, unknown> = {};
  for (const m of ADMIN_METHODS) ops[m] = (...args: unknown[]) => call(m, args);
  return ops as unknown as AdminOps;
}

const serverGone = () =>
  new AppError("internal", "The running server stopped before it answered (it was shut down or killed).");
const isGone = (e: unknown) =>
  ["ECONNRESET", "EPIPE", "ECONNREFUSED"].includes(String((e as { code?: unknown }).code));

/** True when a server answers on the socket (a stale socket file from a crash does not count). */
export function socketIsLive(file: string): Promise<boolean> {
  if (!existsSync(file)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.request({ socketPath: file, path: "/rpc/ping", method: "POST" }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}
