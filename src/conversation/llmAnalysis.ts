import { sharedDefinitions } from "../domain/analysisSchema.ts";
import { isPlainObject } from "../domain/limits.ts";
import type { ChatMessage, LlmClient } from "../llm/index.ts";
import { isLlmError } from "../llm/index.ts";
import type { TranscriptEntry } from "../store/calls.ts";
import { validatorFor } from "./jsonSchema.ts";

export const transcriptText = (calls: TranscriptEntry[][]): string =>
  calls
    .map(
      (t, i) =>
        `Call ${i + 1}:\n${t.map((e) => `${e.Role === "agent" ? "Agent" : "Contact"}: ${e.Text}`).join("\n")}`,
    )
    .join("\n\n");

/** The extraction schema: every AnalysisSchema property, nullable, all required (strict JSON schema output). */
function extractionSchema(analysisSchema: Record<string, unknown>): Record<string, unknown> {
  const props = isPlainObject(analysisSchema.properties) ? analysisSchema.properties : {};
  return {
    // The properties' "$ref"s point into the AnalysisSchema's root, which this schema stands in for.
    ...sharedDefinitions(analysisSchema),
    type: "object",
    properties: Object.fromEntries(
      Object.entries(props).map(([k, s]) => [k, { anyOf: [s, { type: "null" }] }]),
    ),
    required: Object.keys(props),
    additionalProperties: false,
  };
}

/** Keywords a strict json_schema answer cannot be asked with. */
const NOT_STRICT = [
  "allOf",
  "oneOf",
  "not",
  "if",
  "then",
  "else",
  "patternProperties",
  "dependentSchemas",
  "dependentRequired",
  "unevaluatedProperties",
  "propertyNames",
  "contains",
];

/**
 * Whether the schema can be asked for strictly: every object closed (all its properties required,
 * additionalProperties false) and no keyword strict mode refuses. An endpoint refuses a strict
 * request for any other schema. A user's AnalysisSchema may hold such parts; those are asked for
 * without strict, and the answer is still checked here.
 */
export function fitsStrictMode(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(fitsStrictMode);
  if (!isPlainObject(schema)) return true;
  if (NOT_STRICT.some((k) => schema[k] !== undefined)) return false;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (isPlainObject(schema.properties) || types.includes("object")) {
    const props = isPlainObject(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required : [];
    if (schema.additionalProperties !== false || !Object.keys(props).every((k) => required.includes(k)))
      return false;
  }
  const nested = ["properties", "$defs", "definitions"].flatMap((k) =>
    isPlainObject(schema[k]) ? Object.values(schema[k]) : [],
  );
  const children = ["items", "prefixItems", "anyOf"].map((k) => schema[k]);
  return [...nested, ...children].every(fitsStrictMode);
}

/** A configuration error (bad key, unknown model) must reach the caller; other failures give null. */
function rethrowConfiguration(e: unknown): null {
  if (isLlmError(e) && e.kind === "configuration") throw e;
  return null;
}

async function askJson(
  llm: LlmClient,
  model: string,
  messages: ChatMessage[],
  name: string,
  schema: Record<string, unknown>,
) {
  const validate = validatorFor(schema);
  if (!validate) return null;
  const jsonSchema = { name, schema, strict: fitsStrictMode(schema) };
  // Invalid output is asked for once more, then given up (the caller falls back to nulls).
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await llm.chat({ model, messages, jsonSchema, temperature: 0 });
    try {
      const parsed = JSON.parse(r.content ?? "");
      if (validate(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // not JSON: try again
    }
  }
  return null;
}

export async function extractResult(
  llm: LlmClient,
  model: string,
  analysisSchema: Record<string, unknown>,
  calls: TranscriptEntry[][],
): Promise<Record<string, unknown> | null> {
  const messages: ChatMessage[] = [
    {
      role: "system",
      content:
        "Extract the answers the contact gave in these phone calls. Use null for anything the contact did not clearly answer.",
    },
    { role: "user", content: transcriptText(calls) },
  ];
  return askJson(llm, model, messages, "call_result", extractionSchema(analysisSchema)).catch(
    rethrowConfiguration,
  );
}

export async function summarizeCalls(
  llm: LlmClient,
  model: string,
  calls: TranscriptEntry[][],
): Promise<string | null> {
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: "Summarise these phone calls in two sentences: what was learned and how they ended.",
    },
    { role: "user", content: transcriptText(calls) },
  ];
  try {
    const r = await llm.chat({ model, messages, temperature: 0 });
    return r.content?.trim() || null;
  } catch (e) {
    return rethrowConfiguration(e);
  }
}

export async function judgeObjective(
  llm: LlmClient,
  model: string,
  objective: string,
  calls: TranscriptEntry[][],
): Promise<boolean | null> {
  const schema = {
    type: "object",
    properties: { ObjectiveMet: { type: "boolean" }, Reason: { type: "string" } },
    required: ["ObjectiveMet", "Reason"],
    additionalProperties: false,
  };
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: `Judge whether these phone calls met the campaign's objective.\nObjective: ${objective}`,
    },
    { role: "user", content: transcriptText(calls) },
  ];
  const r = await askJson(llm, model, messages, "objective", schema).catch(rethrowConfiguration);
  return typeof r?.ObjectiveMet === "boolean" ? r.ObjectiveMet : null;
}
