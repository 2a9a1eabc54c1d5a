import { RE2JS } from "re2js";

/**
 * The regular-expression engine for users' JSON Schemas (`pattern`, `patternProperties` in an
 * AnalysisSchema): RE2, whose matching time is linear in the text. JavaScript's own engine
 * backtracks, so a pattern such as "^(a+)+$" against a contact's answer could hold the process,
 * and every call and request in it, for hours.
 *
 * JSON Schema patterns are written for JavaScript, so they are translated where RE2 spells or
 * means a thing otherwise (see toRe2). What RE2 cannot do at all (backreferences, lookaround,
 * repeat counts over 1000) is refused when a schema is saved.
 */
function compile(pattern: string, flags: string): { test(text: string): boolean; toString(): string } {
  // Ajv asks for "u" (Unicode), which RE2 always is; any other flag is not one a schema can set.
  const re = RE2JS.compile(toRe2(pattern), flags.includes("i") ? RE2JS.CASE_INSENSITIVE : 0);
  // Ajv keeps compiled patterns by their toString(): each must differ, as a RegExp's does.
  return { test: (text) => re.matcher(text).find(), toString: () => `/${pattern}/${flags}` };
}

/** As Ajv's `code.regExp` option; `code` names it in standalone code, which Cobbery never generates. */
export const safeRegExp = Object.assign(compile, { code: 'require("re2js")' });

/**
 * For schemas already stored: a pattern RE2 cannot run (saved before patterns ran on RE2) is not
 * enforced, rather than making the whole schema unusable (no Result checks, no LLM extraction).
 */
export const storedSafeRegExp = Object.assign(
  (pattern: string, flags: string) => {
    try {
      return compile(pattern, flags);
    } catch {
      return { test: () => true, toString: () => `/${pattern}/${flags} (not enforced)` };
    }
  },
  { code: 'require("re2js")' },
);

/** JavaScript's \s: RE2's covers ASCII only. */
const JS_SPACE =
  "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";
/** JavaScript's `.` (without the s flag): RE2's also matches \r, U+2028 and U+2029. */
const JS_DOT = "[^\\n\\r\\x{2028}\\x{2029}]";
const ANY = "[\\x{0}-\\x{10FFFF}]";

/** JavaScript's long Unicode property names, in RE2's short spelling. */
const CATEGORIES: Record<string, string> = {
  Letter: "L",
  Lowercase_Letter: "Ll",
  Uppercase_Letter: "Lu",
  Titlecase_Letter: "Lt",
  Modifier_Letter: "Lm",
  Other_Letter: "Lo",
  Mark: "M",
  Nonspacing_Mark: "Mn",
  Spacing_Mark: "Mc",
  Enclosing_Mark: "Me",
  Number: "N",
  Decimal_Number: "Nd",
  digit: "Nd",
  Letter_Number: "Nl",
  Other_Number: "No",
  Punctuation: "P",
  punct: "P",
  Connector_Punctuation: "Pc",
  Dash_Punctuation: "Pd",
  Open_Punctuation: "Ps",
  Close_Punctuation: "Pe",
  Initial_Punctuation: "Pi",
  Final_Punctuation: "Pf",
  Other_Punctuation: "Po",
  Symbol: "S",
  Math_Symbol: "Sm",
  Currency_Symbol: "Sc",
  Modifier_Symbol: "Sk",
  Other_Symbol: "So",
  Separator: "Z",
  Space_Separator: "Zs",
  Line_Separator: "Zl",
  Paragraph_Separator: "Zp",
  Other: "C",
  Control: "Cc",
  cntrl: "Cc",
  Format: "Cf",
  Private_Use: "Co",
  Unassigned: "Cn",
};

/** `\p{…}`'s name as RE2 takes it: "Letter" → "L", "Script=Latin" → "Latin". */
function propertyName(name: string): string {
  const [key, value] = name.includes("=") ? (name.split("=", 2) as [string, string]) : [null, name];
  if (key !== null && ["Script", "sc", "Script_Extensions", "scx"].includes(key)) return value;
  return CATEGORIES[value] ?? value;
}

/**
 * A JavaScript (u-mode) pattern in RE2's syntax with JavaScript's meaning: \uXXXX and \u{…}
 * escapes (surrogate pairs joined), \cX, [^] and [\s\S]-style "anything" classes, \s and \S with
 * JavaScript's whitespace, `.` without line terminators, and long Unicode property names.
 */
export function toRe2(p: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "\\") {
      const n = p[i + 1] ?? "";
      const unicode = /^u(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{4}))/.exec(p.slice(i + 1));
      if (unicode) {
        let code = Number.parseInt(unicode[1] ?? unicode[2] ?? "0", 16);
        let length = unicode[0].length;
        const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(p.slice(i + 1 + length));
        if (unicode[2] && code >= 0xd800 && code <= 0xdbff && low) {
          code = 0x10000 + ((code - 0xd800) << 10) + (Number.parseInt(low[1] as string, 16) - 0xdc00);
          length += low[0].length;
        }
        out += `\\x{${code.toString(16)}}`;
        i += length;
        continue;
      }
      if (n === "c" && /^[A-Za-z]$/.test(p[i + 2] ?? "")) {
        out += `\\x{${((p.charCodeAt(i + 2) % 32) as number).toString(16)}}`;
        i += 2;
        continue;
      }
      if (n === "S" && inClass) {
        // RE2's \S counts only ASCII spaces as space, and a class cannot subtract JavaScript's.
        throw new Error(
          "error parsing regexp: \\S inside a character class (write the characters wanted instead)",
        );
      }
      if (n === "b" && inClass) {
        out += "\\x{8}"; // a backspace, in a class, as in JavaScript
        i += 1;
        continue;
      }
      if (n === "s" || n === "S") {
        out += inClass ? JS_SPACE : n === "s" ? `[${JS_SPACE}]` : `[^${JS_SPACE}]`;
        i += 1;
        continue;
      }
      const property = /^([pP])\{([^}]*)\}/.exec(p.slice(i + 1));
      if (property) {
        out += `\\${property[1]}{${propertyName(property[2] as string)}}`;
        i += property[0].length;
        continue;
      }
      out += c + n;
      i += 1;
      continue;
    }
    if (!inClass && c === "[") {
      const anything = /^\[(?:\^|\\s\\S|\\S\\s|\\d\\D|\\D\\d|\\w\\W|\\W\\w)\]/.exec(p.slice(i));
      if (anything) {
        out += ANY;
        i += anything[0].length - 1;
        continue;
      }
      inClass = true;
      out += c;
      if (p[i + 1] === "^") {
        out += "^";
        i += 1;
      }
      continue;
    }
    if (inClass && c === "]") inClass = false;
    if (!inClass && c === ".") {
      out += JS_DOT;
      continue;
    }
    out += c;
  }
  return out;
}
