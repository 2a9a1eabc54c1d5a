import type { Config } from "../../config/index.ts";
import type { LlmSettings } from "../../domain/agent.ts";

/** What the configured LLM allows campaigns: an endpoint, and a model for those that name none. */
export const llmSettings = (config: Config): LlmSettings => ({
  llmConfigured: config.llm !== null,
  defaultModel: (config.llm?.model ?? null) !== null,
});
