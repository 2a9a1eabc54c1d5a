import type { Schedule } from "../../domain/campaign.ts";
import { type JobInput, parseJobInput } from "../../domain/jobInput.ts";
import { AppError, validationFailed } from "../../errors/index.ts";
import { newId } from "../../ids/index.ts";
import { contactZones } from "../../schedule/index.ts";
import { type BulkJobRow, canBulkInsert, insertJobsBulk } from "../../store/bulkJobs.ts";
import { type Campaign, dbNow } from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { type BatchError, createJobsBatch } from "./createJobs.ts";
import { firstCallAt } from "./firstCallAt.ts";

/** What an import batch gives back: no Items, so that a million rows cost no million Job objects. */
export interface ImportBatchResult {
  Created: number;
  Errors: BatchError[];
}

/**
 * Creates the valid jobs among `inputs` like createJobsBatch (same validation, same ids, same first
 * dial time, same opt-out and ExternalId rules, same events), through the COPY bulk path when the
 * database is a real PostgreSQL. Errors are reported by index within `inputs`.
 *
 * Rows are validated and given their ids before anything is awaited, so batches started one after
 * the other get increasing ids (file order) even when they are written concurrently; `target` then
 * loads the campaign (404 / archived checks).
 */
export async function importJobsBatch({
  target,
  inputs,
}: {
  target: () => Promise<{ ctx: Ctx; campaign: Campaign }>;
  inputs: readonly unknown[];
}): Promise<ImportBatchResult> {
  const errors: BatchError[] = [];
  const valid: Array<{ index: number; id: string; input: JobInput }> = [];
  for (let index = 0; index < inputs.length; index++) {
    const p = parseJobInput(inputs[index], "");
    if (p.ok) valid.push({ index, id: newId("job"), input: p.value });
    else errors.push({ Index: index, Error: validationFailed(p.details).toBody().Error });
  }
  const { ctx, campaign } = await target();
  const db = ctx.deps.db;
  if (!canBulkInsert(db)) {
    const r = await createJobsBatch({ ctx, campaign, inputs, pathOf: () => "" });
    return { Created: r.Created, Errors: r.Errors };
  }
  const callAt = firstCallAtCache(campaign.Schedule, await dbNow(db));
  const rows = valid.map(
    ({ index, id, input }): BulkJobRow => ({
      index,
      id,
      phone_number: input.PhoneNumber,
      external_id: input.ExternalId,
      contact_name: input.ContactName,
      metadata: input.Metadata,
      data: input.Data,
      test_job: input.TestJob,
      hangup_opt_out: input.HangupOptOut,
      time_zone: input.TimeZone,
      next_call_at: callAt(input),
    }),
  );
  const skipped = await insertJobsBulk(db, ctx.orgId, campaign.Id, rows);
  for (const index of skipped) errors.push({ Index: index, Error: externalIdTaken().toBody().Error });
  errors.sort((a, b) => a.Index - b.Index);
  return { Created: rows.length - skipped.length, Errors: errors };
}

/**
 * firstCallAt for many jobs at one `now`: it depends on the job only through TestJob and the zones
 * that govern the contact, so the answer is computed once per distinct zone set (a few dozen in a
 * national list) instead of once per row.
 */
function firstCallAtCache(schedule: Schedule, now: Date): (job: JobInput) => string | null {
  const cache = new Map<string, string | null>();
  const nowIso = now.toISOString();
  return (job) => {
    if (job.TestJob) return nowIso;
    const key = contactZones({
      jobTimeZone: job.TimeZone,
      phoneNumber: job.PhoneNumber,
      scheduleTimeZone: schedule.TimeZone,
    }).join(" ");
    let at = cache.get(key);
    if (at === undefined) {
      at = firstCallAt(schedule, job, now)?.toISOString() ?? null;
      cache.set(key, at);
    }
    return at;
  };
}

const externalIdTaken = (): AppError =>
  new AppError(
    "conflict",
    "Another job of this campaign already has this ExternalId: ExternalId is unique per campaign.",
    [{ Path: "/ExternalId", Message: "is already used by another job of this campaign." }],
  );
