// The agents on their own, without a call: how several endings in one LLM answer rank, and where a
// flow resumes on a later call.
import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyState } from "../../src/conversation/agent.ts";
import { FlowAgent } from "../../src/conversation/flowAgent.ts";
import { LlmAgent } from "../../src/conversation/llmAgent.ts";
import type { Flow } from "../../src/domain/flow.ts";
import type { LlmClient } from "../../src/llm/index.ts";

const NOW = () => new Date("2026-03-10T15:00:00Z");

/** An LLM that answers every request with these tool calls. */
const toolsAnswer = (names: string[]): LlmClient =>
  ({
    chat: async () => ({
      content: null,
      finishReason: "tool_calls",
      toolCalls: names.map((name, i) => ({
        id: `call_${i}`,
        type: "function",
        function: { name, arguments: name === "schedule_call" ? '{"At": "tomorrow at 5pm"}' : "{}" },
      })),
    }),
  }) as unknown as LlmClient;

/** An LLM agent on a fresh state, answered by `llm`. */
function llmAgent(llm: LlmClient) {
  const state = emptyState();
  const agent = new LlmAgent({
    llm,
    model: "m",
    systemPrompt: "p",
    firstMessage: null,
    fields: {},
    history: null,
    now: NOW,
    timeZone: "UTC",
    state,
  });
  return { agent, state };
}

test("several endings in one LLM answer: the strongest wins, whatever their order", async () => {
  const cases: Array<[string[], string]> = [
    [["opt_out", "end_call"], "opt_out"],
    [["end_call", "opt_out"], "opt_out"],
    [["schedule_call", "opt_out"], "opt_out"],
    [["contact_refused", "opt_out"], "opt_out"],
    [["schedule_call", "contact_refused"], "refused"],
    [["end_call", "schedule_call"], "callback"],
  ];
  for (const [names, expected] of cases) {
    const { agent, state } = llmAgent(toolsAnswer(names));
    await agent.hear({ kind: "speech", text: "whatever" });
    assert.equal(state.intent?.kind, expected, names.join(" + "));
  }
});

/** A flow agent on `state`, its lines said as written. */
const flowAgent = (flow: Flow, state = emptyState()) =>
  new FlowAgent({ flow, firstMessage: null, render: (t) => t, now: NOW, timeZone: "UTC", state });

/** What a flow agent says first on a call, given the answers of earlier calls. */
async function opening(flow: Flow, answeredNodes: Record<string, string>) {
  const state = emptyState({ answers: {}, answeredNodes });
  return { step: await flowAgent(flow, state).open(), state };
}

test("a schedule_call on a straight path is passed on the call-back call; one a question branched to is asked again", async () => {
  const straight: Flow = {
    Start: "q1",
    Nodes: {
      q1: { Say: "Happy with us?", Expect: "yes_no", Next: "when" },
      when: {
        Say: "When may our adviser follow up?",
        Expect: "datetime",
        Action: "schedule_call",
        Next: "bye",
      },
      bye: { Say: "Thanks, bye.", End: true },
    },
  };
  const passed = await opening(straight, { q1: "yes", when: "default" });
  assert.deepEqual(passed.step, { say: ["Thanks, bye."], next: "end" });

  const branched: Flow = {
    Start: "intro",
    Nodes: {
      intro: { Say: "Two minutes?", Expect: "yes_no", Next: { yes: "size", no: "later" } },
      size: { Say: "How many?", Expect: "number", Next: "bye" },
      later: { Say: "When should we call back?", Expect: "datetime", Action: "schedule_call", Next: "bye" },
      bye: { Say: "Bye.", End: true },
    },
  };
  const again = await opening(branched, { intro: "no", later: "default" });
  assert.deepEqual(again.step, { say: ["Two minutes?"], next: "listen" });
  assert.deepEqual(again.state.answeredNodes, {});

  // The first question itself: no question branched to it, so the call-back call goes on past it.
  const first: Flow = {
    Start: "when",
    Nodes: {
      when: { Say: "When suits you?", Expect: "datetime", Action: "schedule_call", Next: "q" },
      q: { Say: "Do you rent?", Expect: "yes_no", Next: "bye" },
      bye: { Say: "Bye.", End: true },
    },
  };
  const past = await opening(first, { when: "default" });
  assert.deepEqual(past.step, { say: ["Do you rent?"], next: "listen" });
});

