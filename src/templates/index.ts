import { Liquid, type Template } from "liquidjs";

/**
 * Agent texts are Liquid templates over `Job` and `Campaign`. A missing variable renders empty and
 * never breaks a call: rendering is lenient, and a template that does not parse is caught when the
 * campaign is saved (checkTemplate), with the raw text as a last resort at render time.
 */
const engine = new Liquid({ strictVariables: false, strictFilters: false, ownPropertyOnly: true });
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
const parse = (source: string): Template[] => parsed(source).t;

/** A message saying why the template does not parse, or null when it does. */
export function checkTemplate(source: string): string | null {
  try {
    parse(source);
    return null;
  } catch (e) {
    return `is not a valid template: ${(e as Error).message.split("\n")[0]}. Variables look like {{ Job.ContactName }}.`;
  }
}

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
    return { text: source, missing: [] };
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
  campaign: { Id?: string; Name: string },
): Record<string, unknown> {
  return {
    Job: {
      ContactName: job.ContactName ?? null,
      PhoneNumber: job.PhoneNumber ?? null,
      Metadata: job.Metadata ?? {},
      Data: job.Data ?? {},
    },
    Campaign: { Id: campaign.Id ?? null, Name: campaign.Name },
  };
}
