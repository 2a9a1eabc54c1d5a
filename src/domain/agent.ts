import type { ErrorDetail } from "../errors/index.ts";
import { checkTemplate } from "../templates/index.ts";
import type { Agent } from "./campaign.ts";
import { validateFlow } from "./flow.ts";
import { checkText, checkUnknownFields, LIMITS } from "./limits.ts";

const AGENT_FIELDS = ["Type", "Prompt", "FirstMessage", "VoicemailMessage", "Model", "Flow"] as const;

/** What the deployment's LLM settings allow: an endpoint (COBBERY_LLM_BASE_URL), and a default model. */
export interface LlmSettings {
  llmConfigured: boolean;
  defaultModel: boolean;
}

export function validateAgent(a: Agent, path: string, llm: LlmSettings): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  checkUnknownFields(a as unknown as Record<string, unknown>, AGENT_FIELDS, path, out);
  checkText(a.FirstMessage, `${path}/FirstMessage`, out, { nullable: true, max: 4000 });
  checkText(a.VoicemailMessage, `${path}/VoicemailMessage`, out, { nullable: true, max: 4000 });
  checkText(a.Model, `${path}/Model`, out, { nullable: true, notBlank: true });
  checkText(a.Prompt, `${path}/Prompt`, out, { nullable: true, max: LIMITS.longText });
  for (const f of ["Prompt", "FirstMessage", "VoicemailMessage"] as const) {
    const v = a[f];
    const bad = typeof v === "string" ? checkTemplate(v) : null;
    if (bad) out.push({ Path: `${path}/${f}`, Message: bad });
  }
  switch (a.Type) {
    case "flow":
      out.push(...validateFlow(a.Flow, `${path}/Flow`));
      break;
    case "llm":
      if (typeof a.Prompt !== "string" || a.Prompt.trim() === "") {
        out.push({
          Path: `${path}/Prompt`,
          Message: "is required for an llm agent: the system prompt (a template).",
        });
      }
      if (!llm.llmConfigured) {
        out.push({
          Path: `${path}/Type`,
          Message:
            'is "llm" but no LLM is configured: set COBBERY_LLM_BASE_URL (and COBBERY_LLM_API_KEY, COBBERY_LLM_MODEL), or use a "flow" agent.',
        });
      } else if (!llm.defaultModel && a.Model === null) {
        out.push({
          Path: `${path}/Model`,
          Message:
            "is required: no default model is configured (set COBBERY_LLM_MODEL, or give the model here).",
        });
      }
      break;
    default:
      out.push({ Path: `${path}/Type`, Message: 'must be "flow" or "llm".' });
  }
  return out;
}
