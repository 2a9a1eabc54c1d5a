import { Ajv, type ValidateFunction } from "ajv";
import { isPlainObject } from "../domain/limits.ts";
import { storedSafeRegExp } from "../domain/safeRegExp.ts";

const ajv = new Ajv({
  strict: false,
  allErrors: false,
  validateFormats: false,
  code: { regExp: storedSafeRegExp },
});
const validators = new Map<string, ValidateFunction>();

/**
 * A compiled validator for a JSON Schema, by its text: the schemas come fresh from each job's
 * campaign (or are built per call), and Ajv would compile and keep every new object. Null when the
 * schema does not compile.
 */
export function validatorFor(schema: unknown): ValidateFunction | null {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    try {
      v = ajv.compile(isPlainObject(schema) ? schema : {});
    } catch {
      return null;
    }
    if (validators.size > 5000) {
      validators.clear();
      // Ajv keeps its own copy of each compiled schema: drop those too, or the bound is not one.
      ajv.removeSchema();
    }
    validators.set(key, v);
  }
  return v;
}
