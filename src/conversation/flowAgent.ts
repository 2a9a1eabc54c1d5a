import { type Flow, type FlowNode, flowNode } from "../domain/flow.ts";
import type { AgentStep, ConversationAgent, ConversationState, HeardTurn } from "./agent.ts";
import { closingLine, REASK_PREFIX, UNFINISHED_LINE } from "./closingLines.ts";
import {
  parseChoice,
  parseDateTime,
  parseNumber,
  parseText,
  parseYesNo,
  recognizeIntent,
} from "./understanding/index.ts";

export interface FlowAgentOptions {
  flow: Flow;
  firstMessage: string | null;
  /** Renders a template for this job (missing variables render empty). */
  render: (template: string) => string;
  /** The contact's clock: natural-language times are relative to it. */
  now: () => Date;
  timeZone: string;
  state: ConversationState;
}

/** How often a question is asked again when the answer does not parse. */
const MAX_REASKS = 2;

type Parsed = { ok: true; value: unknown; branch: string } | { ok: false };

/**
 * A flow agent: walks the campaign's graph of nodes, asks each question, parses and saves the
 * answers, and recognises the global intents at every turn. A new call resumes at the first
 * question not yet answered.
 */
export class FlowAgent implements ConversationAgent {
  private node: string | null = null;
  private reasks = 0;

  constructor(private readonly o: FlowAgentOptions) {}

  get state(): ConversationState {
    return this.o.state;
  }

  /** The branch a question took on an earlier call (own keys only, as for nodes). */
  private answeredBranch(id: string): string | undefined {
    const answered = this.state.answeredNodes;
    return Object.hasOwn(answered, id) ? answered[id] : undefined;
  }

  async open(): Promise<AgentStep> {
    return this.begin(this.o.flow.Start);
  }

  async openInbound(first: HeardTurn): Promise<AgentStep> {
    const ended = this.checkIntent(first);
    if (ended) return ended;
    return this.begin(this.o.flow.InboundStart ?? this.o.flow.Start);
  }

  async hear(turn: HeardTurn): Promise<AgentStep> {
    const ended = this.checkIntent(turn);
    if (ended) return ended;
    const id = this.node;
    const node = id === null ? undefined : flowNode(this.o.flow, id);
    if (id === null || !node) return { say: [], next: "end" };
    const parsed = this.parse(node, turn);
    if (!parsed.ok) {
      if (this.reasks < MAX_REASKS) {
        this.reasks++;
        return { say: [`${REASK_PREFIX} ${this.o.render(node.Say)}`], next: "listen" };
      }
      if (node.Save) this.state.answers[node.Save] = null;
      const fallback = typeof node.Next === "object" ? node.Next.default : undefined;
      if (fallback === undefined) return { say: [UNFINISHED_LINE], next: "end" };
      this.state.answeredNodes[id] = "default";
      return this.walk(fallback, []);
    }
    if (node.Save) this.state.answers[node.Save] = parsed.value;
    if (node.Action === "schedule_call" && parsed.value instanceof Date)
      this.state.scheduleCallAt = parsed.value;
    this.state.answeredNodes[id] = parsed.branch;
    const next = nextOf(node, parsed.branch);
    if (next === undefined) return { say: [UNFINISHED_LINE], next: "end" };
    return this.walk(next, []);
  }

  private checkIntent(turn: HeardTurn): AgentStep | null {
    if (turn.kind !== "speech") return null;
    const current = this.node === null ? undefined : flowNode(this.o.flow, this.node);
    const intent = recognizeIntent(turn.text, { now: this.o.now(), timeZone: this.o.timeZone });
    if (!intent) return null;
    // On a question about when to call back (a schedule_call node), a call-back request is the
    // answer, not an interruption; on any other question it is a request like any other.
    if (intent.kind === "callback" && intent.at !== null && current?.Action === "schedule_call") return null;
    this.state.intent = intent;
    return { say: [closingLine(intent)], next: "end" };
  }

  /** The opening: FirstMessage, then the first question not yet answered. */
  private begin(start: string): AgentStep {
    const said = this.o.firstMessage ? [this.o.render(this.o.firstMessage)] : [];
    const { id, opening } = this.resumePoint(start);
    return this.walk(id, [...said, ...opening]);
  }

