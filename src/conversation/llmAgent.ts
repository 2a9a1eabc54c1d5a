import type { ChatMessage, LlmClient, ToolSpec } from "../llm/index.ts";
import { localIsoString, localParts } from "../schedule/index.ts";
import type { AgentStep, ConversationAgent, ConversationState, HeardTurn } from "./agent.ts";
import { closingLine } from "./closingLines.ts";
import { validatorFor } from "./jsonSchema.ts";
import { llmTools } from "./llmTools.ts";
import { asksNoMoreCalls, type Intent, parseDateTime } from "./understanding/index.ts";

export interface LlmAgentOptions {
  llm: LlmClient;
  model: string;
  /** The rendered system prompt. */
  systemPrompt: string;
  /** The rendered FirstMessage, said without asking the model. */
  firstMessage: string | null;
  /** The AnalysisSchema's properties, by name: the answers to collect, each fitting its schema. */
  fields: Record<string, unknown>;
  /** What earlier calls of this job said and collected, so the agent picks up where it left off. */
  history: string | null;
  now: () => Date;
  timeZone: string;
  state: ConversationState;
  /** Aborts a request under way when the call ends (a cancel, an opt-out, MaxCallSeconds). */
  signal?: AbortSignal;
}

const WEEKDAY_NAMES = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
} as const;
const weekdayName = (zone: string, at: Date) => WEEKDAY_NAMES[localParts(zone, at).weekday];

/** Tool rounds the model may take within one turn before it must speak. */
const MAX_TOOL_ROUNDS = 6;

/**
 * An llm agent: the conversation so far goes to an OpenAI-compatible chat completion with the
 * built-in tools; tool results go back as tool messages until the model speaks or ends the call.
 */
export class LlmAgent implements ConversationAgent {
  private readonly messages: ChatMessage[];
  private readonly tools: ToolSpec[];
  private readonly fieldNames: string[];

  constructor(private readonly o: LlmAgentOptions) {
    this.fieldNames = Object.keys(o.fields);
    this.tools = llmTools(this.fieldNames);
    const now = o.now();
    const context = [
      "Call context from Cobbery.",
      this.fieldNames.length
        ? `\nCollect these answers with save_answer: ${this.fieldNames.join(", ")}.`
        : "",
      o.history ? `\nEarlier calls with this contact:\n${o.history}` : "",
      // The wall-clock time with its offset: the model reads the contact's hour, and a time it
      // writes back in that form is one instant.
      `\nThe contact's local time is ${localIsoString(o.timeZone, now)}, a ${weekdayName(o.timeZone, now)}` +
        ` (${o.timeZone}). Give schedule_call times in the contact's local time.`,
    ].join("");
    // The rendered Prompt is the system message; what Cobbery knows of the call follows it.
    this.messages = [
      { role: "system", content: o.systemPrompt },
      { role: "system", content: context },
    ];
  }

  get state(): ConversationState {
    return this.o.state;
  }

  async open(): Promise<AgentStep> {
    if (this.o.firstMessage) {
      this.messages.push({ role: "assistant", content: this.o.firstMessage });
      return { say: [this.o.firstMessage], next: "listen" };
    }
    return this.think();
  }

  /** The contact's first words go to the model like any later turn. */
  async openInbound(first: HeardTurn): Promise<AgentStep> {
    return this.hear(first);
  }

  async hear(turn: HeardTurn): Promise<AgentStep> {
    this.messages.push({
      role: "user",
      content: turn.kind === "speech" ? turn.text : "(the contact says nothing)",
    });
    const optOut: Intent = { kind: "opt_out" };
    const noMoreCalls = turn.kind === "speech" && asksNoMoreCalls(turn.text);
    let step: AgentStep;
    try {
      step = await this.think();
    } catch (e) {
      // The model failed on this turn: a clear request for no more calls still stands, and the
      // call's close reads it from the state.
      if (noMoreCalls) this.state.intent = optOut;
      throw e;
    }
    // The model decides the call, but a clear request for no more calls that it let pass (it went
    // on talking, with no ending of its own) is not left to it: the contact is opted out. An
    // ending the model chose (a call-back, an end_call, its own opt-out) stands.
    if (noMoreCalls && step.next === "listen") {
      this.state.intent = optOut;
      return { say: [closingLine(optOut)], next: "end" };
    }
    return step;
  }