test("a call-back request with a time is the answer on a schedule_call node, and a call-back on any other datetime node", async () => {
  const flow = (action: boolean): Flow => ({
    Start: "moved",
    Nodes: {
      moved: {
        Say: action ? "When should we call back?" : "When did you move in?",
        Expect: "datetime",
        Save: "at",
        ...(action ? { Action: "schedule_call" as const } : {}),
        Next: "pets",
      },
      pets: { Say: "Any pets?", Expect: "yes_no", Next: "bye" },
      bye: { Say: "Bye.", End: true },
    },
  });
  const heard = { kind: "speech" as const, text: "call me back tomorrow at 5pm" };
  const asked = flowAgent(flow(false));
  await asked.open();
  const interrupted = await asked.hear(heard);
  assert.equal(interrupted.next, "end");
  assert.equal(asked.state.intent?.kind, "callback");
  assert.equal(asked.state.answers.at, undefined, "not saved as the move-in date");

  const scheduling = flowAgent(flow(true));
  await scheduling.open();
  assert.deepEqual(await scheduling.hear(heard), { say: ["Any pets?"], next: "listen" });
  assert.equal(scheduling.state.intent, null);
  assert.ok(scheduling.state.scheduleCallAt instanceof Date);
});

test("a flow that loops back to its greeting says the greeting once", async () => {
  const loop: Flow = {
    Start: "hi",
    Nodes: {
      hi: { Say: "Hi, this is Acme.", Next: "q" },
      q: { Say: "Shall I repeat?", Expect: "yes_no", Next: { yes: "hi", no: "bye" } },
      bye: { Say: "Bye.", End: true },
    },
  };
  const { step } = await opening(loop, { q: "yes" });
  assert.deepEqual(step, { say: ["Hi, this is Acme.", "Shall I repeat?"], next: "listen" });
});

test("a choice mapped in another letter case (saved before such maps were refused) takes its branch", async () => {
  const flow: Flow = {
    Start: "c",
    Nodes: {
      c: {
        Say: "Green or red?",
        Expect: "choice",
        Choices: ["Green", "Red"],
        Next: { green: "g", Red: "r" },
      },
      g: { Say: "Green it is.", End: true },
      r: { Say: "Red it is.", End: true },
    },
  };
  const agent = flowAgent(flow);
  await agent.open();
  assert.deepEqual(await agent.hear({ kind: "speech", text: "Green" }), {
    say: ["Green it is."],
    next: "end",
  });
});

test("an LLM agent's ending stands over the opt-out net; the net catches only a clear request the model let pass", async () => {
  const talks = {
    chat: async () => ({ content: "Sure.", finishReason: "stop", toolCalls: [] }),
  } as unknown as LlmClient;
  const later = llmAgent(toolsAnswer(["schedule_call"]));
  await later.agent.hear({ kind: "speech", text: "Stop calling me at work, call me at home tonight at 7" });
  assert.equal(later.state.intent?.kind, "callback");
  const harmless = llmAgent(talks);
  const step = await harmless.agent.hear({ kind: "speech", text: "Can I opt out of paper statements?" });
  assert.deepEqual([step.next, harmless.state.intent], ["listen", null]);
  const clear = llmAgent(talks);
  assert.equal((await clear.agent.hear({ kind: "speech", text: "please stop calling me" })).next, "end");
  assert.equal(clear.state.intent?.kind, "opt_out");
});
