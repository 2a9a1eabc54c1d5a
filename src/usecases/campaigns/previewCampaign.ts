import { flowNode } from "../../domain/flow.ts";
import { isPlainObject } from "../../domain/limits.ts";
import { validationFailed } from "../../errors/index.ts";
import { renderTemplate, templateScope } from "../../templates/index.ts";
import type { Ctx } from "../context.ts";
import { getCampaign } from "./readCampaigns.ts";

export interface Preview {
  /** What the agent says first on an outbound call (FirstMessage, then the flow's first line). */
  FirstTurn: string;
  /** The rendered system prompt of an llm agent, else null. */
  SystemPrompt: string | null;
  MissingVariables: string[];
}

export async function previewCampaign({
  ctx,
  id,
  input,
}: {
  ctx: Ctx;
  id: string;
  input: unknown;
}): Promise<Preview> {
  const campaign = await getCampaign({ ctx, id });
  const job = isPlainObject(input) ? input.Job : undefined;
  if (job !== undefined && !isPlainObject(job)) {
    throw validationFailed([
      { Path: "/Job", Message: 'must be a job object, e.g. {"ContactName": "Jane", "Metadata": {}}.' },
    ]);
  }
  const scope = templateScope(job ?? {}, campaign);
  const agent = campaign.Agent;
  const parts: string[] = [];
  if (agent.FirstMessage) parts.push(agent.FirstMessage);
  if (agent.Type === "flow" && agent.Flow) {
    const start = flowNode(agent.Flow, agent.Flow.Start);
    if (start) parts.push(start.Say);
  }
  const missing = new Set<string>();
  const render = (src: string): string => {
    const r = renderTemplate(src, scope);
    for (const m of r.missing) missing.add(m);
    return r.text;
  };
  const firstTurn = parts
    .map(render)
    .filter((t) => t.trim() !== "")
    .join(" ");
  const systemPrompt = agent.Type === "llm" && agent.Prompt ? render(agent.Prompt) : null;
  return { FirstTurn: firstTurn, SystemPrompt: systemPrompt, MissingVariables: [...missing].sort() };
}