  /**
   * From `start`, follows the answers given on earlier calls to the first unanswered question,
   * without asking the answered ones again. The lines of say-only nodes before the first question
   * (a greeting) are said again. A call-back the contact asked for (a `schedule_call` node) is this
   * call: when a question's answer branched there ("no" → "later"), that question is asked again and
   * both answers are forgotten; on a straight path the call goes on past it.
   */
  private resumePoint(start: string): { id: string; opening: string[] } {
    const answered = this.state.answeredNodes;
    const opening: string[] = [];
    let lastQuestion: string | null = null;
    let id = start;
    const seen = new Set<string>();
    for (;;) {
      const node = flowNode(this.o.flow, id);
      // Back at a node already passed (a loop): walking from it says its lines again.
      if (seen.has(id)) return { id, opening: [] };
      if (!node || node.End) return { id, opening };
      seen.add(id);
      let next: string | undefined;
      if (node.Expect === undefined) {
        next = typeof node.Next === "string" ? node.Next : node.Next?.default;
        if (next === undefined) return { id, opening };
        if (lastQuestion === null) {
          const line = this.o.render(node.Say);
          if (line.trim() !== "") opening.push(line);
        }
      } else {
        const branch = this.answeredBranch(id);
        if (branch === undefined) return { id, opening };
        if (node.Action === "schedule_call" && lastQuestion !== null && this.branchedTo(lastQuestion, id)) {
          delete answered[id];
          delete answered[lastQuestion];
          return { id: lastQuestion, opening };
        }
        lastQuestion = id;
        next = nextOf(node, branch);
        if (next === undefined) return { id, opening };
      }
      id = next;
    }
  }

  /** Whether question `from` chose `to` among other nodes by its answer ("no" → "later"). */
  private branchedTo(from: string, to: string): boolean {
    const node = flowNode(this.o.flow, from);
    const branch = this.answeredBranch(from);
    if (!node || branch === undefined || typeof node.Next !== "object") return false;
    return nextOf(node, branch) === to && Object.values(node.Next).some((n) => n !== to);
  }

  /** Says nodes until one waits for an answer or ends the call. */
  private walk(start: string, said: string[]): AgentStep {
    let id: string | undefined = start;
    const seen = new Set<string>();
    while (id !== undefined && !seen.has(id)) {
      seen.add(id);
      const node: FlowNode | undefined = flowNode(this.o.flow, id);
      if (!node) break;
      const line = this.o.render(node.Say);
      if (line.trim() !== "") said.push(line);
      if (node.End) {
        this.state.finished = true;
        this.node = null;
        return { say: said, next: "end" };
      }
      if (node.Expect !== undefined) {
        this.node = id;
        this.reasks = 0;
        return { say: said, next: "listen" };
      }
      id = typeof node.Next === "string" ? node.Next : node.Next?.default;
    }
    this.node = null;
    return { say: said, next: "end" };
  }

  private parse(node: FlowNode, turn: HeardTurn): Parsed {
    if (turn.kind !== "speech") return { ok: false };
    const text = turn.text;
    const ok = (value: unknown, branch: string): Parsed =>
      value === null ? { ok: false } : { ok: true, value, branch };
    switch (node.Expect) {
      case "yes_no": {
        const v = parseYesNo(text);
        return ok(v === null ? null : v === "yes", v ?? "");
      }
      case "number": {
        const v = parseNumber(text);
        return ok(v, String(v));
      }
      case "choice": {
        const v = parseChoice(text, node.Choices ?? []);
        return ok(v, v ?? "");
      }
      case "datetime": {
        // Only a call-back's time is moved to come; any other date question keeps a past date.
        const forward = node.Action === "schedule_call";
        const v = parseDateTime(text, { now: this.o.now(), timeZone: this.o.timeZone, forward });
        return ok(v, "default");
      }
      case "text":
      case undefined: {
        const v = parseText(text);
        return ok(v, "default");
      }
    }
  }
}

/** The node after an answer: a fixed Next, the branch of the answer, or the map's default. */
function nextOf(node: FlowNode, branch: string): string | undefined {
  if (node.Next === undefined) return undefined;
  if (typeof node.Next === "string") return node.Next;
  // A choice mapped in another letter case (a flow saved before such maps were refused) still takes its branch.
  const key = Object.hasOwn(node.Next, branch)
    ? branch
    : Object.keys(node.Next).find((k) => k.toLowerCase() === branch.toLowerCase());
  return (key === undefined ? undefined : node.Next[key]) ?? node.Next.default;
}
