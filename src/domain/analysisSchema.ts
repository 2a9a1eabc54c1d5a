import { Ajv } from "ajv";
import type { ErrorDetail } from "../errors/index.ts";
import { isPlainObject } from "./limits.ts";

// One compiler for user schemas; strict mode off so that common annotations ("description",
// "examples", "format") are accepted as users write them.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

/** AnalysisSchema must compile as JSON Schema and describe an object with named properties. */
export function validateAnalysisSchema(schema: unknown, path: string): ErrorDetail[] {
  if (!isPlainObject(schema)) {
    return [
      {
        Path: path,
        Message:
          'must be a JSON Schema object, e.g. {"type": "object", "properties": {"age": {"type": "number"}}}.',
      },
    ];
  }
  if (schema.type !== "object")
    return [{ Path: `${path}/type`, Message: 'must be "object": Job.Result is an object.' }];
  if (schema.properties !== undefined && !isPlainObject(schema.properties)) {
    return [
      { Path: `${path}/properties`, Message: "must be an object mapping each result field to its schema." },
    ];
  }
  try {
    ajv.compile(schema);
  } catch (e) {
    return [{ Path: path, Message: `is not a valid JSON Schema: ${(e as Error).message}` }];
  } finally {
    // Only whether it compiles matters here: Ajv would otherwise keep every campaign's schema.
    ajv.removeSchema(schema);
  }
  return [];
}

/** The schema of each Result field (the AnalysisSchema's properties). */
export const fieldSchemas = (schema: Record<string, unknown>): Record<string, unknown> =>
  isPlainObject(schema.properties) ? schema.properties : {};
