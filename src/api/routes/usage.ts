import type { FastifyInstance } from "fastify";
import { getUsage, getUsageCsv, type UsageQuery } from "../../usage/index.ts";
import type { Deps } from "../../usecases/context.ts";
import { errorResponses } from "../schemas.ts";
import { ctxOf } from "./common.ts";

const tags = ["Usage"];
const usageQuery = {
  type: "object",
  properties: {
    CampaignId: { type: "string" },
    From: { type: "string", description: "ISO 8601 time: calls started at or after it" },
    To: { type: "string", description: "ISO 8601 time: calls started before it" },
    GroupBy: { type: "string", enum: ["CampaignId"] },
  },
};
const totals = {
  Calls: { type: "integer" },
  BilledSeconds: { type: "integer" },
  TestJobCalls: { type: "integer" },
  TestJobBilledSeconds: { type: "integer" },
};

export function usageRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Querystring: UsageQuery }>(
    "/v1/usage",
    {
      schema: {
        tags,
        summary: "Calls placed or taken and billed seconds (test jobs included; TestJob* is their share)",
        querystring: usageQuery,
        response: {
          200: {
            type: "object",
            properties: {
              ...totals,
              Groups: {
                type: "array",
                items: { type: "object", properties: { CampaignId: { type: "string" }, ...totals } },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => getUsage({ ctx: ctxOf(deps, req), query: req.query }),
  );
  app.get<{ Querystring: UsageQuery }>(
    "/v1/usage.csv",
    {
      schema: {
        tags,
        summary: "The same as CSV: one row per campaign (GroupBy=CampaignId) or one total row",
        querystring: usageQuery,
        produces: ["text/csv"],
        response: { 200: { type: "string" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const csv = await getUsageCsv({ ctx: ctxOf(deps, req), query: req.query });
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", 'attachment; filename="usage.csv"')
        .send(csv);
    },
  );
}