  private async think(): Promise<AgentStep> {
    const said: string[] = [];
    for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
      const r = await this.o.llm.chat({
        model: this.o.model,
        messages: this.messages,
        tools: this.tools,
        stream: true,
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
      this.messages.push({
        role: "assistant",
        content: r.content,
        ...(r.toolCalls.length ? { tool_calls: r.toolCalls } : {}),
      });
      if (r.content?.trim()) said.push(r.content.trim());
      if (r.toolCalls.length === 0) return { say: said, next: "listen" };
      let end: Intent | "finished" | null = null;
      for (const call of r.toolCalls) {
        const outcome = this.apply(call.function.name, call.function.arguments);
        // Several endings in one answer: the strongest wins (an opt-out over everything, any
        // intent over end_call), as the flow agent ranks intents.
        if (outcome.end && rankOf(outcome.end) > (end === null ? -1 : rankOf(end))) end = outcome.end;
        this.messages.push({ role: "tool", tool_call_id: call.id, content: outcome.reply });
      }
      if (end) {
        if (end === "finished") this.state.finished = true;
        else this.state.intent = end;
        if (said.length === 0) said.push(end === "finished" ? "Thank you. Goodbye." : closingLine(end));
        return { say: said, next: "end" };
      }
    }
    return { say: said, next: "listen" };
  }

  /** One tool call's effect, and the tool message that goes back to the model. */
  private apply(name: string, rawArgs: string): { reply: string; end?: Intent | "finished" } {
    let args: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(rawArgs || "{}");
      if (parsed && typeof parsed === "object") args = parsed;
    } catch {
      return { reply: "error: the arguments were not valid JSON" };
    }
    switch (name) {
      case "end_call":
        return { reply: "ok: ending the call", end: "finished" };
      case "opt_out":
        return { reply: "ok", end: { kind: "opt_out" } };
      case "wrong_contact":
        return { reply: "ok", end: { kind: "wrong_contact" } };
      case "contact_refused":
        return { reply: "ok", end: { kind: "refused" } };
      case "schedule_call": {
        const text = typeof args.At === "string" ? args.At : "";
        // ISO 8601 with an offset is that instant; without one (or in words) it is the contact's
        // wall-clock time, never the server's.
        const at = parseDateTime(text, { now: this.o.now(), timeZone: this.o.timeZone });
        return {
          reply: at ? `ok: call scheduled at ${at.toISOString()}` : "ok: call back later",
          end: { kind: "callback", at },
        };
      }
      case "save_answer": {
        const field = typeof args.Field === "string" ? args.Field : "";
        if (!this.fieldNames.includes(field))
          return { reply: `error: Field must be one of ${this.fieldNames.join(", ")}` };
        const value = args.Value ?? null;
        // An answer that does not fit its field would be dropped from Result later: the model is
        // told now, while it can still ask the contact again.
        const fits = value === null || (validatorFor(this.o.fields[field])?.(value) ?? true);
        if (!fits)
          return {
            reply: `error: this Value does not fit ${field}, whose JSON schema is ${JSON.stringify(this.o.fields[field])}; nothing was saved`,
          };
        this.state.answers[field] = value;
        return { reply: "ok: saved" };
      }
      default:
        return { reply: `error: unknown tool ${name}` };
    }
  }
}

/** How strongly an ending binds: opt_out, wrong_contact, refused, callback, then a plain end_call. */
function rankOf(end: Intent | "finished"): number {
  if (end === "finished") return 0;
  return { opt_out: 4, wrong_contact: 3, refused: 2, callback: 1 }[end.kind];
}
