// How an AnalysisSchema reaches the LLM and the Result: strict mode only for schemas it accepts, and
// each field's schema standing alone with the definitions it points to.
import assert from "node:assert/strict";
import { test } from "node:test";
import { validatorFor } from "../../src/conversation/jsonSchema.ts";
import { fitsStrictMode } from "../../src/conversation/llmAnalysis.ts";
import { fieldSchemas, validateAnalysisSchema } from "../../src/domain/analysisSchema.ts";

const closed = (properties: Record<string, unknown>) => ({
  type: "object",
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

test("fitsStrictMode: closed objects, enums, $ref and anyOf fit; open objects and refused keywords do not", () => {
  const cases: ReadonlyArray<readonly [string, unknown, boolean]> = [
    [
      "flat closed",
      closed({ a: { type: "string" }, b: { anyOf: [{ type: "integer" }, { type: "null" }] } }),
      true,
    ],
    ["enum", closed({ a: { type: "string", enum: ["x", "y"] } }), true],
    [
      "$ref to a closed def",
      { ...closed({ a: { $ref: "#/$defs/d" } }), $defs: { d: closed({ x: {} }) } },
      true,
    ],
    ["array of closed objects", closed({ a: { type: "array", items: closed({ x: {} }) } }), true],
    ["nested open object", closed({ a: { type: "object", properties: { x: {} } } }), false],
    ["open nullable object", closed({ a: { type: ["object", "null"] } }), false],
    [
      "open object behind $ref",
      { ...closed({ a: { $ref: "#/$defs/d" } }), $defs: { d: { type: "object" } } },
      false,
    ],
    ["open object in items", closed({ a: { type: "array", items: { type: "object" } } }), false],
    ["not every property required", { ...closed({ a: {}, b: {} }), required: ["a"] }, false],
    ["if/else", closed({ a: { type: "string", if: { const: "x" }, else: { minLength: 1 } } }), false],
    ["allOf", closed({ a: { allOf: [{ type: "string" }] } }), false],
    ["patternProperties", closed({ a: { type: "object", patternProperties: { "^x": {} } } }), false],
  ];
  for (const [name, schema, fits] of cases) assert.equal(fitsStrictMode(schema), fits, name);
});

test("fieldSchemas: each field carries the root's $defs and definitions, merged with its own", () => {
  const schema = {
    type: "object",
    $defs: { band: { type: "string", enum: ["low", "high"] } },
    definitions: { size: { type: "integer" } },
    properties: {
      band: { $ref: "#/$defs/band" },
      size: { $ref: "#/definitions/size" },
      pair: {
        type: "object",
        $defs: { own: { type: "boolean" } },
        properties: { band: { $ref: "#/$defs/band" }, flag: { $ref: "#/$defs/own" } },
      },
    },
  };
  const fields = fieldSchemas(schema);
  const check = (name: string, value: unknown) => validatorFor(fields[name])?.(value) ?? "no validator";
  assert.equal(check("band", "low"), true);
  assert.equal(check("band", "banana"), false);
  assert.equal(check("size", 3), true);
  assert.equal(check("size", "3"), false);
  assert.equal(check("pair", { band: "high", flag: true }), true);
  assert.equal(check("pair", { band: "banana", flag: true }), false);
  assert.equal(check("pair", { band: "high", flag: "yes" }), false);
});

test("patterns run on a linear-time engine: a nested quantifier answers at once, lookaround is refused at save", () => {
  const nested = validatorFor({ type: "string", pattern: "^(a+)+$" });
  assert.ok(nested);
  // With a backtracking engine this answer takes longer than the test run: 2^60 paths.
  assert.equal(nested(`${"a".repeat(60)}b`), false);
  assert.equal(nested("aaaa"), true);
  const zip = validatorFor({ type: "string", pattern: "^\\d{5}$" });
  assert.deepEqual([zip?.("12345"), zip?.("1234a")], [true, false]);
  assert.equal(validatorFor({ type: "string", pattern: "é" })?.("café"), true, "unanchored, Unicode");
  const refused = validateAnalysisSchema(
    { type: "object", properties: { twice: { type: "string", pattern: "(a)\\1" } } },
    "/AnalysisSchema",
  );
  assert.equal(refused.length, 1);
  assert.match(refused[0]!.Message, /no backreferences, no lookaround/);
});

test("patterns keep their JavaScript meaning on RE2: escapes, classes, whitespace, dot, property names", () => {
  const matches = (pattern: string, text: string) => {
    const v = validatorFor({ type: "string", pattern });
    assert.ok(v, `${pattern} compiles`);
    return v(text);
  };
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ["^[\\u0400-\\u04FF]+$", "привет", true],
    ["^[\\u0400-\\u04FF]+$", "hello", false],
    ["caf\\u00e9", "café", true],
    ["^\\u{1F600}$", "😀", true],
    ["^\\uD83D\\uDE00$", "😀", true],
    ["^[^]$", "\n", true],
    ["^[\\s\\S]{2}$", "a\n", true],
    ["^a\\cJb$", "a\nb", true],
    ["^\\s$", "\u00a0", true],
    ["^\\s$", "\v", true],
    ["^\\S+$", "a\u00a0b", false],
    ["^[\\s,]+$", " ,\u3000", true],
    ["^a.b$", "a\rb", false],
    ["^a.b$", "a-b", true],
    ["^\\p{Letter}+$", "Ωmega", true],
    ["^\\p{Script=Latin}+$", "abc", true],
    ["^\\p{sc=Greek}+$", "abc", false],
    ["^\\d{3}-\\d{4}$", "555-1234", true],
    ["^(?<area>\\d{3})$", "415", true],
    ["^[\\b]$", "\b", true],
    ["^\\p{Lowercase_Letter}+$", "abc", true],
  ];
  for (const [pattern, text, expected] of cases)
    assert.equal(matches(pattern, text), expected, `${pattern} on ${JSON.stringify(text)}`);
  const tooMany = validateAnalysisSchema(
    { type: "object", properties: { t: { type: "string", pattern: "^.{0,2000}$" } } },
    "/AnalysisSchema",
  );
  assert.match(tooMany[0]?.Message ?? "", /repeat counts up to 1000; for a longer text use maxLength/);
  // Refused rather than run with another meaning: RE2's \S in a class, a letter category RE2 lacks.
  for (const pattern of ["^[^\\S\\n]*$", "^\\p{Cased_Letter}+$"]) {
    const refused = validateAnalysisSchema(
      { type: "object", properties: { t: { type: "string", pattern } } },
      "/AnalysisSchema",
    );
    assert.equal(refused.length, 1, pattern);
  }
});

test("a stored pattern RE2 cannot run is not enforced, and the rest of the schema still is", () => {
  const v = validatorFor({
    type: "object",
    properties: { a: { type: "string", pattern: "(x)\\1" }, n: { type: "integer" } },
  });
  assert.ok(v, "the schema compiles");
  assert.equal(v({ a: "anything", n: 3 }), true);
  assert.equal(v({ a: "anything", n: "3" }), false);
});
