import { type CallClose, closeCalls } from "../store/dispatch/finish.ts";
import type { Db } from "../store/index.ts";
import { insertEvents, lockCampaignForUpdate, pauseActiveCampaign, type Queryable } from "../store/index.ts";
import { optOutInTx } from "../usecases/optOuts/index.ts";

/**
 * Writes the end of an answered call and what its analysis decided, in one transaction: the call,
 * the job, and on an opt-out the number on the list (ending that number's other waiting jobs).
 */
export async function finishConversation(
  db: Db,
  close: CallClose,
  optOut: { orgId: string; campaignId: string; phone: string | null; testJob: boolean } | null,
  pause: { campaignId: string; reason: string } | null = null,
): Promise<void> {
  await db.tx(async (q: Queryable) => {
    // The pause's FOR UPDATE of the campaign comes before the close's KEY SHARE of it: taken after,
    // two such closes would each wait for the other's lock.
    if (pause) await lockCampaignForUpdate(q, pause.campaignId);
    const closed = await closeCalls(q, [close]);
    if (closed > 0 && optOut?.phone) {
      await optOutInTx(q, optOut.orgId, optOut.phone);
      await insertEvents(q, [
        {
          orgId: optOut.orgId,
          campaignId: optOut.campaignId,
          jobId: close.jobId,
          callId: close.callId,
          event: "job.opted_out",
          testJob: optOut.testJob,
          properties: { state: "failed", failure_reason: "opted_out" },
        },
      ]);
    }
    if (closed > 0 && pause) {
      // A configuration error pauses the campaign so that its other jobs wait instead of failing.
      await pauseActiveCampaign(q, pause.campaignId, pause.reason);
    }
  });
}
