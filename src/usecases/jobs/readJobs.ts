import { JOB_STATES, type JobState } from "../../domain/jobStates.ts";
import { checkPhoneNumber } from "../../domain/phone.ts";
import { type ErrorDetail, notFound, validationFailed } from "../../errors/index.ts";
import { inStorableYears, YEARS_MESSAGE } from "../../events/time.ts";
import {
  type Call,
  getCallRow,
  getJobRow,
  type Job,
  type JobFilter,
  listCallRowsOfJob,
  listJobRows,
  toCall,
  toJob,
} from "../../store/index.ts";
import { type Ctx, type Page, toPage } from "../context.ts";

export async function getJob({ ctx, id }: { ctx: Ctx; id: string }): Promise<Job> {
  const row = await getJobRow(ctx.deps.db, ctx.orgId, id);
  if (!row) throw notFound("Job", id);
  return toJob(row);
}

export async function getCall({ ctx, id }: { ctx: Ctx; id: string }): Promise<Call> {
  const row = await getCallRow(ctx.deps.db, ctx.orgId, id);
  if (!row) throw notFound("Call", id);
  return toCall(row);
}

export interface JobQuery {
  CampaignId?: string | undefined;
  State?: string | undefined;
  PhoneNumber?: string | undefined;
  ExternalId?: string | undefined;
  TestJob?: string | boolean | undefined;
  UpdatedSince?: string | undefined;
}

export function parseJobQuery(q: JobQuery): JobFilter {
  const out: ErrorDetail[] = [];
  const f: JobFilter = { CampaignId: q.CampaignId, ExternalId: q.ExternalId };
  if (q.State !== undefined) {
    if (!JOB_STATES.includes(q.State as JobState))
      out.push({ Path: "/State", Message: `must be one of ${JOB_STATES.join(", ")}.` });
    else f.State = q.State as JobState;
  }
  if (q.PhoneNumber !== undefined) {
    const c = checkPhoneNumber(q.PhoneNumber);
    if (c.ok) f.PhoneNumber = c.e164;
    else out.push({ Path: "/PhoneNumber", Message: `${c.message} In a URL, write + as %2B.` });
  }
  if (q.TestJob !== undefined) {
    if (q.TestJob === true || q.TestJob === "true") f.TestJob = true;
    else if (q.TestJob === false || q.TestJob === "false") f.TestJob = false;
    else out.push({ Path: "/TestJob", Message: "must be true or false." });
  }
  if (q.UpdatedSince !== undefined) {
    // The route's schema checked it is a date-time (days that exist included); the forms it takes
    // (a space for the T, an hour-only offset) are all read by Date.parse.
    const ms = Date.parse(q.UpdatedSince);
    if (Number.isNaN(ms)) {
      out.push({
        Path: "/UpdatedSince",
        Message: "must be an ISO 8601 time such as 2026-01-31T12:00:00.000Z.",
      });
    } else if (!inStorableYears(ms)) out.push({ Path: "/UpdatedSince", Message: YEARS_MESSAGE });
    else f.UpdatedSince = new Date(ms).toISOString();
  }
  if (out.length > 0) throw validationFailed(out);
  return f;
}

export async function listJobs({
  ctx,
  query,
  cursor,
  limit,
}: {
  ctx: Ctx;
  query: JobQuery;
  cursor: string | null;
  limit: number;
}): Promise<Page<Job>> {
  const rows = await listJobRows(ctx.deps.db, ctx.orgId, parseJobQuery(query), cursor, limit + 1);
  return toPage(rows, limit, toJob, (r) => r.id);
}

export async function listJobCalls({
  ctx,
  id,
  cursor,
  limit,
}: {
  ctx: Ctx;
  id: string;
  cursor: string | null;
  limit: number;
}): Promise<Page<Call>> {
  if (!(await getJobRow(ctx.deps.db, ctx.orgId, id))) throw notFound("Job", id);
  const rows = await listCallRowsOfJob(ctx.deps.db, ctx.orgId, id, cursor, limit + 1);
  return toPage(rows, limit, toCall, (r) => r.id);
}
