import { notFound } from "../../errors/index.ts";
import { type Campaign, getCampaign as storeGet, listCampaigns as storeList } from "../../store/index.ts";
import { type Ctx, type Page, toPage } from "../context.ts";

export async function getCampaign({ ctx, id }: { ctx: Ctx; id: string }): Promise<Campaign> {
  const c = await storeGet(ctx.deps.db, ctx.orgId, id);
  if (!c) throw notFound("Campaign", id);
  return c;
}

export async function listCampaigns({
  ctx,
  cursor,
  limit,
}: {
  ctx: Ctx;
  cursor: string | null;
  limit: number;
}): Promise<Page<Campaign>> {
  const rows = await storeList(ctx.deps.db, ctx.orgId, cursor, limit + 1);
  return toPage(
    rows,
    limit,
    (c) => c,
    (c) => c.Id,
  );
}
