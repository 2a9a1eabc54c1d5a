import type { FastifyRequest } from "fastify";
import { validationFailed } from "../../errors/index.ts";
import { type IdPrefix, isIdOf } from "../../ids/index.ts";
import type { Ctx, Deps } from "../../usecases/context.ts";
import { DEFAULT_LIMIT } from "../../usecases/context.ts";

export interface ListQuery {
  Limit?: number;
  Cursor?: string;
}

export const ctxOf = (deps: Deps, req: FastifyRequest): Ctx => ({ deps, orgId: req.orgId });

/**
 * A list's Limit and Cursor. Lists that page by id (`idPrefix`) take only an id of theirs as cursor:
 * any other text would compare with the ids and give a wrong page without a word.
 */
export function pageArgs(q: ListQuery, idPrefix?: IdPrefix): { limit: number; cursor: string | null } {
  const cursor = q.Cursor ?? null;
  if (cursor !== null && idPrefix !== undefined && !isIdOf(idPrefix, cursor))
    throw validationFailed([
      { Path: "/Cursor", Message: "is not a cursor this list gave: pass the previous page's NextCursor." },
    ]);
  return { limit: q.Limit ?? DEFAULT_LIMIT, cursor };
}

export interface IdParams {
  Id: string;
}
