import { RE2JS } from "re2js";

/**
 * The regular-expression engine for users' JSON Schemas (`pattern`, `patternProperties` in an
 * AnalysisSchema): RE2, whose matching time is linear in the text. JavaScript's own engine
 * backtracks, so a pattern such as "^(a+)+$" against a contact's answer could hold the process,
 * and every call and request in it, for hours. RE2 has no backreferences or lookaround: a schema
 * using them is refused when it is saved.
 */
function compile(pattern: string, flags: string): { test(text: string): boolean; toString(): string } {
  // Ajv asks for "u" (Unicode), which RE2 always is; any other flag is not one a schema can set.
  const re = RE2JS.compile(pattern, flags.includes("i") ? RE2JS.CASE_INSENSITIVE : 0);
  // Ajv keeps compiled patterns by their toString(): each must differ, as a RegExp's does.
  return { test: (text) => re.matcher(text).find(), toString: () => `/${pattern}/${flags}` };
}

/** As Ajv's `code.regExp` option; `code` names it in standalone code, which Cobbery never generates. */
export const safeRegExp = Object.assign(compile, { code: 'require("re2js")' });
