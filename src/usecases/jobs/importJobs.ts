import type { Schedule } from "../../domain/campaign.ts";
import { type JobInput, parseJobInput } from "../../domain/jobInput.ts";
import { AppError, validationFailed } from "../../errors/index.ts";
import { newId } from "../../ids/index.ts";
import { contactZones } from "../../schedule/index.ts";
import { BulkJobBatch, canBulkInsert, insertJobsBulk } from "../../store/bulkJobs.ts";
import type { Campaign, Db } from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { type BatchError, createJobsBatch, jobColumns, refuseIfArchived } from "./createJobs.ts";
import { firstCallAt } from "./firstCallAt.ts";

const YIELD_EVERY = 128;

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
 * Rows get their ids before anything is awaited, so batches started one after the other get
 * increasing ids (file order) even when they overlap; the caller can validate the next batch while
 * this one is written. `target` loads the campaign (404 / archived checks) once it is this batch's
 * turn to write.
 */
export async function importJobsBatch({
  db,
  target,
  inputs,
}: {
  db: Db;
  target: () => Promise<{ ctx: Ctx; campaign: Campaign }>;
  inputs: readonly unknown[];
}): Promise<ImportBatchResult> {
  if (!canBulkInsert(db)) {
    const { ctx, campaign } = await target();
    const r = await createJobsBatch({ ctx, campaign, inputs, pathOf: () => "" });
    return { Created: r.Created, Errors: r.Errors };
  }
  // Ids first, all at once: batches started one after the other get increasing ids (file order).
  const ids = inputs.map(() => newId("job"));
  const errors: BatchError[] = [];
  const rows = new BulkJobBatch();
  const callAt = new FirstCallAtByZones();
  for (let index = 0; index < inputs.length; index++) {
    // Validation is CPU work: let the previous batch's database round trips through now and then,
    // so that the database never waits for this loop.
    if (index % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    const p = parseJobInput(inputs[index], "");
    if (!p.ok) {
      errors.push({ Index: index, Error: validationFailed(p.details).toBody().Error });
      continue;
    }
    const input = p.value;
    rows.add(index, jobColumns(ids[index]!, input), callAt.slot(input));
  }
  const { ctx, campaign } = await target();
  if (rows.length === 0) return { Created: 0, Errors: errors };
  const skipped = await insertJobsBulk(db, ctx.orgId, campaign.Id, rows, (current, now) => {
    refuseIfArchived(current.status);
    return callAt.times(current.schedule, now);
  });
  for (const index of skipped) errors.push({ Index: index, Error: externalIdTaken().toBody().Error });
  errors.sort((a, b) => a.Index - b.Index);
  return { Created: rows.length - skipped.length, Errors: errors };
}

/**
 * firstCallAt for many jobs at one `now`. It depends on a job only through TestJob and the zones that
 * govern the contact (contactZones), so rows are grouped by those into slots, and firstCallAt is
 * called once per slot (a few dozen in a national list), with the first job seen for it.
 */
class FirstCallAtByZones {
  /** Slot 1 is test jobs (due now); the others, one per zone set, with an example job. */
  private readonly slots = new Map<string, number>();
  private readonly examples: JobInput[] = [];

  /** The row's slot (1-based). */
  slot(job: JobInput): number {
    if (job.TestJob) return 1;
    // "" stands for the campaign's own zone, which is not known yet (and is the same for every row).
    const key = contactZones({
      jobTimeZone: job.TimeZone,
      phoneNumber: job.PhoneNumber,
      scheduleTimeZone: "",
    }).join(" ");
    let slot = this.slots.get(key);
    if (slot === undefined) {
      this.examples.push(job);
      slot = this.examples.length + 1;
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** The first dial time (ISO, or null) of each slot, in slot order. */
  times(schedule: Schedule, now: Date): Array<string | null> {
    return [
      now.toISOString(),
      ...this.examples.map((job) => firstCallAt(schedule, job, now)?.toISOString() ?? null),
    ];
  }
}

const externalIdTaken = (): AppError =>
  new AppError(
    "conflict",
    "Another job of this campaign already has this ExternalId: ExternalId is unique per campaign.",
    [{ Path: "/ExternalId", Message: "is already used by another job of this campaign." }],
  );
