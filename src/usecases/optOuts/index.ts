import { checkUnknownFields, isPlainObject } from "../../domain/limits.ts";
import { checkPhoneNumber } from "../../domain/phone.ts";
import { type ErrorDetail, notFound, validationFailed } from "../../errors/index.ts";
import {
  deleteOptOut,
  failJobsOfOptedOutNumber,
  insertEvents,
  insertOptOut,
  jobEventProps,
  notifyHangups,
  type Queryable,
  listOptOuts as storeList,
} from "../../store/index.ts";
import { type Ctx, type Page, toPage } from "../context.ts";

export interface OptOut {
  PhoneNumber: string;
  CreatedAt: string;
}

function phoneOf(raw: unknown, path: string): string {
  const c = checkPhoneNumber(raw);
  if (!c.ok) throw validationFailed([{ Path: path, Message: c.message }]);
  return c.e164;
}

/**
 * Adds a number to the organization's opt-out list and, in the same transaction, ends that number's
 * not-yet-ended jobs failed/opted_out, so that no call can start after the commit.
 */
export async function addOptOut({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: unknown;
}): Promise<{ created: boolean; optOut: OptOut }> {
  if (!isPlainObject(input))
    throw validationFailed([{ Path: "", Message: 'must be {"PhoneNumber": "+14155550123"}.' }]);
  const unknown: ErrorDetail[] = [];
  checkUnknownFields(input, ["PhoneNumber"], "", unknown);
  if (unknown.length > 0) throw validationFailed(unknown);
  const phone = phoneOf(input.PhoneNumber, "/PhoneNumber");
  return ctx.deps.db.tx(async (q) => {
    const r = await optOutInTx(q, ctx.orgId, phone);
    return { created: r.created, optOut: { PhoneNumber: phone, CreatedAt: r.createdAt.toISOString() } };
  });
}

/**
 * Puts a number on the opt-out list in the caller's transaction: its not-yet-ended jobs end
 * failed/opted_out with their events, and their live calls are asked to end.
 */
export async function optOutInTx(
  q: Queryable,
  orgId: string,
  phone: string,
): Promise<{ created: boolean; createdAt: Date }> {
  const r = await insertOptOut(q, orgId, phone);
  const jobs = await failJobsOfOptedOutNumber(q, orgId, phone);
  await notifyHangups(
    q,
    jobs.map((j) => j.live_call_id),
  );
  await insertEvents(
    q,
    jobs.flatMap((j) => {
      const base = { orgId, campaignId: j.campaign_id, jobId: j.id, testJob: j.test_job };
      return [
        { ...base, event: "job.opted_out", properties: jobEventProps(j) },
        { ...base, event: "job.failed", properties: jobEventProps(j) },
      ];
    }),
  );
  return r;
}

/** Removing an opt-out reopens nothing: jobs it ended stay failed. */
export async function removeOptOut({ ctx, phoneNumber }: { ctx: Ctx; phoneNumber: string }): Promise<void> {
  const phone = phoneOf(phoneNumber, "/PhoneNumber");
  if (!(await deleteOptOut(ctx.deps.db, ctx.orgId, phone))) throw notFound("Opt-out for number", "given");
}

export async function listOptOuts({
  ctx,
  cursor,
  limit,
}: {
  ctx: Ctx;
  cursor: string | null;
  limit: number;
}): Promise<Page<OptOut>> {
  const after = cursor === null ? null : Number(cursor);
  if (after !== null && !Number.isInteger(after))
    throw validationFailed([{ Path: "/Cursor", Message: "is not a cursor this API gave." }]);
  const rows = await storeList(ctx.deps.db, ctx.orgId, after, limit + 1);
  return toPage(
    rows,
    limit,
    (r) => ({ PhoneNumber: r.phone_number, CreatedAt: r.created_at.toISOString() }),
    (r) => String(r.seq),
  );
}
