import { hasAttemptLeft } from "../domain/outcomes.ts";
import { newId } from "../ids/index.ts";
import { contactZones, resolveNextOpen } from "../schedule/index.ts";
import {
  type Claim,
  type DueJob,
  failDueJobs,
  lockDueJobs,
  lockLiveCounts,
  rescheduleJobs,
  takeJobs,
} from "../store/dispatch/claim.ts";
import type { Db } from "../store/index.ts";

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseSeconds: number;
  orgMaxConcurrentCalls: number;
}

const unique = (xs: string[]) => [...new Set(xs)].sort();

/**
 * One claim, in one transaction: lock due jobs (SKIP LOCKED), then check for each, under the locks
 * of its organization and campaign, that it may be dialed now: not opted out, attempts left, the
 * contact's calling window open (test jobs ignore windows), and the campaign's and organization's
 * live calls under their limits. Jobs that pass are taken (lease, fencing token, queued Call row);
 * the others are failed, moved to their next open time, or left for a later claim (limits).
 */
export async function claimDueJobs(db: Db, o: ClaimOptions): Promise<Claim[]> {
  return db.tx(async (q) => {
    const { now, jobs: rows } = await lockDueJobs(q, o.limit, o.orgMaxConcurrentCalls);
    if (rows.length === 0) return [];
    const live = await lockLiveCounts(q, unique(rows.map((j) => j.campaign_id)));
    const claims: Claim[] = [];
    const fails: Array<{ id: string; reason: string; message: string }> = [];
    const later: Array<{ id: string; at: Date }> = [];
    for (const row of rows) {
      const campaign = live.campaigns.get(row.campaign_id);
      if (!campaign) continue;
      const job: DueJob = { ...row, schedule: campaign.schedule, caller_id: campaign.caller_id };
      const verdict = check(job, now);
      if (verdict.kind === "fail")
        fails.push({ id: job.id, reason: verdict.reason, message: verdict.message });
      else if (verdict.kind === "later") later.push({ id: job.id, at: verdict.at });
      else {
        const inOrg = live.org.get(job.org_id) ?? 0;
        // At a limit the job stays due: a later claim takes it when a call ends.
        if (campaign.live >= campaign.schedule.MaxConcurrentCalls || inOrg >= o.orgMaxConcurrentCalls)
          continue;
        campaign.live++;
        live.org.set(job.org_id, inOrg + 1);
        claims.push({ job, callId: newId("call"), claimedAt: now });
      }
    }
    await failDueJobs(q, fails);
    await rescheduleJobs(q, later);
    await takeJobs(q, o.workerId, o.leaseSeconds, claims);
    return claims;
  });
}

type Verdict =
  | { kind: "dial" }
  | { kind: "later"; at: Date }
  | { kind: "fail"; reason: string; message: string };

function check(job: DueJob, now: Date): Verdict {
  if (job.opted_out) {
    return { kind: "fail", reason: "opted_out", message: "The number is on the opt-out list." };
  }
  if (!hasAttemptLeft({ ...job, phone_number: job.phone_number }, job.schedule)) {
    return {
      kind: "fail",
      reason: "max_attempts_exceeded",
      message: `${job.schedule.MaxAttempts} attempts were already placed.`,
    };
  }
  if (job.test_job) return { kind: "dial" };
  const zones = contactZones({
    jobTimeZone: job.time_zone,
    phoneNumber: job.phone_number,
    scheduleTimeZone: job.schedule.TimeZone,
  });
  const next = resolveNextOpen(job.schedule, zones, now);
  if (next === null) {
    return {
      kind: "fail",
      reason: "configuration_error",
      message:
        "The campaign's Schedule never opens for this contact: widen Schedule.Windows or remove BlackoutDates.",
    };
  }
  return next.at.getTime() <= now.getTime() ? { kind: "dial" } : { kind: "later", at: next.at };
}
