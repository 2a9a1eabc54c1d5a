import type { ErrorDetail } from "../errors/index.ts";
import { validateSchedule, zoneNameCase } from "../schedule/index.ts";
import { type LlmSettings, validateAgent } from "./agent.ts";
import { fieldSchemas, validateAnalysisSchema } from "./analysisSchema.ts";
import { checkSavesFitSchema, type Flow } from "./flow.ts";
import type { Parsed } from "./jobInput.ts";
import { checkBoolean, checkText, checkUnknownFields, isPlainObject, LIMITS } from "./limits.ts";
import { checkPhoneNumber } from "./phone.ts";

export const CAMPAIGN_STATUSES = ["active", "paused", "archived"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Whether a campaign in this status places outbound calls: active ones, and test jobs of paused ones. */
export const mayDial = (status: CampaignStatus, testJob: boolean): boolean =>
  status === "active" || (testJob && status === "paused");
export const INBOUND_MODES = ["reject", "lookup", "lookup_failed", "create_if_not_exists", "create"] as const;
export type InboundMode = (typeof INBOUND_MODES)[number];
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Agent {
  Type: "flow" | "llm";
  Prompt: string | null;
  FirstMessage: string | null;
  VoicemailMessage: string | null;
  Model: string | null;
  Flow: Flow | null;
}

export interface CallingWindow {
  Days: Weekday[];
  Start: string;
  End: string;
}

export interface Schedule {
  TimeZone: string;
  Windows: CallingWindow[];
  BlackoutDates: string[];
  MaxAttempts: number;
  RetryDelaySeconds: number;
  MaxCallbacks: number;
  MaxConcurrentCalls: number;
  MaxCallSeconds: number;
}

/** The campaign's settings as the API shows them (without Id, Status and times). */
export interface CampaignSettings {
  Name: string;
  Status: CampaignStatus;
  Agent: Agent;
  AnalysisSchema: Record<string, unknown>;
  CampaignObjectivePrompt: string | null;
  InboundMode: InboundMode;
  InboundRejectMessage: string;
  PhoneNumbers: string[];
  HangupOptOut: boolean;
  Schedule: Schedule;
}

export const DEFAULT_SCHEDULE: Schedule = {
  TimeZone: "UTC",
  Windows: [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat"], Start: "09:00", End: "20:00" }],
  BlackoutDates: [],
  MaxAttempts: 3,
  RetryDelaySeconds: 3600,
  MaxCallbacks: 3,
  MaxConcurrentCalls: 10,
  MaxCallSeconds: 900,
};

export const DEFAULT_INBOUND_REJECT_MESSAGE = "This number does not accept calls.";

const TOP_FIELDS = [
  "Name",
  "Status",
  "Agent",
  "AnalysisSchema",
  "CampaignObjectivePrompt",
  "InboundMode",
  "InboundRejectMessage",
  "PhoneNumbers",
  "HangupOptOut",
  "Schedule",
] as const;

/** The bounds of the numeric Schedule fields (also shown in the OpenAPI document). */
export const SCHEDULE_NUMBERS: Record<string, [min: number, max: number]> = {
  MaxAttempts: [1, 100],
  RetryDelaySeconds: [0, 30 * 24 * 3600],
  MaxCallbacks: [0, 100],
  MaxConcurrentCalls: [1, 100_000],
  MaxCallSeconds: [10, 4 * 3600],
};

/** Builds the full settings from a create body (defaults filled in) or from current settings + a patch. */
export function mergeCampaign(base: CampaignSettings | null, raw: Record<string, unknown>): CampaignSettings {
  const b = base ?? {
    Name: "",
    Status: "active" as CampaignStatus,
    Agent: {
      Type: "flow",
      Prompt: null,
      FirstMessage: null,
      VoicemailMessage: null,
      Model: null,
      Flow: null,
    },
    AnalysisSchema: { type: "object", properties: {} },
    CampaignObjectivePrompt: null,
    InboundMode: "reject" as InboundMode,
    InboundRejectMessage: DEFAULT_INBOUND_REJECT_MESSAGE,
    PhoneNumbers: [],
    HangupOptOut: false,
    Schedule: DEFAULT_SCHEDULE,
  };
  const pick = <K extends keyof CampaignSettings>(k: K): CampaignSettings[K] =>
    (k in raw ? raw[k] : b[k]) as CampaignSettings[K];
  return {
    Name: pick("Name"),
    Status: pick("Status"),
    // Agent and Schedule merge field by field; the other fields are replaced whole.
    Agent: isPlainObject(raw.Agent) ? ({ ...b.Agent, ...raw.Agent } as Agent) : pick("Agent"),
    AnalysisSchema: pick("AnalysisSchema"),
    CampaignObjectivePrompt: pick("CampaignObjectivePrompt"),
    InboundMode: pick("InboundMode"),
    InboundRejectMessage: pick("InboundRejectMessage"),
    PhoneNumbers: pick("PhoneNumbers"),
    HangupOptOut: pick("HangupOptOut"),
    Schedule: isPlainObject(raw.Schedule)
      ? ({ ...b.Schedule, ...raw.Schedule } as Schedule)
      : pick("Schedule"),
  };
}

export function parseCampaign(
  base: CampaignSettings | null,
  raw: unknown,
  opts: LlmSettings,
): Parsed<CampaignSettings> {
  if (!isPlainObject(raw)) return { ok: false, details: [{ Path: "", Message: "must be a JSON object." }] };
  const out: ErrorDetail[] = [];
  checkUnknownFields(raw, TOP_FIELDS, "", out);
  if (base === null && raw.Agent === undefined) {
    out.push({
      Path: "/Agent",
      Message: 'is required, e.g. {"Type": "flow", "Flow": {...}} or {"Type": "llm", "Prompt": "..."}.',
    });
  }
  if (raw.Agent !== undefined && !isPlainObject(raw.Agent))
    out.push({ Path: "/Agent", Message: "must be an object." });
  if (raw.Schedule !== undefined && !isPlainObject(raw.Schedule))
    out.push({ Path: "/Schedule", Message: "must be an object." });
  if (out.length > 0) {
    // The rest is checked on the merged settings, which these errors prevent; a create's missing
    // name is told now rather than on the next try.
    if (base === null) checkText(raw.Name, "/Name", out, { required: true });
    return { ok: false, details: out };
  }
  const s = mergeCampaign(base, raw);
  // Checks stricter than those a stored campaign passed (the LLM settings, patterns on RE2, Saves
  // that fit the schema) apply to what this request sets (everything, on create): a PATCH that
  // leaves those parts as they are (a rename, an archive) is not refused for them. A campaign whose
  // LLM settings changed since fails its jobs configuration_error when it runs, and is paused.
  const sets = (...fields: string[]) => base === null || fields.some((f) => raw[f] !== undefined);
  const setsFlow = base === null || (isPlainObject(raw.Agent) && raw.Agent.Flow !== undefined);
  const llm: LlmSettings = sets("Agent", "CampaignObjectivePrompt")
    ? opts
    : { llmConfigured: true, defaultModel: true };
  checkText(s.Name, "/Name", out, { required: true });
  if (!CAMPAIGN_STATUSES.includes(s.Status))
    out.push({ Path: "/Status", Message: `must be one of ${CAMPAIGN_STATUSES.join(", ")}.` });
  const agentAndSchema = [
    ...validateAgent(s.Agent, "/Agent", llm),
    ...(sets("AnalysisSchema") ? validateAnalysisSchema(s.AnalysisSchema, "/AnalysisSchema") : []),
  ];
  out.push(...agentAndSchema);
  if (agentAndSchema.length === 0 && (setsFlow || sets("AnalysisSchema")) && s.Agent.Flow)
    out.push(...checkSavesFitSchema(s.Agent.Flow, fieldSchemas(s.AnalysisSchema), "/Agent/Flow"));
  checkText(s.CampaignObjectivePrompt, "/CampaignObjectivePrompt", out, {
    nullable: true,
    notBlank: true,
    max: LIMITS.longText,
  });
  if (typeof s.CampaignObjectivePrompt === "string" && !llm.llmConfigured) {
    out.push({
      Path: "/CampaignObjectivePrompt",
      Message:
        "needs an LLM to judge the objective, and none is configured: set COBBERY_LLM_BASE_URL (and COBBERY_LLM_API_KEY, COBBERY_LLM_MODEL), or leave CampaignObjectivePrompt null.",
    });
  } else if (typeof s.CampaignObjectivePrompt === "string" && !llm.defaultModel && s.Agent.Model === null) {
    out.push({
      Path: "/CampaignObjectivePrompt",
      Message:
        "needs a model to judge the objective, and no default model is configured: set COBBERY_LLM_MODEL, or the Agent's Model.",
    });
  }
  if (!INBOUND_MODES.includes(s.InboundMode))
    out.push({ Path: "/InboundMode", Message: `must be one of ${INBOUND_MODES.join(", ")}.` });
  checkText(s.InboundRejectMessage, "/InboundRejectMessage", out, { max: 1000 });
  checkBoolean(s.HangupOptOut, "/HangupOptOut", out);
  const numbers = parsePhoneNumbers(s.PhoneNumbers, out);
  out.push(...validateScheduleFields(s.Schedule));
  if (out.length > 0) return { ok: false, details: out };
  const schedule = { ...s.Schedule, TimeZone: zoneNameCase(s.Schedule.TimeZone) };
  return { ok: true, value: { ...s, PhoneNumbers: numbers, Schedule: schedule } };
}

/**
 * The campaign's numbers in the one E.164 form jobs, opt-outs and calls are stored in (a UK number
 * written +4402079460958 is +442079460958), so that ownership and inbound routing compare like
 * with like.
 */
function parsePhoneNumbers(v: unknown, out: ErrorDetail[]): string[] {
  if (!Array.isArray(v)) {
    out.push({ Path: "/PhoneNumbers", Message: 'must be an array of E.164 numbers, e.g. ["+14155550123"].' });
    return [];
  }
  const seen = new Set<string>();
  v.forEach((n, i) => {
    const c = checkPhoneNumber(n);
    if (!c.ok) out.push({ Path: `/PhoneNumbers/${i}`, Message: c.message });
    else if (seen.has(c.e164)) out.push({ Path: `/PhoneNumbers/${i}`, Message: "is listed twice." });
    else seen.add(c.e164);
  });
  return [...seen];
}

function validateScheduleFields(s: Schedule): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  checkUnknownFields(
    s as unknown as Record<string, unknown>,
    Object.keys(DEFAULT_SCHEDULE),
    "/Schedule",
    out,
  );
  for (const [k, [min, max]] of Object.entries(SCHEDULE_NUMBERS)) {
    const v = (s as unknown as Record<string, unknown>)[k];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
      out.push({ Path: `/Schedule/${k}`, Message: `must be an integer from ${min} to ${max}.` });
    }
  }
  for (const d of validateSchedule(s)) out.push({ Path: `/Schedule${d.Path}`, Message: d.Message });
  return out;
}
