import { Ajv } from "ajv";
import type { ErrorDetail } from "../errors/index.ts";
import { isPlainObject } from "./limits.ts";
import { safeRegExp } from "./safeRegExp.ts";

// One compiler for user schemas; strict mode off so that common annotations ("description",
// "examples", "format") are accepted as users write them.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: safeRegExp } });

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
    const message = (e as Error).message;
    // RE2 (see safeRegExp) parses the patterns: say why one it cannot run is refused.
    const hint = message.includes("error parsing regexp")
      ? " (patterns run on RE2, in linear time: no backreferences, no lookaround, repeat counts up to 1000; for a longer text use maxLength)"
      : "";
    return [{ Path: path, Message: `is not a valid JSON Schema: ${message}${hint}` }];
  } finally {
    // Only whether it compiles matters here: Ajv would otherwise keep every campaign's schema.
    ajv.removeSchema(schema);
  }
  return [];
}

/** The AnalysisSchema's shared definitions, which its properties may point to with "$ref". */
export function sharedDefinitions(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ["$defs", "definitions"]) if (isPlainObject(schema[key])) out[key] = schema[key];
  return out;
}

/**
 * The schema of each Result field (the AnalysisSchema's properties), each standing alone: the
 * root's shared definitions come along, so that a "$ref": "#/$defs/..." still resolves when the
 * field's schema is compiled or sent by itself.
 */
export function fieldSchemas(schema: Record<string, unknown>): Record<string, unknown> {
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  const shared = sharedDefinitions(schema);
  if (Object.keys(shared).length === 0) return props;
  return Object.fromEntries(
    Object.entries(props).map(([name, s]) => [name, isPlainObject(s) ? withShared(s, shared) : s]),
  );
}

/** A field's schema with the root's definitions added to its own (its own win on a name clash). */
function withShared(
  field: Record<string, unknown>,
  shared: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...field };
  for (const [key, defs] of Object.entries(shared)) {
    out[key] = isPlainObject(field[key]) ? { ...(defs as Record<string, unknown>), ...field[key] } : defs;
  }
  return out;
}
