import { type CallClose, closeCalls, type JobDecision } from "../store/dispatch/finish.ts";
import type { Db } from "../store/index.ts";
import { insertEvents, lockCampaignForUpdate, pauseActiveCampaign, type Queryable } from "../store/index.ts";
import { optOutInTx } from "../usecases/optOuts/index.ts";

const CONFIGURATION_PAUSE = "Paused after a configuration error:";

/** The StatusReason of a campaign paused after a configuration error. */
export const configurationPauseReason = (message: string): string => `${CONFIGURATION_PAUSE} ${message}`;
const isConfigurationPause = (reason: string | null): boolean =>
  reason?.startsWith(CONFIGURATION_PAUSE) ?? false;

/**
 * A configuration error's pause of the campaign. `whileAlreadyPaused`: the job's decision when the
 * campaign is already paused for a configuration error (a retry, when it has an attempt left).
 */
export interface ConfigurationPause {
  campaignId: string;
  reason: string;
  whileAlreadyPaused?: JobDecision;
}

/**
 * Writes the end of an answered call and what its analysis decided, in one transaction: the call,
 * the job, and on an opt-out the number on the list (ending that number's other waiting jobs).
 */
export async function finishConversation(
  db: Db,
  close: CallClose,
  optOut: { orgId: string; campaignId: string; phone: string | null; testJob: boolean } | null,
  pause: ConfigurationPause | null = null,
): Promise<void> {
  await db.tx(async (q: Queryable) => {
    // The pause's FOR UPDATE of the campaign comes before the close's KEY SHARE of it: taken after,
    // two such closes would each wait for the other's lock.
    let decided = close;
    if (pause) {
      const campaign = await lockCampaignForUpdate(q, pause.campaignId);
      // Another call already failed its job for a configuration error and paused the campaign:
      // this job waits with the others instead of failing too.
      if (
        pause.whileAlreadyPaused &&
        campaign?.status === "paused" &&
        isConfigurationPause(campaign.status_reason)
      )
        decided = { ...close, decision: pause.whileAlreadyPaused };
    }
    const closed = await closeCalls(q, [decided]);
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
