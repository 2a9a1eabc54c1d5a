import type { FastifyInstance } from "fastify";
import {
  createCampaign,
  getCampaign,
  listCampaigns,
  previewCampaign,
  setCampaignStatus,
  updateCampaign,
} from "../../usecases/campaigns/index.ts";
import type { Deps } from "../../usecases/context.ts";
import { errorResponses, idParams, listQuery, pageOf, ref } from "../schemas.ts";
import { ctxOf, type IdParams, type ListQuery, pageArgs } from "./common.ts";

const tags = ["Campaigns"];

export function campaignRoutes(app: FastifyInstance, deps: Deps): void {
  app.post(
    "/v1/campaigns",
    {
      schema: {
        tags,
        summary: "Create a campaign",
        body: ref("CampaignCreate"),
        response: { 201: ref("Campaign"), ...errorResponses },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await createCampaign({ ctx: ctxOf(deps, req), input: req.body })),
  );
  app.get<{ Querystring: ListQuery }>(
    "/v1/campaigns",
    {
      schema: {
        tags,
        summary: "List campaigns, oldest first",
        querystring: { type: "object", properties: listQuery },
        response: { 200: pageOf("Campaign") },
      },
    },
    async (req) => listCampaigns({ ctx: ctxOf(deps, req), ...pageArgs(req.query, "cmp") }),
  );
  app.get<{ Params: IdParams }>(
    "/v1/campaigns/:Id",
    {
      schema: {
        tags,
        summary: "Get a campaign",
        params: idParams,
        response: { 200: ref("Campaign"), ...errorResponses },
      },
    },
    async (req) => getCampaign({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.patch<{ Params: IdParams }>(
    "/v1/campaigns/:Id",
    {
      schema: {
        tags,
        summary: "Change a campaign: top-level fields are replaced, Agent and Schedule merged field by field",
        params: idParams,
        body: ref("CampaignInput"),
        response: { 200: ref("Campaign"), ...errorResponses },
      },
    },
    async (req) => updateCampaign({ ctx: ctxOf(deps, req), id: req.params.Id, input: req.body }),
  );
  for (const [action, status] of [
    ["pause", "paused"],
    ["resume", "active"],
  ] as const) {
    app.post<{ Params: IdParams }>(
      `/v1/campaigns/:Id/${action}`,
      {
        schema: {
          tags,
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} a campaign`,
          params: idParams,
          response: { 200: ref("Campaign"), ...errorResponses },
        },
      },
      async (req) => setCampaignStatus({ ctx: ctxOf(deps, req), id: req.params.Id, status }),
    );
  }
  app.post<{ Params: IdParams }>(
    "/v1/campaigns/:Id/preview",
    {
      schema: {
        tags,
        summary: "Render the agent's first turn for a job, and list the template variables that were missing",
        params: idParams,
        body: { type: "object", properties: { Job: ref("JobPreviewInput") } },
        response: {
          200: {
            type: "object",
            properties: {
              FirstTurn: { type: "string" },
              SystemPrompt: { type: ["string", "null"] },
              MissingVariables: { type: "array", items: { type: "string" } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => previewCampaign({ ctx: ctxOf(deps, req), id: req.params.Id, input: req.body }),
  );
}
