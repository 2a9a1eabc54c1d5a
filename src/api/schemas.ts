/**
 * JSON Schemas of the API's resources, for the OpenAPI document. Request bodies are validated by the
 * use cases (which give field-level messages); these describe them.
 */
import { DEFAULT_SCHEDULE, SCHEDULE_NUMBERS } from "../domain/campaign.ts";

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });
const time = { type: "string", format: "date-time" };

export const errorSchema = {
  $id: "Error",
  type: "object",
  properties: {
    Error: {
      type: "object",
      properties: {
        Code: {
          type: "string",
          enum: [
            "validation_failed",
            "unauthorized",
            "not_found",
            "conflict",
            "payload_too_large",
            "idempotency_mismatch",
            "rate_limited",
            "internal",
          ],
        },
        Message: { type: "string" },
        Details: {
          type: "array",
          items: { type: "object", properties: { Path: { type: "string" }, Message: { type: "string" } } },
        },
      },
    },
  },
} as const;

export const jobInputSchema = {
  $id: "JobInput",
  type: "object",
  required: ["PhoneNumber"],
  properties: {
    PhoneNumber: { type: "string", description: "E.164, e.g. +14155550123", examples: ["+14155550123"] },
    ExternalId: nullable("string", { description: "Your id; unique per campaign" }),
    ContactName: nullable("string"),
    Metadata: { type: "object", description: "Non-PII; kept after PII deletion. At most 50 keys, 8 KiB." },
    Data: nullable("object", { description: "PII; erased by PII deletion. At most 16 KiB." }),
    TestJob: { type: "boolean" },
    HangupOptOut: nullable("boolean"),
    TimeZone: nullable("string", { description: "IANA zone" }),
  },
} as const;

export const jobSchema = {
  $id: "Job",
  type: "object",
  properties: {
    Id: { type: "string", examples: ["job_01JD0000000000000000000000"] },
    CampaignId: { type: "string" },
    PhoneNumber: nullable("string"),
    ExternalId: nullable("string"),
    ContactName: nullable("string"),
    Metadata: { type: "object" },
    Data: nullable("object"),
    TestJob: { type: "boolean" },
    HangupOptOut: nullable("boolean"),
    TimeZone: nullable("string"),
    State: { type: "string", enum: ["pending", "in_progress", "completed", "canceled", "failed", "deleted"] },
    FailureReason: nullable("string", {
      enum: [
        "campaign_objective_missed",
        "max_attempts_exceeded",
        "contact_refused",
        "wrong_contact",
        "opted_out",
        "invalid_phone_number",
        "configuration_error",
        null,
      ],
    }),
    FailureMessage: nullable("string"),
    Attempts: { type: "integer" },
    Callbacks: { type: "integer" },
    NextCallAt: nullable("string", { format: "date-time" }),
    Result: nullable("object"),
    Summary: nullable("string"),
    ObjectiveMet: nullable("boolean"),
    CreatedAt: time,
    UpdatedAt: time,
    EndedAt: nullable("string", { format: "date-time" }),
  },
} as const;

