import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { checkStorable, LIMITS } from "../domain/limits.ts";
import { AppError, type ErrorDetail, validationFailed } from "../errors/index.ts";
import { isMigrated } from "../store/index.ts";
import type { Deps } from "../usecases/context.ts";
import { authHook } from "./auth.ts";
import { errorHandler, frameworkErrorHandler, NOT_JSON, notFoundHandler } from "./errors.ts";
import { registerIdempotency } from "./idempotency.ts";
import { RateLimiter, rateLimitHook } from "./rateLimit.ts";
import { ROUTE_GROUPS } from "./routes/index.ts";
import { JOBS_BATCH_PATH } from "./routes/jobs.ts";
import { metricsRoute } from "./routes/metrics.ts";
import { ALL_SCHEMAS } from "./schemas.ts";

/** Extra route groups (the sim carrier, webhooks, ...) plug in here without the server knowing them. */
export type RouteGroup = (app: FastifyInstance, deps: Deps) => void;

export async function buildApi(deps: Deps, extraRoutes: RouteGroup[] = []): Promise<FastifyInstance> {
  // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's default logger type.
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify's own request lines carry the URL, whose path and query hold phone numbers
    // (/v1/opt-outs/+1..., ?PhoneNumber=): requests are logged below by their route instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.bodyBytes,
    // Path ids of any length reach the routes (an unknown one answers 404 in the API's error format):
    // the router's default of 100 characters answered its own 414 before them.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 8192 },
    frameworkErrors: frameworkErrorHandler,
  });
  // Query strings and path params are checked here (coerced to their types); bodies are checked by
  // the use cases, whose messages name each field and say how to fix it.
  const ajv = new Ajv({
    coerceTypes: true,
    useDefaults: true,
    removeAdditional: false,
    strict: false,
    allErrors: true,
    // errors carry their schema: an unknown parameter's message lists the known ones
    verbose: true,
  });
  addFormats.default(ajv);
  // A query parameter the endpoint does not know (a misspelt filter) is refused: ignored, it would
  // widen the answer without a word.
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === "body"
      ? () => true
      : decimalIntegers(
          schema,
          ajv.compile(
            // Parameters starting with "_" (a client's cache-buster, "_=1700000000") pass.
            httpPart === "querystring"
              ? { ...schema, patternProperties: { "^_": {} }, additionalProperties: false }
              : schema,
          ),
        ),
  );
  // Responses are built by the use cases; the schemas only document them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.addHook("onResponse", async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        // The route's pattern (/v1/opt-outs/:PhoneNumber), never the URL as sent.
        route: req.routeOptions.url ?? "(no route)",
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
  // Only JSON bodies: a text/plain one would reach the use cases as a string, and its error would
  // describe the body's shape instead of its type. An empty one (fetch's default for a POST with
  // body "") is no body: actions such as pause take none.
  app.removeContentTypeParser("text/plain");
  // Likewise an empty JSON body (curl -X POST -H 'Content-Type: application/json' .../pause): the
  // routes that need a body say so by name. Anything else goes through Fastify's own parser, which
  // refuses prototype poisoning.
  const json = app.getDefaultJsonParser("error", "error");
  const notJson: typeof json = (_req, _body, done) =>
    done(new AppError("validation_failed", NOT_JSON, [{ Path: "", Message: "must be JSON." }]), undefined);
  app.removeContentTypeParser("application/json");
  for (const [type, parse] of [
    ["application/json", json],
    ["text/plain", notJson],
  ] as const)
    app.addContentTypeParser(type, { parseAs: "string" }, (req, body, done) =>
      body === "" ? done(null, undefined) : parse(req, String(body), done),
    );
  app.setNotFoundHandler(notFoundHandler);
  for (const s of ALL_SCHEMAS) app.addSchema(s);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Cobbery API",
        version: "1.0.0",
        description: "AI agents that phone people and get a task done.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  app.get("/healthz", { schema: { hide: true } }, async (_req, reply) => {
    const ok = await isMigrated(deps.db).catch(() => false);
    return reply.status(ok ? 200 : 503).send(ok ? { Status: "ok" } : { Status: "unavailable" });
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  if (deps.metrics) metricsRoute(app, deps.metrics);

  await app.register(async (v1) => {
    v1.addHook("onRequest", authHook(deps.db));
    const limits = deps.config.rateLimit;
    if (limits) v1.addHook("onRequest", rateLimitHook(new RateLimiter(limits.perSecond, limits.burst)));
    // Text PostgreSQL could not store (a NUL, a lone surrogate) or a body nested too deep to measure
    // is refused with the field's path before any use case runs; a batch checks each job apart.
    v1.addHook("preValidation", async (req) => {
      const out: ErrorDetail[] = [];
      // Ids and filters in the path and the query string too (a %00 in an id).
      if (!checkStorable(req.params, "", out) || !checkStorable(req.query, "", out))
        throw validationFailed(out);
      if (req.routeOptions.url === JOBS_BATCH_PATH) return;
      if (!checkStorable(req.body, "", out)) throw validationFailed(out);
    });
    registerIdempotency(v1, deps.db);
    for (const group of ROUTE_GROUPS) group(v1, deps);
    for (const group of extraRoutes) group(v1, deps);
  });
  return app;
}

/**
 * Integer parameters are written in decimal digits. Ajv's coercion goes through Number(), which also
 * reads "0x10" as 16, "1e2" as 100 and " 7" as 7: a typo would be taken as some other number.
 */
function decimalIntegers(schema: unknown, check: ValidateFunction): ValidateFunction {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const integers = Object.keys(properties).filter((k) => properties[k]?.type === "integer");
  if (integers.length === 0) return check;
  const checkDecimal = ((data: Record<string, unknown> | undefined) => {
    const bad = integers.filter(
      (k) => typeof data?.[k] === "string" && !/^-?[0-9]+$/.test(data[k] as string),
    );
    const ok = check(data);
    // The other parameters' errors too, as allErrors gives them (one error per parameter).
    checkDecimal.errors = [
      ...bad.map((k) => ({
        instancePath: `/${k}`,
        schemaPath: `#/properties/${k}/type`,
        keyword: "type",
        params: { type: "integer" },
        message: "must be a whole number in decimal digits",
      })),
      ...(check.errors ?? []).filter((e) => !bad.some((k) => e.instancePath === `/${k}`)),
    ];
    return ok && bad.length === 0;
  }) as ValidateFunction;
  return checkDecimal;
}
