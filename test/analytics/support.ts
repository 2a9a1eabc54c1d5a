// Helpers for the analytics tests: the analytics endpoint, calls of a job, and the counters compared
// with a direct count of the tables. (Campaigns, sim contacts and jobs are set up with the shared
// helpers of test/helpers/app.ts.)
import assert from "node:assert/strict";
import { type CampaignAnalytics, toCampaignAnalytics } from "../../src/analytics/index.ts";
import { contactZones, localParts, primaryZone } from "../../src/schedule/index.ts";
import {
  type CallCountRow,
  countCampaignDirectly,
  type Db,
  type JobCountRow,
  readCampaignCounts,
} from "../../src/store/index.ts";
import { flowCampaign, type TestApp } from "../helpers/app.ts";

/** The zone of the campaigns' schedule (newCampaign() keeps flowCampaign()'s). */
export const SCHEDULE_ZONE = (flowCampaign().Schedule as { TimeZone: string }).TimeZone;

export async function analytics(t: TestApp, campaignId: string, key?: string): Promise<CampaignAnalytics> {
  const r = await t.request(
    "GET",
    `/v1/campaigns/${campaignId}/analytics`,
    undefined,
    key === undefined ? {} : { key },
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

export async function callsOf(t: TestApp, jobId: string): Promise<any[]> {
  const r = await t.request("GET", `/v1/jobs/${jobId}/calls?Limit=1000`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.Items;
}

/** The contact's local hour of a call, computed in TypeScript (src/schedule), not by the database. */
export function expectedLocalHour(
  call: { StartedAt: string },
  job: { TimeZone: string | null },
  phone: string | null,
): number {
  const zones = contactZones({
    jobTimeZone: job.TimeZone,
    phoneNumber: phone,
    scheduleTimeZone: SCHEDULE_ZONE,
  });
  return localParts(primaryZone(zones, SCHEDULE_ZONE), new Date(call.StartedAt)).hour;
}

const jobKey = (r: JobCountRow) => `${r.state}|${r.failure_reason}|${r.objective_met}`;
const callKey = (r: CallCountRow) => `${r.attempt}|${r.local_hour}`;

/** Rows with the same key summed, zero rows dropped, sorted: a canonical form to compare. */
function canonical<T extends object>(rows: T[], key: (r: T) => string, measures: (keyof T)[]): string[] {
  const sums = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    const acc = sums.get(k);
    if (!acc) {
      sums.set(k, { ...r });
      continue;
    }
    for (const m of measures) (acc[m] as number) += r[m] as number;
  }
  return [...sums.values()]
    .filter((r) => measures.some((m) => r[m] !== 0))
    .map((r) => `${key(r)} => ${measures.map((m) => r[m]).join(",")}`)
    .sort();
}

/**
 * Asserts that the counters (summed delta rows) equal a direct count of the jobs and calls tables,
 * both read in one transaction (repeatable read on PostgreSQL), so that writers running meanwhile
 * cannot make them differ.
 */
export async function assertCountersMatch(
  db: Db,
  orgId: string,
  campaignId: string,
  what = "",
): Promise<void> {
  const { counters, direct } = await db.tx(async (q) => {
    if (db.kind === "postgres") await q.query("set transaction isolation level repeatable read");
    const c = await readCampaignCounts(q, orgId, campaignId);
    const d = await countCampaignDirectly(q, campaignId);
    return { counters: c!, direct: d };
  });
  assert.deepEqual(
    canonical(counters.jobs, jobKey, ["jobs"]),
    canonical(direct.jobs, jobKey, ["jobs"]),
    `job counters ${what}`,
  );
  assert.deepEqual(
    canonical(counters.calls, callKey, ["calls", "answered", "connected", "duration_seconds"]),
    canonical(direct.calls, callKey, ["calls", "answered", "connected", "duration_seconds"]),
    `call counters ${what}`,
  );
  assert.deepEqual(toCampaignAnalytics(counters), toCampaignAnalytics(direct), `analytics ${what}`);
}
