import type { FastifyInstance } from "fastify";
import { checkUnknownFields, isPlainObject, LIMITS } from "../../domain/limits.ts";
import { type ErrorDetail, validationFailed } from "../../errors/index.ts";
import type { Deps } from "../../usecases/context.ts";
import {
  campaignForNewJobs,
  cancelCampaignJobs,
  cancelJob,
  createJob,
  createJobsBatch,
  deleteCampaignPii,
  deleteJobPii,
  getCall,
  getJob,
  listJobCalls,
  listJobs,
  retryJob,
  updateJob,
} from "../../usecases/jobs/index.ts";
import type { JobQuery } from "../../usecases/jobs/readJobs.ts";
import { errorResponses, idParams, listQuery, pageOf, ref } from "../schemas.ts";
import { ctxOf, type IdParams, type ListQuery, pageArgs } from "./common.ts";

const tags = ["Jobs"];
/** Its jobs are validated one by one (the valid ones are created even when others are not). */
export const JOBS_BATCH_PATH = "/v1/campaigns/:CampaignId/jobs/batch";
const campaignParams = {
  type: "object",
  required: ["CampaignId"],
  properties: { CampaignId: { type: "string" } },
};

export function jobRoutes(app: FastifyInstance, deps: Deps): void {
  app.post<{ Params: { CampaignId: string } }>(
    "/v1/campaigns/:CampaignId/jobs",
    {
      schema: {
        tags,
        summary: "Create a job (one contact)",
        params: campaignParams,
        body: ref("JobInput"),
        response: { 201: ref("Job"), ...errorResponses },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await createJob({ ctx: ctxOf(deps, req), campaignId: req.params.CampaignId, input: req.body })),
  );
  app.post<{ Params: { CampaignId: string } }>(
    JOBS_BATCH_PATH,
    {
      schema: {
        tags,
        summary: "Create up to 10,000 jobs; valid rows are created even when others are not",
        params: campaignParams,
        body: {
          type: "object",
          required: ["Jobs"],
          properties: { Jobs: { type: "array", items: ref("JobInput"), maxItems: LIMITS.batchJobs } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              Created: { type: "integer" },
              Items: { type: "array", items: ref("Job") },
              Errors: {
                type: "array",
                items: {
                  type: "object",
                  properties: { Index: { type: "integer" }, Error: { type: "object" } },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const body = req.body;
      if (!isPlainObject(body) || !Array.isArray(body.Jobs)) {
        throw validationFailed([
          {
            Path: "/Jobs",
            Message: 'is required: an array of jobs, e.g. {"Jobs": [{"PhoneNumber": "+14155550123"}]}.',
          },
        ]);
      }
      // A field beside Jobs (a TestJob meant for every job, a misspelt key) would be dropped unseen.
      const unknown: ErrorDetail[] = [];
      checkUnknownFields(body, ["Jobs"], "", unknown);
      if (unknown.length > 0) throw validationFailed(unknown);
      if (body.Jobs.length > LIMITS.batchJobs) {
        throw validationFailed([
          {
            Path: "/Jobs",
            Message: `has ${body.Jobs.length} jobs; a batch takes at most ${LIMITS.batchJobs}: split it.`,
          },
        ]);
      }
      const ctx = ctxOf(deps, req);
      const campaign = await campaignForNewJobs(ctx, req.params.CampaignId);
      return createJobsBatch({ ctx, campaign, inputs: body.Jobs });
    },
  );
  app.get<{ Querystring: ListQuery & JobQuery }>(
    "/v1/jobs",
    {
      schema: {
        tags,
        summary: "List jobs, oldest first, with filters",
        querystring: {
          type: "object",
          properties: {
            ...listQuery,
            CampaignId: { type: "string" },
            State: { type: "string" },
            PhoneNumber: { type: "string", description: "E.164; write + as %2B" },
            ExternalId: { type: "string" },
            TestJob: { type: "string", enum: ["true", "false"] },
            UpdatedSince: { type: "string", format: "date-time" },
          },
        },
        response: { 200: pageOf("Job"), ...errorResponses },
      },
    },
    async (req) => {
      const { Limit, Cursor, ...query } = req.query;
      return listJobs({ ctx: ctxOf(deps, req), query, ...pageArgs({ Limit, Cursor }, "job") });
    },
  );
  app.get<{ Params: IdParams }>(
    "/v1/jobs/:Id",
    {
      schema: {
        tags,
        summary: "Get a job",
        params: idParams,
        response: { 200: ref("Job"), ...errorResponses },
      },
    },
    async (req) => getJob({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.patch<{ Params: IdParams }>(
    "/v1/jobs/:Id",
    {
      schema: {
        tags,
        summary: "Change ContactName, Metadata, Data or TimeZone (Metadata and Data are replaced whole)",
        params: idParams,
        body: {
          type: "object",
          properties: {
            ContactName: { type: ["string", "null"] },
            Metadata: { type: "object" },
            Data: { type: ["object", "null"] },
            TimeZone: { type: ["string", "null"] },
          },
        },
        response: { 200: ref("Job"), ...errorResponses },
      },
    },
    async (req) => updateJob({ ctx: ctxOf(deps, req), id: req.params.Id, input: req.body }),
  );
  app.post<{ Params: IdParams }>(
    "/v1/jobs/:Id/cancel",
    {
      schema: {
        tags,
        summary: "Cancel a pending or in-progress job",
        params: idParams,
        response: { 200: ref("Job"), ...errorResponses },
      },
    },
    async (req) => cancelJob({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.post<{ Params: IdParams }>(
    "/v1/jobs/:Id/retry",
    {
      schema: {
        tags,
        summary: "Turn a failed or canceled job back to pending, due now",
        params: idParams,
        response: { 200: ref("Job"), ...errorResponses },
      },
    },
    async (req) => retryJob({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.delete<{ Params: IdParams }>(
    "/v1/jobs/:Id/pii",
    {
      schema: {
        tags,
        summary: "Erase the job's PII (any state); answers the job, now deleted",
        params: idParams,
        response: { 200: ref("Job"), ...errorResponses },
      },
    },
    async (req) => deleteJobPii({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.get<{ Params: IdParams; Querystring: ListQuery }>(
    "/v1/jobs/:Id/calls",
    {
      schema: {
        tags,
        summary: "The job's calls, oldest first",
        params: idParams,
        querystring: { type: "object", properties: listQuery },
        response: { 200: pageOf("Call"), ...errorResponses },
      },
    },
    async (req) => listJobCalls({ ctx: ctxOf(deps, req), id: req.params.Id, ...pageArgs(req.query, "call") }),
  );
  app.get<{ Params: IdParams }>(
    "/v1/calls/:Id",
    {
      schema: {
        tags,
        summary: "One call (outbound or inbound) with its transcript",
        params: idParams,
        response: { 200: ref("Call"), ...errorResponses },
      },
    },
    async (req) => getCall({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.post<{ Params: IdParams }>(
    "/v1/campaigns/:Id/jobs/cancel",
    {
      schema: {
        tags,
        summary: "Cancel every pending or in-progress job of a campaign",
        params: idParams,
        response: {
          200: { type: "object", properties: { Canceled: { type: "integer" } } },
          ...errorResponses,
        },
      },
    },
    async (req) => cancelCampaignJobs({ ctx: ctxOf(deps, req), campaignId: req.params.Id }),
  );
  app.delete<{ Params: IdParams }>(
    "/v1/campaigns/:Id/pii",
    {
      schema: {
        tags,
        summary: "Erase the PII of every job of a campaign",
        params: idParams,
        response: {
          200: { type: "object", properties: { Deleted: { type: "integer" } } },
          ...errorResponses,
        },
      },
    },
    async (req) => deleteCampaignPii({ ctx: ctxOf(deps, req), campaignId: req.params.Id }),
  );
}
