import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ChatMessage, createLlmClient, type ToolSpec } from "../../src/llm/index.ts";
import { KEY, llmError, messages, useFakeLlmClient } from "../helpers/llmClient.ts";

const llm = useFakeLlmClient();

describe("LLM client: answers", () => {
  test("non-streaming content, with usage and the bearer key", async () => {
    llm.fake.queue({ content: "Hello, this is Ana from Acme Housing." });
    const r = await llm.client.chat({ model: "gpt-test", messages });
    assert.equal(r.content, "Hello, this is Ana from Acme Housing.");
    assert.deepEqual(r.toolCalls, []);
    assert.equal(r.finishReason, "stop");
    assert.ok(r.usage && r.usage.promptTokens > 0 && r.usage.completionTokens > 0);
    assert.equal(llm.fake.requests.length, 1);
    assert.equal(llm.fake.requests[0]?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(llm.fake.requests[0]?.body.stream, undefined);
  });

  test("streaming content is accumulated from several deltas", async () => {
    llm.fake.queue({ content: "Hello, this is Ana from Acme Housing, calling about your application." });
    const r = await llm.client.chat({ model: "gpt-test", messages, stream: true });
    assert.equal(r.content, "Hello, this is Ana from Acme Housing, calling about your application.");
    assert.equal(r.finishReason, "stop");
    assert.deepEqual(r.toolCalls, []);
    assert.equal(llm.fake.requests[0]?.body.stream, true);
  });

  test("streamed tool calls: ids, names and arguments split across chunks", async () => {
    llm.fake.queue({
      content: "Noted.",
      toolCalls: [
        { id: "call_a", name: "save_answer", arguments: { Field: "household_size", Value: 4 } },
        { id: "call_b", name: "schedule_call", arguments: { At: "tomorrow at 5pm" } },
      ],
    });
    const r = await llm.client.chat({ model: "gpt-test", messages, stream: true });
    assert.equal(r.content, "Noted.");
    assert.equal(r.finishReason, "tool_calls");
    assert.deepEqual(
      r.toolCalls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)]),
      [
        ["call_a", "function", "save_answer", { Field: "household_size", Value: 4 }],
        ["call_b", "function", "schedule_call", { At: "tomorrow at 5pm" }],
      ],
    );
  });

  test("non-streamed tool calls", async () => {
    llm.fake.queue({ toolCalls: [{ name: "end_call", arguments: {} }] });
    const r = await llm.client.chat({ model: "gpt-test", messages });
    assert.equal(r.content, null);
    assert.equal(r.finishReason, "tool_calls");
    assert.equal(r.toolCalls[0]?.function.name, "end_call");
    assert.deepEqual(JSON.parse(r.toolCalls[0]?.function.arguments ?? ""), {});
    assert.ok(r.toolCalls[0]?.id);
  });

  test("request shape: model, messages, tools and json_schema response_format", async () => {
    const tools: ToolSpec[] = [
      {
        name: "opt_out",
        description: "The contact asked not to be called again.",
        parameters: { type: "object", properties: {} },
      },
    ];
    const schema = {
      type: "object",
      properties: { ObjectiveMet: { type: "boolean" }, Reason: { type: "string" } },
      required: ["ObjectiveMet", "Reason"],
      additionalProperties: false,
    };
    const history: ChatMessage[] = [
      ...messages,
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "opt_out", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "ok" },
    ];
    llm.fake.queue({ json: { ObjectiveMet: true, Reason: "They answered every question." } });
    const r = await llm.client.chat({
      model: "gpt-judge",
      messages: history,
      tools,
      jsonSchema: { name: "objective", schema },
      temperature: 0,
    });
    assert.deepEqual(JSON.parse(r.content ?? ""), {
      ObjectiveMet: true,
      Reason: "They answered every question.",
    });
    const body = llm.fake.requests[0]?.body;
    assert.equal(llm.fake.requests[0]?.path, "/v1/chat/completions");
    assert.equal(llm.fake.requests[0]?.headers["content-type"], "application/json");
    assert.equal(body.model, "gpt-judge");
    assert.equal(body.temperature, 0);
    assert.deepEqual(body.messages, history);
    assert.deepEqual(body.tools, [{ type: "function", function: tools[0] }]);
    assert.deepEqual(body.response_format, {
      type: "json_schema",
      json_schema: { name: "objective", schema, strict: true },
    });
  });

  test("a 200 that is not a completion → invalid_response, not retried", async () => {
    llm.fake.queue({ raw: '{"object":"list","data":[]}' });
    const e = await llmError(llm.client.chat({ model: "gpt-test", messages }));
    assert.equal(e.kind, "invalid_response");
    assert.equal(e.retryable, false);
    llm.fake.queue({ raw: "<html>proxy</html>", contentType: "text/html" });
    assert.equal((await llmError(llm.client.chat({ model: "gpt-test", messages }))).kind, "invalid_response");
    llm.fake.queue({ raw: "data: {not json}\n\n", contentType: "text/event-stream" });
    assert.equal(
      (await llmError(llm.client.chat({ model: "gpt-test", messages, stream: true }))).kind,
      "invalid_response",
    );
    assert.equal(llm.fake.requests.length, 3);
  });
});

