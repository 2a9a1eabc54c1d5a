import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLlmClient } from "../../src/llm/index.ts";
import { startFakeLlm } from "../helpers/fakeLlm.ts";
import { llmError, messages, useFakeLlmClient } from "../helpers/llmClient.ts";

const llm = useFakeLlmClient();

describe("LLM client: retries and deadlines", () => {
  test("429 with Retry-After: 1, then success → succeeds after about 1 s", async () => {
    llm.fake.queue({ status: 429, retryAfter: 1 }, { content: "ok now" });
    const t0 = Date.now();
    const r = await llm.client.chat({ model: "gpt-test", messages, stream: true });
    const ms = Date.now() - t0;
    assert.equal(r.content, "ok now");
    assert.equal(llm.fake.requests.length, 2);
    assert.ok(ms >= 950 && ms < 2000, `took ${ms} ms`);
  });

  test("Retry-After as an HTTP date is honoured", async () => {
    llm.fake.queue({ status: 503, retryAfter: new Date(Date.now() + 2000).toUTCString() }, { content: "ok" });
    const t0 = Date.now();
    assert.equal((await llm.client.chat({ model: "gpt-test", messages })).content, "ok");
    const ms = Date.now() - t0;
    assert.ok(ms >= 900 && ms < 2600, `took ${ms} ms`); // HTTP dates have 1 s resolution
  });

  test("500 three times → transient error after 3 requests", async () => {
    llm.fake.queue({ status: 500 }, { status: 500 }, { status: 500 }, { content: "never reached" });
    const e = await llmError(llm.client.chat({ model: "gpt-test", messages }));
    assert.equal(e.kind, "transient");
    assert.equal(e.status, 500);
    assert.equal(e.retryable, true);
    assert.equal(llm.fake.requests.length, 3);
  });

  test("500 twice then success → success on the third try", async () => {
    llm.fake.queue({ status: 502 }, { status: 500 }, { content: "third time lucky" });
    const r = await llm.client.chat({ model: "gpt-test", messages, stream: true });
    assert.equal(r.content, "third time lucky");
    assert.equal(llm.fake.requests.length, 3);
  });

  test("a slow server → timeout error within about timeoutMs", async () => {
    llm.fake.queue({ content: "too late", delayMs: 3000 });
    const t0 = Date.now();
    const e = await llmError(llm.makeClient(400).chat({ model: "gpt-test", messages, stream: true }));
    const ms = Date.now() - t0;
    assert.equal(e.kind, "timeout");
    assert.equal(e.retryable, true);
    assert.match(e.message, /COBBERY_LLM_TIMEOUT_MS/);
    assert.ok(ms >= 380 && ms < 900, `took ${ms} ms`);
    assert.equal(llm.fake.requests.length, 1);
  });

  test("the deadline covers retries: 429 then a slow answer → timeout at timeoutMs", async () => {
    llm.fake.queue({ status: 429, retryAfter: 0 }, { content: "too late", delayMs: 3000 });
    const t0 = Date.now();
    const e = await llmError(llm.makeClient(600).chat({ model: "gpt-test", messages }));
    const ms = Date.now() - t0;
    assert.equal(e.kind, "timeout");
    assert.ok(ms >= 580 && ms < 1100, `took ${ms} ms`);
    assert.equal(llm.fake.requests.length, 2);
  });

  test("Retry-After beyond the remaining budget → gives up at once", async () => {
    llm.fake.queue({ status: 429, retryAfter: 30 }, { content: "never reached" });
    const t0 = Date.now();
    const e = await llmError(llm.makeClient(1000).chat({ model: "gpt-test", messages }));
    const ms = Date.now() - t0;
    assert.equal(e.kind, "transient");
    assert.equal(e.status, 429);
    assert.match(e.message, /COBBERY_LLM_TIMEOUT_MS/);
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.equal(llm.fake.requests.length, 1);
  });

  test("connection refused → transient error after the retries", async () => {
    const gone = await startFakeLlm();
    const url = gone.url;
    await gone.close();
    const t0 = Date.now();
    const e = await llmError(
      createLlmClient({ baseUrl: url, apiKey: null, timeoutMs: 5000 }).chat({ model: "gpt-test", messages }),
    );
    assert.equal(e.kind, "transient");
    assert.equal(e.status, null);
    assert.match(e.message, /ECONNREFUSED.*COBBERY_LLM_BASE_URL/);
    assert.match(e.message, /3 tries/);
    assert.ok(Date.now() - t0 >= 700, "backed off between tries");
  });

  test("the caller's abort signal rejects at once with its reason", async () => {
    llm.fake.queue({ content: "slow", delayMs: 3000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("call hung up")), 100);
    const t0 = Date.now();
    await assert.rejects(llm.client.chat({ model: "gpt-test", messages, signal: ac.signal }), /call hung up/);
    assert.ok(Date.now() - t0 < 1000);
  });
});
