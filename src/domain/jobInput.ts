import type { ErrorDetail } from "../errors/index.ts";
import { zoneNameCase } from "../schedule/index.ts";
import {
  checkBoolean,
  checkData,
  checkMetadata,
  checkStorable,
  checkText,
  checkTimeZone,
  checkUnknownFields,
  isPlainObject,
} from "./limits.ts";
import { checkPhoneNumber } from "./phone.ts";

/** A job as given on create, batch and import, after validation. */
export interface JobInput {
  PhoneNumber: string;
  ExternalId: string | null;
  ContactName: string | null;
  Metadata: Record<string, unknown>;
  Data: Record<string, unknown> | null;
  TestJob: boolean;
  HangupOptOut: boolean | null;
  TimeZone: string | null;
}

export const JOB_INPUT_FIELDS = [
  "PhoneNumber",
  "ExternalId",
  "ContactName",
  "Metadata",
  "Data",
  "TestJob",
  "HangupOptOut",
  "TimeZone",
] as const;

export type Parsed<T> = { ok: true; value: T } | { ok: false; details: ErrorDetail[] };

/** Validates one job input; `path` prefixes every detail (e.g. "/Jobs/3"). */
export function parseJobInput(raw: unknown, path = ""): Parsed<JobInput> {
  const details: ErrorDetail[] = [];
  if (!isPlainObject(raw)) {
    return {
      ok: false,
      details: [{ Path: path, Message: 'must be a JSON object such as {"PhoneNumber": "+14155550123"}.' }],
    };
  }
  if (!checkStorable(raw, path, details)) return { ok: false, details };
  checkUnknownFields(raw, JOB_INPUT_FIELDS, path, details);
  let phone = "";
  if (raw.PhoneNumber === undefined) {
    details.push({
      Path: `${path}/PhoneNumber`,
      Message: "is required: give an E.164 number such as +14155550123.",
    });
  } else {
    const c = checkPhoneNumber(raw.PhoneNumber);
    if (c.ok) phone = c.e164;
    else details.push({ Path: `${path}/PhoneNumber`, Message: c.message });
  }
  // A blank ExternalId would be a real id, unique in the campaign: the second blank one a conflict.
  checkText(raw.ExternalId, `${path}/ExternalId`, details, { nullable: true, notBlank: true });
  checkText(raw.ContactName, `${path}/ContactName`, details, { nullable: true });
  if (raw.Metadata !== undefined) checkMetadata(raw.Metadata, `${path}/Metadata`, details);
  if (raw.Data !== undefined) checkData(raw.Data, `${path}/Data`, details);
  checkBoolean(raw.TestJob, `${path}/TestJob`, details);
  checkBoolean(raw.HangupOptOut, `${path}/HangupOptOut`, details, true);
  checkTimeZone(raw.TimeZone, `${path}/TimeZone`, details);
  if (details.length > 0) return { ok: false, details };
  return {
    ok: true,
    value: {
      PhoneNumber: phone,
      ExternalId: (raw.ExternalId as string | null | undefined) ?? null,
      ContactName: (raw.ContactName as string | null | undefined) ?? null,
      Metadata: (raw.Metadata as Record<string, unknown> | undefined) ?? {},
      Data: (raw.Data as Record<string, unknown> | null | undefined) ?? null,
      TestJob: (raw.TestJob as boolean | undefined) ?? false,
      HangupOptOut: (raw.HangupOptOut as boolean | null | undefined) ?? null,
      TimeZone: typeof raw.TimeZone === "string" ? zoneNameCase(raw.TimeZone) : null,
    },
  };
}

export const JOB_PATCH_FIELDS = ["ContactName", "Metadata", "Data", "TimeZone"] as const;

export interface JobPatch {
  ContactName?: string | null;
  Metadata?: Record<string, unknown>;
  Data?: Record<string, unknown> | null;
  TimeZone?: string | null;
}

export function parseJobPatch(raw: unknown): Parsed<JobPatch> {
  const details: ErrorDetail[] = [];
  if (!isPlainObject(raw)) return { ok: false, details: [{ Path: "", Message: "must be a JSON object." }] };
  if (!checkStorable(raw, "", details)) return { ok: false, details };
  checkUnknownFields(raw, JOB_PATCH_FIELDS, "", details);
  checkText(raw.ContactName, "/ContactName", details, { nullable: true });
  if (raw.Metadata !== undefined) checkMetadata(raw.Metadata, "/Metadata", details);
  if (raw.Data !== undefined) checkData(raw.Data, "/Data", details);
  checkTimeZone(raw.TimeZone, "/TimeZone", details);
  if (details.length > 0) return { ok: false, details };
  const patch = raw as JobPatch;
  return {
    ok: true,
    value: typeof patch.TimeZone === "string" ? { ...patch, TimeZone: zoneNameCase(patch.TimeZone) } : patch,
  };
}