const windowSchema = {
  type: "object",
  properties: {
    Days: {
      type: "array",
      minItems: 1,
      items: { type: "string", enum: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
    },
    Start: { type: "string", pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$", examples: ["09:00"] },
    End: {
      type: "string",
      pattern: "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
      description: 'after Start; "24:00" is the end of the day',
      examples: ["20:00"],
    },
  },
};

/** A numeric Schedule field: its bounds, as the API applies them. */
const scheduleNumber = (name: string) => {
  const [minimum, maximum] = SCHEDULE_NUMBERS[name] as [number, number];
  return { type: "integer", minimum, maximum };
};

export const campaignInputSchema = {
  $id: "CampaignInput",
  type: "object",
  properties: {
    Name: { type: "string" },
    Status: { type: "string", enum: ["active", "paused", "archived"] },
    Agent: {
      type: "object",
      properties: {
        Type: { type: "string", enum: ["flow", "llm"] },
        Prompt: nullable("string"),
        FirstMessage: nullable("string"),
        VoicemailMessage: nullable("string"),
        Model: nullable("string"),
        Flow: nullable("object", { description: "Start, InboundStart and Nodes: see the README" }),
      },
    },
    AnalysisSchema: { type: "object", description: "JSON Schema of Job.Result" },
    CampaignObjectivePrompt: nullable("string"),
    InboundMode: {
      type: "string",
      enum: ["reject", "lookup", "lookup_failed", "create_if_not_exists", "create"],
    },
    InboundRejectMessage: { type: "string" },
    PhoneNumbers: { type: "array", items: { type: "string" } },
    HangupOptOut: { type: "boolean" },
    Schedule: {
      type: "object",
      properties: {
        TimeZone: { type: "string" },
        Windows: { type: "array", items: windowSchema },
        BlackoutDates: { type: "array", items: { type: "string", format: "date" } },
        MaxAttempts: scheduleNumber("MaxAttempts"),
        RetryDelaySeconds: scheduleNumber("RetryDelaySeconds"),
        MaxCallbacks: scheduleNumber("MaxCallbacks"),
        MaxConcurrentCalls: scheduleNumber("MaxConcurrentCalls"),
        MaxCallSeconds: scheduleNumber("MaxCallSeconds"),
      },
    },
  },
} as const;

/**
 * A create's body: a campaign's settings, of which Name and Agent are required, and Schedule's
 * numbers default as shown. (A PATCH takes any field, and one it leaves out keeps its value: no
 * defaults there.)
 */
export const campaignCreateSchema = {
  ...campaignInputSchema,
  $id: "CampaignCreate",
  required: ["Name", "Agent"],
  properties: {
    ...campaignInputSchema.properties,
    Schedule: {
      ...campaignInputSchema.properties.Schedule,
      properties: Object.fromEntries(
        Object.entries(campaignInputSchema.properties.Schedule.properties).map(([k, v]) => [
          k,
          k in SCHEDULE_NUMBERS ? { ...v, default: DEFAULT_SCHEDULE[k as keyof typeof DEFAULT_SCHEDULE] } : v,
        ]),
      ),
    },
  },
} as const;

/** A Job as the preview takes it: any of a job's fields, none required. */
export const jobPreviewInputSchema = {
  $id: "JobPreviewInput",
  type: "object",
  properties: jobInputSchema.properties,
} as const;

export const campaignSchema = {
  $id: "Campaign",
  type: "object",
  properties: {
    Id: { type: "string" },
    ...campaignInputSchema.properties,
    StatusReason: nullable("string"),
    CreatedAt: time,
    UpdatedAt: time,
  },
} as const;

export const callSchema = {
  $id: "Call",
  type: "object",
  properties: {
    Id: { type: "string" },
    JobId: nullable("string"),
    CampaignId: { type: "string" },
    Direction: { type: "string", enum: ["outbound", "inbound"] },
    From: nullable("string"),
    To: nullable("string"),
    Status: { type: "string" },
    AnsweredBy: nullable("string"),
    StartedAt: time,
    AnsweredAt: nullable("string", { format: "date-time" }),
    EndedAt: nullable("string", { format: "date-time" }),
    DurationSeconds: nullable("integer"),
    BilledSeconds: { type: "integer" },
    EndReason: nullable("string"),
    Transcript: {
      type: "array",
      items: { type: "object", properties: { Role: { type: "string" }, Text: { type: "string" }, At: time } },
    },
  },
} as const;

export const optOutSchema = {
  $id: "OptOut",
  type: "object",
  properties: { PhoneNumber: { type: "string" }, CreatedAt: time },
} as const;

/**
 * A resource as the API answers it always carries every field (null when unset): its schema says
 * so, for clients generated from the document.
 */
const everyFieldRequired = <S extends { properties: object }>(schema: S) => ({
  ...schema,
  required: Object.keys(schema.properties),
});

export const ALL_SCHEMAS = [
  errorSchema,
  jobInputSchema,
  jobPreviewInputSchema,
  everyFieldRequired(jobSchema),
  campaignInputSchema,
  campaignCreateSchema,
  everyFieldRequired(campaignSchema),
  everyFieldRequired(callSchema),
  everyFieldRequired(optOutSchema),
];

export const ref = (id: string) => ({ $ref: `${id}#` });
/** A list's response (a Page): its items, and the cursor of the next page (null on the last). */
export const pageSchema = (items: object) => ({
  type: "object",
  properties: { Items: { type: "array", items }, NextCursor: nullable("string") },
});
export const pageOf = (id: string) => pageSchema(ref(id));
export const listQuery = {
  Limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  Cursor: { type: "string" },
};
export const idParams = { type: "object", required: ["Id"], properties: { Id: { type: "string" } } };
export const errorResponses = {
  400: ref("Error"),
  401: ref("Error"),
  404: ref("Error"),
  409: ref("Error"),
  422: ref("Error"),
};
