import type { FastifyInstance } from "fastify";
import { type EventQuery, listEvents } from "../../events/index.ts";
import type { Deps } from "../../usecases/context.ts";
import { errorResponses, listQuery, pageSchema } from "../schemas.ts";
import { ctxOf, type ListQuery, pageArgs } from "./common.ts";

const eventItem = {
  type: "object",
  properties: {
    uuid: { type: "string", format: "uuid" },
    event: { type: "string", examples: ["job.completed"] },
    timestamp: { type: "string", format: "date-time" },
    properties: {
      type: "object",
      description:
        "campaign_id, job_id, call_id (when set), test_job, and ids, states and reasons: never PII",
    },
  },
};

export function eventRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Querystring: ListQuery & EventQuery }>(
    "/v1/events",
    {
      schema: {
        tags: ["Events"],
        summary: "Product-analytics events, oldest first (test jobs' events have properties.test_job = true)",
        querystring: {
          type: "object",
          properties: {
            ...listQuery,
            CampaignId: { type: "string" },
            JobId: { type: "string" },
            Event: { type: "string", description: "an event name, e.g. job.completed" },
            Since: { type: "string", description: "ISO 8601 time: events at or after it" },
          },
        },
        response: { 200: pageSchema(eventItem), ...errorResponses },
      },
    },
    async (req) => {
      const { Limit, Cursor, ...query } = req.query;
      return listEvents({ ctx: ctxOf(deps, req), query, ...pageArgs({ Limit, Cursor }) });
    },
  );
}
