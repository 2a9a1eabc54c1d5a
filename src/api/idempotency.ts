import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors/index.ts";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  type Db,
  releaseIdempotencyKey,
} from "../store/index.ts";

declare module "fastify" {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/** JSON with object keys sorted, so that the same body with keys in another order hashes the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const JOB_ID = /"(?:Id|JobId)":"(job_[0-9A-Za-z]+)"/g;

/**
 * Idempotency-Key on POST: the first request runs and its response is stored; a repeat with the
 * same body gets that response again, a different body 422, a repeat while the first runs 409.
 */
export function registerIdempotency(app: FastifyInstance, db: Db): void {
  app.addHook("preHandler", async (req: FastifyRequest, reply: FastifyReply) => {
    const key = req.headers["idempotency-key"];
    if (req.method !== "POST" || typeof key !== "string" || !req.orgId) return;
    if (key.length === 0 || key.length > 255) {
      throw new AppError("validation_failed", "Idempotency-Key must be 1 to 255 characters.", [
        { Path: "/Idempotency-Key", Message: "is too long or empty." },
      ]);
    }
    const path = req.routeOptions.url ?? req.url;
    const hash = createHash("sha256")
      .update(`${req.url}\n${canonicalJson(req.body ?? null)}`)
      .digest("hex");
    const claim = await claimIdempotencyKey(db, req.orgId, key, req.method, path, hash);
    switch (claim.kind) {
      case "new":
        req.idempotencyKey = key;
        return;
      case "mismatch":
        throw new AppError(
          "idempotency_mismatch",
          "This Idempotency-Key was used with a different request body or path in the last 24 hours: use a new key for a new request.",
        );
      case "running":
        throw new AppError(
          "conflict",
          "A request with this Idempotency-Key is still running: retry once it has finished.",
        );
      case "replay":
        void reply
          .status(claim.statusCode)
          .header("idempotent-replayed", "true")
          .type("application/json")
          .send(claim.body);
        return reply;
    }
  });
  app.addHook("onSend", async (req, reply, payload) => {
    const key = req.idempotencyKey;
    if (!key) return payload;
    req.idempotencyKey = undefined;
    if (reply.statusCode >= 500 || typeof payload !== "string") {
      await releaseIdempotencyKey(db, req.orgId, key);
    } else {
      const jobIds = [...new Set([...payload.matchAll(JOB_ID)].map((m) => m[1] as string))];
      await completeIdempotencyKey(db, req.orgId, key, reply.statusCode, payload, jobIds);
    }
    return payload;
  });
}
