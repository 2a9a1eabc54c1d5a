/** The LLM port and its OpenAI-compatible adapter. */
export { createLlmClient, type LlmClientConfig, parseRetryAfter } from "./client.ts";
export type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  LlmClient,
  LlmErrorKind,
  ToolCall,
  ToolSpec,
} from "./types.ts";
export { isLlmError, LlmError } from "./types.ts";
