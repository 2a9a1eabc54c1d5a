import { laterOf } from "../schedule/index.ts";
import type { TranscriptEntry } from "../store/calls.ts";
import type { CallMedia } from "../telephony/port.ts";
import type { AgentStep, ConversationAgent, HeardTurn } from "./agent.ts";

export type EndedBy = "agent" | "contact" | "max_duration" | "canceled";

export interface ActorResult {
  endedBy: EndedBy;
  endedAt: Date;
  transcript: TranscriptEntry[];
}

export interface ActorOptions {
  agent: ConversationAgent;
  media: CallMedia;
  direction: "outbound" | "inbound";
  answeredAt: Date;
  maxCallSeconds: number;
  /** Aborted when the call must end from outside (cancel, opt-out, PII deletion, shutdown). */
  signal: AbortSignal;
  /** Each transcript entry as it is said, so that a crash mid-call keeps what was said. */
  onEntry: (e: TranscriptEntry) => void;
}

/**
 * One actor per call: takes turns between the contact and the agent over a text medium, keeps the
 * transcript, and ends the call on the agent's word, the contact's hang-up, the maximum duration or
 * an outside signal. Audio (speech-to-text, text-to-speech, barge-in) stays behind the medium.
 */
export async function runConversation(o: ActorOptions): Promise<ActorResult> {
  const transcript: TranscriptEntry[] = [];
  const limitMs = o.answeredAt.getTime() + o.maxCallSeconds * 1000;
  let last = o.answeredAt;
  const record = (Role: TranscriptEntry["Role"], Text: string, at: Date) => {
    const e = { Role, Text, At: at.toISOString() };
    transcript.push(e);
    o.onEntry(e);
  };
  const end = async (endedBy: EndedBy): Promise<ActorResult> => {
    const at = await o.media.hangup();
    const endedAt = laterOf(at, last);
    // The call is cut at the limit: the turn that crossed it is not heard out (nor billed).
    if (endedBy === "max_duration" && endedAt.getTime() > limitMs) {
      const heard = transcript.filter((e) => Date.parse(e.At) <= limitMs);
      return { endedBy, endedAt: new Date(limitMs), transcript: heard };
    }
    return { endedBy, endedAt, transcript };
  };
  const overTime = () => last.getTime() >= limitMs;
  // A real-time limit (real carriers) aborts with the reason "max_duration"; anything else is a cancel.
  const aborted = (): EndedBy => (o.signal.reason === "max_duration" ? "max_duration" : "canceled");

  // The end of the call cuts the agent's thinking (an LLM request): the call then ends as the
  // abort says, with nothing more said, instead of failing.
  const think = async (f: () => Promise<AgentStep>): Promise<AgentStep> => {
    try {
      return await f();
    } catch (e) {
      if (o.signal.aborted) return { say: [], next: "end" };
      throw e;
    }
  };
  let step: AgentStep;
  if (o.direction === "inbound") {
    const first = await o.media.listen();
    last = first.at;
    if (first.kind === "hangup") return { endedBy: "contact", endedAt: last, transcript };
    if (first.kind === "speech") record("contact", first.text, first.at);
    step = await think(() => o.agent.openInbound(heard(first)));
  } else {
    step = await think(() => o.agent.open());
  }
  for (;;) {
    if (o.signal.aborted) return end(aborted());
    for (const line of step.say) {
      if (o.signal.aborted) return end(aborted());
      last = await o.media.say(line);
      record("agent", line, last);
      if (overTime()) return end("max_duration");
    }
    if (step.next === "end") return end("agent");
    if (o.signal.aborted) return end(aborted());
    const turn = await o.media.listen();
    last = turn.at;
    if (o.signal.aborted) return end(aborted());
    if (turn.kind === "hangup") return { endedBy: "contact", endedAt: last, transcript };
    if (turn.kind === "speech") record("contact", turn.text, turn.at);
    if (overTime()) return end("max_duration");
    step = await think(() => o.agent.hear(heard(turn)));
  }
}

const heard = (t: { kind: "speech"; text: string } | { kind: "silence" }): HeardTurn =>
  t.kind === "speech" ? { kind: "speech", text: t.text } : { kind: "silence" };
