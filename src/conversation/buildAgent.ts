import type { Config } from "../config/index.ts";
import type { JobContext } from "../store/conversations.ts";
import type { ConversationAgent, ConversationState } from "./agent.ts";
import { FlowAgent } from "./flowAgent.ts";

export interface AgentContext {
  job: JobContext;
  render: (template: string) => string;
  now: () => Date;
  timeZone: string;
  state: ConversationState;
  config: Config;
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
      });
    case "llm":
      throw new Error("llm agents are wired in buildAgent once the LLM client exists");
  }
}
