import type { FastifyRequest } from "fastify";
import type { Ctx, Deps } from "../../usecases/context.ts";
import { DEFAULT_LIMIT } from "../../usecases/context.ts";

export interface ListQuery {
  Limit?: number;
  Cursor?: string;
}

export const ctxOf = (deps: Deps, req: FastifyRequest): Ctx => ({ deps, orgId: req.orgId });

export const pageArgs = (q: ListQuery): { limit: number; cursor: string | null } => ({
  limit: q.Limit ?? DEFAULT_LIMIT,
  cursor: q.Cursor ?? null,
});

export interface IdParams {
  Id: string;
}
