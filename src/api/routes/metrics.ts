import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../metrics/index.ts";

/**
 * GET /metrics, outside /v1 and without a key (Prometheus scrapers usually have none): counts,
 * durations and enum labels only, no ids, phone numbers or organization names.
 */
export function metricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
    const m = await metrics.render();
    return reply.type(m.contentType).header("cache-control", "no-store").send(m.body);
  });
}
