import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { exportCampaignResults } from "../../exports/index.ts";
import type { Deps } from "../../usecases/context.ts";
import { errorResponses, idParams } from "../schemas.ts";
import { ctxOf, type IdParams } from "./common.ts";

export function exportRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Params: IdParams }>(
    "/v1/campaigns/:Id/results.csv",
    {
      schema: {
        tags: ["Exports"],
        summary:
          "The campaign's results as CSV, streamed: one row per job (test jobs included), one column per AnalysisSchema property and per Metadata key",
        params: idParams,
        produces: ["text/csv"],
        response: { 200: { type: "string" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      // Errors (404) are answered before the first byte; the rows are then read as the client reads.
      const out = await exportCampaignResults({ ctx: ctxOf(deps, req), campaignId: req.params.Id });
      const stream = Readable.from(out.chunks, { objectMode: false });
      stream.on("error", (e) =>
        req.log.error({ err: e, campaign: req.params.Id }, "results export failed while streaming"),
      );
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${out.filename}"`)
        .send(stream);
    },
  );
}
