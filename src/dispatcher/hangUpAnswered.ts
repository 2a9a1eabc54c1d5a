import { retryOrFail } from "../domain/outcomes.ts";
import type { AnsweredCallHandler } from "./answered.ts";

/**
 * The handler of answered calls when no conversation runtime is wired in: the agent hangs up at
 * once, which leaves an unfinished attempt (retried, never completed). Connected seconds are billed.
 */
export const hangUpAnswered: AnsweredCallHandler = async (d, o, closer) => {
  const endedAt = await o.media.hangup();
  const connectedMs = Math.max(0, endedAt.getTime() - o.answeredAt.getTime());
  const job = { ...d.claim.job, attempts: d.claim.job.attempts + 1 };
  await closer.close({
    callId: d.claim.callId,
    jobId: d.claim.job.id,
    fence: d.fence,
    status: "completed",
    endReason: o.by === "voicemail" ? "voicemail" : "agent_hangup",
    answeredBy: o.by,
    ringingAt: o.ringingAt,
    answeredAt: o.answeredAt,
    endedAt,
    durationSeconds: Math.round(connectedMs / 1000),
    billedSeconds: Math.ceil(connectedMs / 1000),
    decision: retryOrFail(
      job,
      d.claim.job.schedule,
      o.by === "voicemail" ? "voicemail" : "unfinished",
      endedAt,
    ),
  });
};
