import { mayDial } from "../domain/campaign.ts";
import { hasAttemptLeft, noAttemptLeft } from "../domain/outcomes.ts";
import { newId } from "../ids/index.ts";
import { jobZones, resolveNextOpen } from "../schedule/index.ts";
import {
  type Claim,
  type DueJob,
  type DueRow,
  failDueJobs,
  type LiveCounts,
  lockDueJobs,
  lockLiveCounts,
  readCampaigns,
  rescheduleJobs,
  takeJobs,
} from "../store/dispatch/claim.ts";
import type { Db, Queryable } from "../store/index.ts";

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseSeconds: number;
  orgMaxConcurrentCalls: number;
}

const unique = (xs: string[]) => [...new Set(xs)].sort();

/** Thrown inside a claim's transaction to roll it back: another claim filled a limit meanwhile. */
class OverLimit extends Error {}

/**
 * One claim: lock due jobs (SKIP LOCKED), then check for each that it may be dialed now: not opted
 * out, attempts left, the contact's calling window open (test jobs ignore windows), and the
 * campaign's and organization's live calls under their limits. Jobs that pass are taken (lease,
 * fencing token, queued Call row); the others are failed, moved to their next open time, or left for
 * a later claim (limits).
 *
 * The limits are checked under the locks of the organizations and campaigns, which serialize the
 * claims of one organization. Far from the limits, a claim takes its jobs first and holds those locks
 * only to count and commit, so that claims mostly run side by side; if the count shows a limit passed
 * (another claim filled it meanwhile), the transaction is rolled back and the claim is made again
 * with the locks taken first.
 */
export async function claimDueJobs(db: Db, o: ClaimOptions): Promise<Claim[]> {
  try {
    return await db.tx((q) => claimOnce(q, o, true));
  } catch (e) {
    if (!(e instanceof OverLimit)) throw e;
    return db.tx((q) => claimOnce(q, o, false));
  }
}

/** Whether every due job fits under the limits even if all were taken: far enough from them. */
function wholeBatchFits(rows: readonly DueRow[], live: LiveCounts, orgMax: number): boolean {
  const perCampaign = new Map<string, number>();
  const perOrg = new Map<string, number>();
  for (const r of rows) {
    perCampaign.set(r.campaign_id, (perCampaign.get(r.campaign_id) ?? 0) + 1);
    perOrg.set(r.org_id, (perOrg.get(r.org_id) ?? 0) + 1);
  }
  for (const [id, n] of perCampaign) {
    const c = live.campaigns.get(id);
    if (!c || c.live + n > c.schedule.MaxConcurrentCalls) return false;
  }
  for (const [id, n] of perOrg) if ((live.org.get(id) ?? 0) + n > orgMax) return false;
  return true;
}

async function claimOnce(q: Queryable, o: ClaimOptions, optimistic: boolean): Promise<Claim[]> {
  const { now, jobs: rows } = await lockDueJobs(q, o.limit, o.orgMaxConcurrentCalls);
  if (rows.length === 0) return [];
  const campaignIds = unique(rows.map((j) => j.campaign_id));
  const unlocked = optimistic ? await readCampaigns(q, campaignIds) : null;
  const takeFirst = unlocked !== null && wholeBatchFits(rows, unlocked, o.orgMaxConcurrentCalls);
  const { campaigns, org } = takeFirst ? unlocked : await lockLiveCounts(q, campaignIds);
  const claims: Claim[] = [];
  const fails: Array<{ id: string; reason: string; message: string }> = [];
  const later: Array<{ id: string; at: Date | null; version: number }> = [];
  for (const row of rows) {
    const campaign = campaigns.get(row.campaign_id);
    // Paused or archived since the jobs were locked (a statement ago): not dialed.
    if (!campaign || !mayDial(campaign.status, row.test_job)) continue;
    const job: DueJob = {
      ...row,
      schedule: campaign.schedule,
      schedule_version: campaign.schedule_version,
      caller_id: campaign.caller_id,
      zones: jobZones(row, campaign.schedule),
    };
    const verdict = check(job, now);
    if (verdict.kind === "fail") fails.push({ id: job.id, reason: verdict.reason, message: verdict.message });
    else if (verdict.kind === "later")
      later.push({ id: job.id, at: verdict.at, version: job.schedule_version });
    else {
      const inOrg = org.get(job.org_id) ?? 0;
      // At a limit the job stays due: a later claim takes it when a call ends.
      if (campaign.live >= campaign.schedule.MaxConcurrentCalls || inOrg >= o.orgMaxConcurrentCalls) continue;
      campaign.live++;
      org.set(job.org_id, inOrg + 1);
      claims.push({ job, callId: newId("call"), claimedAt: now, fence: job.fence + 1 });
    }
  }
  await failDueJobs(q, fails);
  await rescheduleJobs(q, later);
  await takeJobs(q, o.workerId, o.leaseSeconds, claims);
  if (takeFirst && claims.length > 0) {
    // Under the locks now, and the counts include this claim's own calls.
    const locked = await lockLiveCounts(q, unique(claims.map((c) => c.job.campaign_id)));
    for (const c of locked.campaigns.values())
      if (c.live > c.schedule.MaxConcurrentCalls) throw new OverLimit();
    for (const n of locked.org.values()) if (n > o.orgMaxConcurrentCalls) throw new OverLimit();
  }
  return claims;
}

type Verdict =
  | { kind: "dial" }
  /** Not yet: at the window's next opening; null when no window ever opens (it waits for a schedule change). */
  | { kind: "later"; at: Date | null }
  | { kind: "fail"; reason: string; message: string };

function check(job: DueJob, now: Date): Verdict {
  if (job.opted_out) {
    return { kind: "fail", reason: "opted_out", message: "The number is on the opt-out list." };
  }
  if (!hasAttemptLeft(job, job.schedule)) return { kind: "fail", ...noAttemptLeft(job, job.schedule) };
  if (job.test_job) return { kind: "dial" };
  const next = resolveNextOpen(job.schedule, job.zones, now);
  // A schedule that never opens (changed since this job was scheduled) leaves it waiting with
  // NextCallAt null, like the jobs rescheduled by that change: attempts left, it is not failed.
  if (next === null) return { kind: "later", at: null };
  return next.at.getTime() <= now.getTime() ? { kind: "dial" } : { kind: "later", at: next.at };
}
