import type { FastifyInstance } from "fastify";
import type { Deps } from "../../usecases/context.ts";
import { addOptOut, listOptOuts, removeOptOut } from "../../usecases/optOuts/index.ts";
import { errorResponses, listQuery, pageOf, ref } from "../schemas.ts";
import { ctxOf, type ListQuery, pageArgs } from "./common.ts";

const tags = ["Opt-outs"];

export function optOutRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Querystring: ListQuery }>(
    "/v1/opt-outs",
    {
      schema: {
        tags,
        summary: "The organization's opt-out list, oldest first",
        querystring: { type: "object", properties: listQuery },
        response: { 200: pageOf("OptOut") },
      },
    },
    async (req) => listOptOuts({ ctx: ctxOf(deps, req), ...pageArgs(req.query) }),
  );
  app.post(
    "/v1/opt-outs",
    {
      schema: {
        tags,
        summary: "Add a number (201; 200 if already listed); its not-yet-ended jobs end failed/opted_out",
        body: { type: "object", required: ["PhoneNumber"], properties: { PhoneNumber: { type: "string" } } },
        response: { 200: ref("OptOut"), 201: ref("OptOut"), ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await addOptOut({ ctx: ctxOf(deps, req), input: req.body });
      return reply.status(r.created ? 201 : 200).send(r.optOut);
    },
  );
  app.delete<{ Params: { PhoneNumber: string } }>(
    "/v1/opt-outs/:PhoneNumber",
    {
      schema: {
        tags,
        summary: "Remove a number from the list (jobs it ended stay ended)",
        params: {
          type: "object",
          properties: { PhoneNumber: { type: "string", description: "E.164; write + as %2B" } },
        },
        response: { 204: { type: "null" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await removeOptOut({ ctx: ctxOf(deps, req), phoneNumber: req.params.PhoneNumber });
      return reply.status(204).send();
    },
  );
}
