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
export function canonicalJson(root: unknown): string {
  // Without recursion: a batch's body is hashed before its jobs' depth is checked one by one, and
  // JSON.parse accepts nesting deeper than the call stack.
  type Step = { text: string } | { value: unknown };
  const out: string[] = [];
  const steps: Step[] = [{ value: root }];
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    if ("text" in step) {
      out.push(step.text);
      continue;
    }
    const v = step.value;
    if (v === null || typeof v !== "object") {
      out.push(JSON.stringify(v) ?? "null");
      continue;
    }
    const parts: Step[] = [];
    if (Array.isArray(v)) {
      parts.push({ text: "[" });
      for (const [i, x] of v.entries()) parts.push({ text: i > 0 ? "," : "" }, { value: x });
      parts.push({ text: "]" });
    } else {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined);
      parts.push({ text: "{" });
      for (const [i, k] of keys.entries())
        parts.push({ text: `${i > 0 ? "," : ""}${JSON.stringify(k)}:` }, { value: o[k] });
      parts.push({ text: "}" });
    }
    // The stack pops last-in first: the parts go on in reverse.
    for (let i = parts.length - 1; i >= 0; i--) steps.push(parts[i]!);
  }
  return out.join("");
}

const JOB_ID = /"(?:Id|JobId)":"(job_[0-9A-Za-z]+)"/g;
/** A request still running after this long was cut off by a stop of its server. */
const CUT_OFF_AFTER_SECONDS = 600;

/**
 * Idempotency-Key on POST: the first request runs and its response is stored; a repeat with the
 * same body gets that response again, a different body 422, a repeat while the first runs 409.
 */
export function registerIdempotency(app: FastifyInstance, db: Db): void {
  // Every POST says so in the OpenAPI document (the header is checked by the hook below).
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes("POST")) return;
    route.schema = route.schema ?? {};
    route.schema.headers = {
      type: "object",
      properties: {
        "Idempotency-Key": {
          type: "string",
          description:
            "1 to 255 characters, kept 24 hours per organization: the same key with the same body answers the first response again (header idempotent-replayed: true); with another body 422; while the first runs 409.",
        },
      },
    };
  });
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
        // No request runs for minutes: one that old was cut off (the server stopped during it), and
        // whether it took effect is not known, so it is not run again under its key.
        throw new AppError(
          "conflict",
          claim.seconds < CUT_OFF_AFTER_SECONDS
            ? "A request with this Idempotency-Key is still running: retry once it has finished."
            : `A request with this Idempotency-Key began ${Math.round(claim.seconds / 60)} minutes ago and never finished: the server stopped during it, and it may have taken effect. Check what it did (for jobs, GET /v1/jobs?ExternalId=...), then send it with a new key.`,
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
