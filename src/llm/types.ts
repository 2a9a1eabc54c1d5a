/** The LLM port: what the rest of Cobbery knows of a chat-completions model. */

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /**
   * Ask for a JSON answer that follows this schema (`response_format: json_schema`). `strict`
   * (default true) asks the endpoint to enforce it, which needs every object closed: all its
   * properties required and additionalProperties false.
   */
  jsonSchema?: { name: string; schema: Record<string, unknown>; strict?: boolean };
  stream?: boolean;
  temperature?: number;
  /** Aborting it rejects the call with the signal's reason (not an LlmError). */
  signal?: AbortSignal;
}

export interface ChatResponse {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface LlmClient {
  chat(req: ChatRequest): Promise<ChatResponse>;
}

export type LlmErrorKind = "configuration" | "transient" | "timeout" | "invalid_response";

/**
 * What went wrong talking to the LLM endpoint. `configuration` means an operator must fix a setting
 * (the message names it); `transient` and `timeout` may succeed later; `invalid_response` is an
 * answer Cobbery could not use. Messages never carry prompts, replies or keys.
 */
export class LlmError extends Error {
  override name = "LlmError";
  readonly kind: LlmErrorKind;
  /** The HTTP status of the last answer, null when there was none (network error, timeout). */
  readonly status: number | null;
  readonly retryable: boolean;

  constructor(
    kind: LlmErrorKind,
    message: string,
    status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = kind;
    this.status = status;
    this.retryable = kind === "transient" || kind === "timeout";
  }
}

export const isLlmError = (e: unknown): e is LlmError => e instanceof LlmError;
