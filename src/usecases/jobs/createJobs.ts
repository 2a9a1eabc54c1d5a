import { type JobInput, parseJobInput } from "../../domain/jobInput.ts";
import { AppError, conflict, notFound, validationFailed } from "../../errors/index.ts";
import { newId } from "../../ids/index.ts";
import {
  type Campaign,
  dbNow,
  getCampaign,
  insertJobs,
  type Job,
  type NewJobRow,
  toJob,
} from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { firstCallAt } from "./firstCallAt.ts";

export interface BatchError {
  Index: number;
  Error: ReturnType<AppError["toBody"]>["Error"];
}

export interface BatchResult {
  Created: number;
  Items: Job[];
  Errors: BatchError[];
}

/** Loads the campaign jobs are added to: 404 when it is not the organization's, 409 when archived. */
export async function campaignForNewJobs(ctx: Ctx, campaignId: string): Promise<Campaign> {
  const campaign = await getCampaign(ctx.deps.db, ctx.orgId, campaignId);
  if (!campaign) throw notFound("Campaign", campaignId);
  refuseIfArchived(campaign.Status);
  return campaign;
}

/**
 * An archived campaign takes no new jobs. Checked before the work and again on the campaign as
 * locked in the transaction that inserts them: an archive that commits between the two would
 * otherwise have moved its waiting jobs out of the queue before these arrived.
 */
export function refuseIfArchived(status: string): void {
  if (status === "archived") throw conflict("The campaign is archived: it takes no new jobs.");
}

/**
 * Creates the valid jobs among `inputs` in one transaction and reports the others by index (the
 * batch endpoint, the importer). An ExternalId already used in the campaign is a per-row 409.
 */
export async function createJobsBatch({
  ctx,
  campaign,
  inputs,
  pathOf = (i) => `/Jobs/${i}`,
}: {
  ctx: Ctx;
  campaign: Campaign;
  inputs: readonly unknown[];
  /** The JSON pointer of input i in the request, for error details. */
  pathOf?: (index: number) => string;
}): Promise<BatchResult> {
  const errors: BatchError[] = [];
  const valid: Array<{ index: number; input: JobInput }> = [];
  inputs.forEach((raw, index) => {
    const p = parseJobInput(raw, pathOf(index));
    if (p.ok) valid.push({ index, input: p.value });
    else errors.push({ Index: index, Error: validationFailed(p.details).toBody().Error });
  });
  const ids = valid.map(() => newId("job"));
  const created = await ctx.deps.db.tx(async (q) => {
    const now = await dbNow(q);
    // The windows as they are now, held until commit: a change of them that commits meanwhile would
    // otherwise leave these jobs with first call times from the windows it replaced.
    const current = await getCampaign(q, ctx.orgId, campaign.Id, "key share");
    if (!current) throw notFound("Campaign", campaign.Id);
    refuseIfArchived(current.Status);
    const rows = valid.map(({ input }, k): NewJobRow => toNewRow(ids[k] as string, current, input, now));
    return insertJobs(q, ctx.orgId, campaign.Id, rows);
  });
  const byId = new Map(created.map((r) => [r.id, r]));
  const items: Job[] = [];
  valid.forEach(({ index }, k) => {
    const row = byId.get(ids[k] as string);
    if (row) items.push(toJob(row));
    else errors.push({ Index: index, Error: externalIdTaken(pathOf(index)).toBody().Error });
  });
  errors.sort((a, b) => a.Index - b.Index);
  return { Created: items.length, Items: items, Errors: errors };
}

/** POST /v1/campaigns/{Id}/jobs: one job, or the error that stopped it. */
export async function createJob({
  ctx,
  campaignId,
  input,
}: {
  ctx: Ctx;
  campaignId: string;
  input: unknown;
}): Promise<Job> {
  const campaign = await campaignForNewJobs(ctx, campaignId);
  const r = await createJobsBatch({ ctx, campaign, inputs: [input], pathOf: () => "" });
  const first = r.Items[0];
  if (first) return first;
  const e = r.Errors[0]!.Error;
  throw new AppError(e.Code, e.Message, e.Details);
}

/** A validated input as the columns of its job row (its first call time aside). */
export function jobColumns(id: string, input: JobInput): Omit<NewJobRow, "next_call_at"> {
  return {
    id,
    phone_number: input.PhoneNumber,
    external_id: input.ExternalId,
    contact_name: input.ContactName,
    metadata: input.Metadata,
    data: input.Data,
    test_job: input.TestJob,
    hangup_opt_out: input.HangupOptOut,
    time_zone: input.TimeZone,
  };
}

export function toNewRow(id: string, campaign: Campaign, input: JobInput, now: Date): NewJobRow {
  return {
    ...jobColumns(id, input),
    next_call_at: firstCallAt(campaign.Schedule, input, now)?.toISOString() ?? null,
  };
}

const externalIdTaken = (path: string): AppError =>
  new AppError(
    "conflict",
    "Another job of this campaign already has this ExternalId: ExternalId is unique per campaign.",
    [{ Path: `${path}/ExternalId`, Message: "is already used by another job of this campaign." }],
  );
