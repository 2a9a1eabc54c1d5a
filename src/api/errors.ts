import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AppError, type ErrorDetail, httpStatusOf } from "../errors/index.ts";

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  /** With Ajv's verbose option: the schema the error is about. */
  parentSchema?: { properties?: Record<string, unknown> };
}

function detailsOf(errors: AjvLikeError[], part: string | undefined): ErrorDetail[] {
  return errors.map((e) => {
    const base = e.instancePath ?? "";
    if (e.params?.missingProperty)
      return { Path: `${base}/${e.params.missingProperty}`, Message: "is required." };
    const extra = e.params?.additionalProperty;
    if (extra !== undefined) {
      const known = Object.keys(e.parentSchema?.properties ?? {});
      return {
        Path: `/${extra}`,
        Message: `is not a known ${part === "querystring" ? "query parameter" : "field"}; they are ${known.join(", ")} (names are PascalCase).`,
      };
    }
    const allowed = e.params?.allowedValues;
    if (allowed) {
      const list = allowed.map((v) => JSON.stringify(v)).join(", ");
      return {
        Path: base,
        Message: `must be one of ${list}${part === "querystring" ? " (query parameter)" : ""}.`,
      };
    }
    return {
      Path: base,
      Message: `${e.message ?? "is not valid"}${part === "querystring" ? " (query parameter)" : ""}.`,
    };
  });
}

export const NOT_JSON = "Send JSON with Content-Type: application/json.";

/** Maps every error to the API's one error format, once. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError & { validation?: AjvLikeError[]; validationContext?: string };
  if (fe.validation) {
    const details = detailsOf(fe.validation, fe.validationContext);
    return new AppError(
      "validation_failed",
      details.map((d) => `${d.Path} ${d.Message}`).join("; "),
      details,
    );
  }
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError(
        "payload_too_large",
        "The request body is larger than 10 MiB: send fewer jobs per request (a batch takes at most 10,000).",
      );
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new AppError("validation_failed", `The body is not valid JSON: ${fe.message}`, [
        { Path: "", Message: "must be valid JSON." },
      ]);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new AppError("validation_failed", NOT_JSON, [{ Path: "", Message: "must be JSON." }]);
  }
  if (fe.statusCode === 429)
    return new AppError("rate_limited", "Too many requests: slow down and retry after a moment.");
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError("validation_failed", fe.message, [{ Path: "", Message: fe.message }]);
  }
  return new AppError(
    "internal",
    "Something went wrong on our side; the error was logged. Retrying is safe with an Idempotency-Key.",
  );
}

export function errorHandler(
  this: unknown,
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  const e = toAppError(error);
  if (e.code === "internal") req.log.error({ err: error, reqId: req.id }, "request failed");
  void reply.status(httpStatusOf[e.code]).send(e.toBody());
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  const e = new AppError(
    "not_found",
    `No route ${req.method} ${req.url.split("?")[0]}: see /openapi.json for the API.`,
  );
  void reply.status(404).send(e.toBody());
}

/**
 * Errors the router raises before any route or hook runs (a path that is not valid percent-encoded
 * UTF-8): answered in the API's error format rather than Fastify's own.
 */
export function frameworkErrorHandler(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e =
    error.code === "FST_ERR_BAD_URL"
      ? new AppError(
          "validation_failed",
          "The URL's path is not valid: percent-encode it as UTF-8 (an id or phone number with a % or a stray byte).",
        )
      : toAppError(error);
  void reply.status(httpStatusOf[e.code]).send(e.toBody());
}