describe("LLM client: configuration and request errors", () => {
  test("401 (wrong key) → configuration error naming COBBERY_LLM_API_KEY, no retry, no key in logs", async () => {
    const logs: unknown[] = [];
    const wrong = createLlmClient({
      baseUrl: llm.fake.url,
      apiKey: "sk-wrong",
      timeoutMs: 5000,
      logger: { debug: (o: unknown) => logs.push(o), warn: (o: unknown) => logs.push(o) } as any,
    });
    const e = await llmError(wrong.chat({ model: "gpt-test", messages }));
    assert.equal(e.kind, "configuration");
    assert.equal(e.status, 401);
    assert.equal(e.retryable, false);
    assert.match(e.message, /COBBERY_LLM_API_KEY/);
    assert.doesNotMatch(e.message, /sk-wrong/);
    assert.equal(llm.fake.requests.length, 1);
    const logged = JSON.stringify(logs);
    assert.match(logged, /"status":401/);
    assert.doesNotMatch(logged, /sk-wrong|Acme Housing|who is this/);
  });

  test("403 → configuration error", async () => {
    llm.fake.queue({ status: 403 });
    const e = await llmError(llm.client.chat({ model: "gpt-test", messages }));
    assert.equal(e.kind, "configuration");
    assert.equal(e.status, 403);
    assert.equal(llm.fake.requests.length, 1);
  });

  test("404 unknown model → configuration error naming the model and the settings", async () => {
    llm.fake.queue({ status: 404 });
    const e = await llmError(llm.client.chat({ model: "gpt-nope", messages }));
    assert.equal(e.kind, "configuration");
    assert.equal(e.status, 404);
    assert.match(e.message, /"gpt-nope".*COBBERY_LLM_MODEL or Agent\.Model/);
    assert.equal(llm.fake.requests.length, 1);
  });

  test("404 wrong base URL → configuration error naming COBBERY_LLM_BASE_URL", async () => {
    const bad = createLlmClient({ baseUrl: llm.fake.url.replace(/\/v1$/, ""), apiKey: KEY, timeoutMs: 5000 });
    const e = await llmError(bad.chat({ model: "gpt-test", messages }));
    assert.equal(e.kind, "configuration");
    assert.match(e.message, /COBBERY_LLM_BASE_URL/);
  });

  test("400 → invalid_response with the provider's code, not retried", async () => {
    llm.fake.queue({
      status: 400,
      body: { error: { message: "too long: <prompt>", code: "context_length_exceeded" } },
    });
    const e = await llmError(llm.client.chat({ model: "gpt-test", messages }));
    assert.equal(e.kind, "invalid_response");
    assert.match(e.message, /context_length_exceeded/);
    assert.doesNotMatch(e.message, /prompt/);
    assert.equal(llm.fake.requests.length, 1);
  });
});
