import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRetryAfter } from "../../src/llm/index.ts";
import { parseCompletion, readSseCompletion } from "../../src/llm/parse.ts";

const bytes = async function* (...parts: string[]) {
  for (const p of parts) yield new TextEncoder().encode(p);
};
const chunk = (delta: object, finish: string | null = null) =>
  JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] });

test("parseRetryAfter: seconds, HTTP dates, junk", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter(" 0.5 ", now), 500);
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now), 3000);
  assert.equal(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

test("SSE: CRLF lines, comments, events split anywhere, usage-only chunk", async () => {
  const text = [
    ": keep-alive",
    `data: ${chunk({ role: "assistant", content: "Hel" })}`,
    "",
    `data: ${chunk({ content: "lo" })}`,
    "",
    `data: ${chunk({ tool_calls: [{ index: 0, id: "c1", function: { name: "save_", arguments: '{"Fi' } }] })}`,
    "",
    `data: ${chunk({ tool_calls: [{ index: 0, function: { name: "answer", arguments: 'eld":"x"}' } }] })}`,
    "",
    `data: ${chunk({}, "tool_calls")}`,
    "",
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } })}`,
    "",
    "data: [DONE]",
    "",
    "",
  ].join("\r\n");
  const cuts = [5, 17, 60, 61, 200, text.length];
  const parts = cuts.map((end, i) => text.slice(i === 0 ? 0 : cuts[i - 1], end));
  const r = await readSseCompletion(bytes(...parts));
  assert.equal(r.content, "Hello");
  assert.equal(r.finishReason, "tool_calls");
  assert.deepEqual(r.toolCalls, [
    { id: "c1", type: "function", function: { name: "save_answer", arguments: '{"Field":"x"}' } },
  ]);
  assert.deepEqual(r.usage, { promptTokens: 7, completionTokens: 3 });
});

test("SSE: a stream cut before it finished is invalid; one without [DONE] but finished is fine", async () => {
  await assert.rejects(readSseCompletion(bytes(`data: ${chunk({ content: "Hi" })}\n\n`)), {
    kind: "invalid_response",
  });
  const r = await readSseCompletion(bytes(`data: ${chunk({ content: "Hi" }, "stop")}\n\n`));
  assert.equal(r.content, "Hi");
  await assert.rejects(readSseCompletion(bytes(`data: {"error":{"message":"overloaded"}}\n\n`)), {
    kind: "invalid_response",
  });
});

test("parseCompletion rejects bodies that are not completions", () => {
  assert.throws(() => parseCompletion({ choices: [] }), { kind: "invalid_response" });
  assert.throws(() => parseCompletion({ choices: [{ message: { content: 5 } }] }), {
    kind: "invalid_response",
  });
  assert.throws(
    () => parseCompletion({ choices: [{ message: { content: null, tool_calls: [{ function: {} }] } }] }),
    {
      kind: "invalid_response",
    },
  );
  const r = parseCompletion({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] });
  assert.deepEqual(r, { content: "ok", toolCalls: [], finishReason: "stop" });
});
