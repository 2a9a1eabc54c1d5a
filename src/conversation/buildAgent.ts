import type { Config } from "../config/index.ts";
import { fieldSchemas } from "../domain/analysisSchema.ts";
import type { LlmClient } from "../llm/index.ts";
import { LlmError } from "../llm/index.ts";
import type { JobContext } from "../store/conversations.ts";
import type { ConversationAgent, ConversationState } from "./agent.ts";
import { FlowAgent } from "./flowAgent.ts";
import { LlmAgent } from "./llmAgent.ts";

export interface AgentContext {
  job: JobContext;
  render: (template: string) => string;
  now: () => Date;
  timeZone: string;
  state: ConversationState;
  config: Config;
  llm: LlmClient | null;
  /** Earlier calls of the job, as text, for an llm agent. */
  history: string | null;
  /** The call's end (a cancel, an opt-out, MaxCallSeconds): an LLM request under way is cut. */
  signal?: AbortSignal;
}

/** The model the campaign names, else the configured default; null when neither is set. */
export const campaignModel = (job: JobContext, config: Config): string | null =>
  job.campaign.Agent.Model ?? config.llm?.model ?? null;

/** The model an llm agent or the analysis uses, or a configuration error naming what to set. */
export function modelFor(job: JobContext, config: Config): string {
  const model = campaignModel(job, config);
  if (!config.llm) {
    throw new LlmError(
      "configuration",
      "No LLM is configured: set COBBERY_LLM_BASE_URL (and COBBERY_LLM_API_KEY, COBBERY_LLM_MODEL).",
      null,
    );
  }
  if (!model)
    throw new LlmError(
      "configuration",
      "No model is set: set COBBERY_LLM_MODEL or the campaign's Agent.Model.",
      null,
    );
  return model;
}

/** The agent the campaign asks for. */
export function buildAgent(c: AgentContext): ConversationAgent {
  const agent = c.job.campaign.Agent;
  switch (agent.Type) {
    case "flow":
      if (!agent.Flow) throw new Error("flow agent without a Flow");
      return new FlowAgent({
        flow: agent.Flow,
        firstMessage: agent.FirstMessage,
        render: c.render,
        now: c.now,
        timeZone: c.timeZone,
        state: c.state,
        ...(c.signal ? { signal: c.signal } : {}),
      });
    case "llm": {
      const model = modelFor(c.job, c.config);
      if (!c.llm)
        throw new LlmError("configuration", "No LLM is configured: set COBBERY_LLM_BASE_URL.", null);
      return new LlmAgent({
        llm: c.llm,
        model,
        systemPrompt: c.render(agent.Prompt ?? ""),
        firstMessage: agent.FirstMessage ? c.render(agent.FirstMessage) : null,
        fields: fieldSchemas(c.job.campaign.AnalysisSchema),
        history: c.history,
        now: c.now,
        timeZone: c.timeZone,
        state: c.state,
        ...(c.signal ? { signal: c.signal } : {}),
      });
    }
  }
}
