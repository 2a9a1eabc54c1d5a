import type { FastifyInstance } from "fastify";
import { getCampaignAnalytics, HOURS } from "../../analytics/index.ts";
import { FAILURE_REASONS, JOB_STATES } from "../../domain/jobStates.ts";
import type { Deps } from "../../usecases/context.ts";
import { errorResponses, idParams } from "../schemas.ts";
import { ctxOf, type IdParams } from "./common.ts";

const tags = ["Analytics"];

const counts = (keys: readonly string[], description: string) => ({
  type: "object",
  description,
  required: [...keys],
  properties: Object.fromEntries(keys.map((k) => [k, { type: "integer" }])),
});

const analyticsSchema = {
  type: "object",
  properties: {
    Jobs: {
      type: "object",
      properties: {
        Total: { type: "integer" },
        ByState: counts(
          JOB_STATES,
          "Jobs by state. A deleted job counts under the state it had before its PII was deleted, so deleted is 0.",
        ),
        ByFailureReason: counts(FAILURE_REASONS, "Failed jobs by FailureReason"),
        ObjectiveMetRate: {
          type: ["number", "null"],
          description: "Jobs whose objective was met / jobs judged; null when no job was judged",
        },
      },
    },
    Calls: {
      type: "object",
      properties: {
        Total: {
          type: "integer",
          description:
            "Outbound calls handed to the carrier and accepted inbound calls (rejected ones are left out)",
        },
        Answered: { type: "integer", description: "Calls answered by a human" },
        AnswerRate: { type: "number", description: "Answered / Total; 0 when no call" },
        AverageDurationSeconds: {
          type: "number",
          description: "Mean duration of connected calls (human or voicemail); 0 when none",
        },
        ByLocalHour: counts(HOURS, "Calls by the contact's local hour (0-23) when they started"),
        ByAttempt: {
          type: "object",
          description: 'Outbound calls by attempt number: "1", "2", ... up to the highest made',
          additionalProperties: { type: "integer" },
        },
      },
    },
  },
};

export function analyticsRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Params: IdParams }>(
    "/v1/campaigns/:Id/analytics",
    {
      schema: {
        tags,
        summary: "A campaign's jobs and calls in figures (test jobs left out)",
        params: idParams,
        response: { 200: analyticsSchema, ...errorResponses },
      },
    },
    async (req) => getCampaignAnalytics({ ctx: ctxOf(deps, req), campaignId: req.params.Id }),
  );
}
