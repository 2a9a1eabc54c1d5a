import type { CampaignSettings, CampaignStatus } from "../domain/campaign.ts";
import type { Queryable } from "./db.ts";

export interface Campaign extends CampaignSettings {
  Id: string;
  StatusReason: string | null;
  CreatedAt: string;
  UpdatedAt: string;
}

interface CampaignRow {
  id: string;
  org_id: string;
  name: string;
  status: CampaignStatus;
  status_reason: string | null;
  agent: CampaignSettings["Agent"];
  analysis_schema: Record<string, unknown>;
  objective_prompt: string | null;
  inbound_mode: CampaignSettings["InboundMode"];
  inbound_reject_message: string;
  phone_numbers: string[];
  hangup_opt_out: boolean;
  schedule: CampaignSettings["Schedule"];
  created_at: Date;
  updated_at: Date;
}

export function toCampaign(r: CampaignRow): Campaign {
  return {
    Id: r.id,
    Name: r.name,
    Status: r.status,
    StatusReason: r.status_reason,
    Agent: r.agent,
    AnalysisSchema: r.analysis_schema,
    CampaignObjectivePrompt: r.objective_prompt,
    InboundMode: r.inbound_mode,
    InboundRejectMessage: r.inbound_reject_message,
    PhoneNumbers: r.phone_numbers,
    HangupOptOut: r.hangup_opt_out,
    Schedule: r.schedule,
    CreatedAt: r.created_at.toISOString(),
    UpdatedAt: r.updated_at.toISOString(),
  };
}

const settingsParams = (s: CampaignSettings): unknown[] => [
  s.Name,
  s.Status,
  JSON.stringify(s.Agent),
  JSON.stringify(s.AnalysisSchema),
  s.CampaignObjectivePrompt,
  s.InboundMode,
  s.InboundRejectMessage,
  s.PhoneNumbers,
  s.HangupOptOut,
  JSON.stringify(s.Schedule),
];

export async function insertCampaign(
  q: Queryable,
  id: string,
  orgId: string,
  s: CampaignSettings,
): Promise<Campaign> {
  const r = await q.query<CampaignRow>(
    `insert into campaigns (id, org_id, name, status, agent, analysis_schema, objective_prompt, inbound_mode,
       inbound_reject_message, phone_numbers, hangup_opt_out, schedule)
     values ($11, $12, $1, $2, $3::json, $4::json, $5, $6, $7, $8::text[], $9, $10::json)
     returning *`,
    [...settingsParams(s), id, orgId],
  );
  return toCampaign(r.rows[0]!);
}

export async function updateCampaign(
  q: Queryable,
  id: string,
  s: CampaignSettings,
  statusReason: string | null,
  /** The calling windows changed: schedule_version moves on (see migration 0011). */
  windowsChanged = false,
): Promise<Campaign> {
  const r = await q.query<CampaignRow>(
    `update campaigns set name = $1, status = $2, agent = $3::json, analysis_schema = $4::json,
       objective_prompt = $5, inbound_mode = $6, inbound_reject_message = $7, phone_numbers = $8::text[],
       hangup_opt_out = $9, schedule = $10::json, status_reason = $11, updated_at = now(),
       schedule_version = schedule_version + $13::int
     where id = $12 returning *`,
    [...settingsParams(s), statusReason, id, windowsChanged ? 1 : 0],
  );
  return toCampaign(r.rows[0]!);
}

/**
 * A campaign of the organization. `lock`: "update" for a change of it (status, settings); "key share"
 * for work that depends on its windows as read (new jobs' first call times), which a change then
 * waits for, and which waits for a change under way.
 */
export async function getCampaign(
  q: Queryable,
  orgId: string,
  id: string,
  lock: "update" | "key share" | null = null,
): Promise<Campaign | null> {
  const r = await q.query<CampaignRow>(
    `select * from campaigns where id = $1 and org_id = $2${lock ? ` for ${lock}` : ""}`,
    [id, orgId],
  );
  return r.rows[0] ? toCampaign(r.rows[0]) : null;
}

/** The campaign of job `jobId`, KEY SHARE-locked (null when the organization has no such job). */
export async function lockCampaignOfJob(
  q: Queryable,
  orgId: string,
  jobId: string,
): Promise<Campaign | null> {
  const r = await q.query<CampaignRow>(
    `select c.* from campaigns c join jobs j on j.campaign_id = c.id
     where j.id = $1 and j.org_id = $2 for key share of c`,
    [jobId, orgId],
  );
  return r.rows[0] ? toCampaign(r.rows[0]) : null;
}

export async function listCampaigns(
  q: Queryable,
  orgId: string,
  after: string | null,
  limit: number,
): Promise<Campaign[]> {
  const r = await q.query<CampaignRow>(
    "select * from campaigns where org_id = $1 and ($2::text is null or id > $2) order by id limit $3",
    [orgId, after, limit],
  );
  return r.rows.map(toCampaign);
}

/**
 * Makes `numbers` the numbers owned by campaign `id` (none when archived). Returns the numbers
 * already owned by another campaign: the caller throws a 409, which rolls the transaction back.
 */
export async function claimNumbers(q: Queryable, id: string, numbers: readonly string[]): Promise<string[]> {
  await q.query(
    "delete from campaign_numbers where campaign_id = $1 and not (phone_number = any($2::text[]))",
    [id, numbers],
  );
  // A concurrent claim of the same number waits here on the unique index, then sees it taken.
  await q.query(
    `insert into campaign_numbers (phone_number, campaign_id) select unnest($1::text[]), $2
     on conflict (phone_number) do nothing`,
    [numbers, id],
  );
  const taken = await q.query<{ phone_number: string }>(
    "select phone_number from campaign_numbers where phone_number = any($1::text[]) and campaign_id <> $2",
    [numbers, id],
  );
  return taken.rows.map((r) => r.phone_number);
}

/**
 * Locks a campaign row FOR UPDATE, as a change of its status or windows does; returns its status
 * and reason as locked.
 */
export async function lockCampaignForUpdate(
  q: Queryable,
  id: string,
): Promise<{ status: string; status_reason: string | null } | undefined> {
  const r = await q.query<{ status: string; status_reason: string | null }>(
    "select status, status_reason from campaigns where id = $1 for update",
    [id],
  );
  return r.rows[0];
}

/**
 * Pauses an active campaign on Cobbery's own account (e.g. a configuration error), with the reason
 * shown as StatusReason; a campaign already paused or archived is left as it is.
 */
export async function pauseActiveCampaign(q: Queryable, id: string, reason: string): Promise<void> {
  // FOR UPDATE first, like the API's status changes: a dial under way (lockForDial) finishes first.
  await lockCampaignForUpdate(q, id);
  await q.query(
    "update campaigns set status = 'paused', status_reason = $2, updated_at = now() where id = $1 and status = 'active'",
    [id, reason],
  );
}
