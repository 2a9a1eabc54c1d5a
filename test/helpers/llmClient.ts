// Set-up shared by the LLM client tests (test/llm): the fake server that checks the API key, a fresh
// client for each test, the conversation they send, and a way to catch the LlmError of a call.
import assert from "node:assert/strict";
import { after, before, beforeEach } from "node:test";
import { type ChatMessage, createLlmClient, type LlmClient, LlmError } from "../../src/llm/index.ts";
import { type FakeLlm, startFakeLlm } from "./fakeLlm.ts";

/** The API key the fake server accepts. */
export const KEY = "sk-test-secret-123";

export const messages: ChatMessage[] = [
  { role: "system", content: "You are Ana from Acme Housing." },
  { role: "user", content: "Hi, who is this?" },
];

/** Awaits a rejection and returns the LlmError, failing on anything else. */
export async function llmError(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LlmError, `expected an LlmError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected the call to fail");
}

export interface FakeLlmClient {
  /** The fake server, reset before each test. */
  fake: FakeLlm;
  /** A client of the fake with a 5 s timeout, new for each test. */
  client: LlmClient;
  /** A client of the fake with this timeout. */
  makeClient(timeoutMs: number): LlmClient;
}

/**
 * Registers the file's hooks: the fake starts before its tests and closes after them; before each
 * test it is reset and a new client made. Read `fake` and `client` inside the tests.
 */
export function useFakeLlmClient(): FakeLlmClient {
  const s = {
    makeClient: (timeoutMs: number) => createLlmClient({ baseUrl: s.fake.url, apiKey: KEY, timeoutMs }),
  } as FakeLlmClient;
  before(async () => {
    s.fake = await startFakeLlm({ apiKey: KEY });
  });
  after(() => s.fake.close());
  beforeEach(() => {
    s.fake.reset();
    s.client = s.makeClient(5000);
  });
  return s;
}
