import { checkUnknownFields, isPlainObject, repliesProblem } from "../domain/limits.ts";
import { checkPhoneNumber } from "../domain/phone.ts";
import { AppError, type ErrorDetail, validationFailed } from "../errors/index.ts";
import { newId } from "../ids/index.ts";
import { contactLocalHour, jobZones } from "../schedule/index.ts";
import { renewLeases } from "../store/dispatch/reap.ts";
import {
  type Call,
  campaignOwningNumber,
  dbNow,
  findInboundJob,
  getCallRow,
  getCampaign,
  insertJobs,
  recordRejectedInbound,
  resumeForInbound,
  toCall,
} from "../store/index.ts";
import { SimMedia } from "../telephony/sim/simMedia.ts";
import type { Ctx } from "../usecases/context.ts";
import { toNewRow } from "../usecases/jobs/createJobs.ts";
import type { ConversationRunner } from "./runner.ts";

/** The job states each inbound mode matches (a job on a live call never matches). */
const MATCHING: Record<string, string[]> = {
  reject: [],
  lookup: ["pending", "completed"],
  lookup_failed: ["pending", "completed", "failed"],
  create_if_not_exists: ["pending", "completed"],
  create: [],
};

export interface InboundInput {
  from: string;
  to: string;
  replies: string[];
}

export function parseInbound(body: unknown): InboundInput {
  const out: ErrorDetail[] = [];
  if (!isPlainObject(body))
    throw validationFailed([
      { Path: "", Message: 'must be {"From": "+1...", "To": "+1...", "Replies": ["..."]}.' },
    ]);
  checkUnknownFields(body, ["From", "To", "Replies"], "", out);
  const from = checkPhoneNumber(body.From);
  const to = checkPhoneNumber(body.To);
  if (!from.ok) out.push({ Path: "/From", Message: from.message });
  if (!to.ok) out.push({ Path: "/To", Message: to.message });
  const replies = body.Replies ?? [];
  const problem = repliesProblem(replies);
  if (problem !== null) out.push({ Path: "/Replies", Message: problem });
  if (out.length > 0 || !from.ok || !to.ok) throw validationFailed(out);
  return { from: from.e164, to: to.e164, replies: replies as string[] };
}

/**
 * A contact calls a campaign number (simulated carrier): routed by the campaign's InboundMode to the
 * job it resumes (or a new one), or rejected with InboundRejectMessage. The contact speaks first.
 */
export async function takeSimInboundCall(
  ctx: Ctx,
  runner: ConversationRunner,
  input: InboundInput,
): Promise<Call> {
  const { db, config } = ctx.deps;
  const campaign = await campaignOwningNumber(db, ctx.orgId, input.to);
  if (!campaign)
    throw new AppError(
      "not_found",
      "No campaign of this organization owns the number To: add it to a campaign's PhoneNumbers first.",
      [{ Path: "/To", Message: "is not a number of any campaign." }],
    );
  const callId = newId("call");
  const owner = `inbound:${process.pid}`;
  const { leaseSeconds } = config.dispatch;
  const taken = await db.tx(async (q) => {
    const mode = campaign.Status === "archived" ? "reject" : campaign.InboundMode;
    const states = MATCHING[mode] ?? [];
    let job = states.length > 0 ? await findInboundJob(q, campaign.Id, input.from, states) : null;
    if (!job && (mode === "create" || mode === "create_if_not_exists")) {
      const now = await dbNow(q);
      const input0 = {
        PhoneNumber: input.from,
        ExternalId: null,
        ContactName: null,
        Metadata: {},
        Data: null,
        TestJob: false,
        HangupOptOut: null,
        TimeZone: null,
      };
      // Its first call time from the windows as they are now (see createJobsBatch).
      const current = (await getCampaign(q, ctx.orgId, campaign.Id, "key share")) ?? campaign;
      const [row] = await insertJobs(q, ctx.orgId, campaign.Id, [
        toNewRow(newId("job"), current, input0, now),
      ]);
      // A caller on the opt-out list gets a job that ended failed/opted_out at once: no conversation.
      job = row && row.state === "pending" ? { id: row.id, test_job: row.test_job } : null;
    }
    if (!job) {
      await recordRejectedInbound(q, {
        callId,
        orgId: ctx.orgId,
        campaignId: campaign.Id,
        from: input.from,
        to: input.to,
        message: campaign.InboundRejectMessage,
      });
      return null;
    }
    const r = await resumeForInbound(q, {
      jobId: job.id,
      callId,
      owner,
      leaseSeconds,
      from: input.from,
      to: input.to,
      localHour: (j, at) => contactLocalHour(jobZones(j, campaign.Schedule), campaign.Schedule.TimeZone, at),
    });
    return { jobId: job.id, ...r };
  });
  if (taken) {
    // The lease is renewed while the call and its analysis run, as a dispatcher renews its calls':
    // a reaper takes it only from a process that died.
    const renewal = setInterval(
      () =>
        void renewLeases(db, owner, leaseSeconds, [[taken.jobId, taken.fence]]).catch((e) =>
          ctx.deps.logger.warn({ err: e, call: callId }, "inbound lease renewal failed"),
        ),
      (leaseSeconds * 1000) / 3,
    );
    try {
      await runner.converse({
        callId,
        jobId: taken.jobId,
        fence: taken.fence,
        direction: "inbound",
        by: "human",
        ringingAt: null,
        answeredAt: taken.answeredAt,
        media: new SimMedia(taken.answeredAt, input.replies),
      });
    } finally {
      clearInterval(renewal);
    }
  }
  const row = await getCallRow(db, ctx.orgId, callId);
  return toCall(row!);
}
