import { type FS, Liquid, type Template } from "liquidjs";

/**
 * Templates read no file: Liquid's include, render and layout tags would otherwise read the
 * server's files (relative to its working directory) into what the agent says and the preview shows.
 */
const NO_FILES: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async () => {
    throw new Error("templates cannot include files");
  },
  readFileSync: () => {
    throw new Error("templates cannot include files");
  },
  resolve: (_dir, file) => file,
  sep: "/",
};

/**
 * Bounds on one render, so that no template (a loop over a huge range, a string doubled again and
 * again) can hold the process: a campaign's text takes well under a millisecond. The time bound is
 * wall-clock, so a call's render gets ten times the save-time check's: a loop over a job's Data
 * (up to 16 KiB), checked with no Data, may take tens of milliseconds on a loaded machine, and must
 * not then fall back to its plain words at random.
 */
const LIMITS = { parseLimit: 100_000, memoryLimit: 1_000_000 };
const CHECK_MS = 100;
const RENDER_MS = 1_000;

/**
 * Agent texts are Liquid templates over `Job` and `Campaign`. A missing variable renders empty and
 * never breaks a call: rendering is lenient, and a template that does not parse, uses an unknown
 * filter, includes a file or exceeds the bounds is refused when the campaign is saved
 * (checkTemplate); at render time, as a last resort, its plain words are said without its markup.
 */
const options = { ownPropertyOnly: true, fs: NO_FILES, root: [], relativeReference: false, ...LIMITS };
const engine = new Liquid({
  ...options,
  renderLimit: RENDER_MS,
  strictVariables: false,
  strictFilters: false,
});
/** The save-time check: an unknown filter is a mistake to point out, not to render as nothing. */
const strict = new Liquid({ ...options, renderLimit: CHECK_MS, strictVariables: false, strictFilters: true });
const cache = new Map<string, { t: Template[]; vars: string[] | null }>();

function parsed(source: string): { t: Template[]; vars: string[] | null } {
  let e = cache.get(source);
  if (!e) {
    e = { t: engine.parse(source), vars: null };
    if (cache.size > 10_000) cache.clear();
    cache.set(source, e);
  }
  return e;
}

/** A message saying why the template cannot be used, or null when it can. */
export function checkTemplate(source: string): string | null {
  try {
    const t = strict.parse(source);
    // A trial render over an empty job finds what parsing cannot: an include, a render too costly.
    strict.renderSync(t, templateScope({}, { Name: "" }));
    return null;
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0] ?? "";
    if (/Failed to lookup/.test(reason))
      return "includes a file (include, render or layout): templates cannot read files; write the text in place.";
    return `is not a valid template: ${reason}. Variables look like {{ Job.ContactName }}.`;
  }
}

/** A template's plain words, its Liquid markup left out: what is said when it cannot be rendered. */
const withoutMarkup = (source: string): string =>
  source
    .replace(/\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\}/g, "")
    .replace(/[ \t]{2,}/g, " ")
    .trim();

export interface Rendered {
  text: string;
  /** Variables the template uses that have no value in the scope, e.g. "Job.Data.invoice_id". */
  missing: string[];
}

export function renderTemplate(source: string, scope: Record<string, unknown>): Rendered {
  try {
    const e = parsed(source);
    e.vars ??= [...new Set(engine.fullVariablesSync(e.t))];
    const missing = e.vars.filter((v) => lookup(scope, v) === undefined);
    return { text: engine.renderSync(e.t, scope) as string, missing };
  } catch {
    return { text: withoutMarkup(source), missing: [] };
  }
}

function lookup(scope: unknown, path: string): unknown {
  let cur: unknown = scope;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === null ? undefined : cur;
}

/** The scope a template sees for one job of one campaign. */
export function templateScope(
  job: { ContactName?: string | null; PhoneNumber?: string | null; Metadata?: unknown; Data?: unknown },
  campaign: { Id?: string; Name: string; PhoneNumbers?: readonly string[]; Schedule?: { TimeZone: string } },
): Record<string, unknown> {
  return {
    Job: {
      ContactName: job.ContactName ?? null,
      PhoneNumber: job.PhoneNumber ?? null,
      Metadata: job.Metadata ?? {},
      Data: job.Data ?? {},
    },
    // Its numbers (the first is the caller ID, e.g. "call us back at ...") and its zone.
    Campaign: {
      Id: campaign.Id ?? null,
      Name: campaign.Name,
      PhoneNumbers: campaign.PhoneNumbers ?? [],
      TimeZone: campaign.Schedule?.TimeZone ?? null,
    },
  };
}
