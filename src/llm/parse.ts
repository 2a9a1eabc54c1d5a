import { type ChatResponse, LlmError, type ToolCall } from "./types.ts";

/** Turns chat-completions answers (a JSON body, or an SSE stream of chunks) into a ChatResponse. */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

const invalid = (why: string): LlmError =>
  new LlmError(
    "invalid_response",
    `The LLM endpoint answered 200 but not with a chat completion: ${why}.`,
    200,
  );

function usageOf(v: unknown): ChatResponse["usage"] {
  if (!isObj(v) || typeof v.prompt_tokens !== "number" || typeof v.completion_tokens !== "number")
    return undefined;
  return { promptTokens: v.prompt_tokens, completionTokens: v.completion_tokens };
}

/** Some servers send a 200 that carries `{"error": ...}`: that is not a completion. */
function rejectError(body: Obj): void {
  if (body.error !== undefined && body.error !== null) throw invalid("it holds an error object");
}

/** A non-streaming completion body. */
export function parseCompletion(body: unknown): ChatResponse {
  if (!isObj(body)) throw invalid("the body is not a JSON object");
  rejectError(body);
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isObj(choice) || !isObj(choice.message)) throw invalid("choices[0].message is missing");
  const msg = choice.message;
  if (msg.content !== null && msg.content !== undefined && typeof msg.content !== "string") {
    throw invalid("choices[0].message.content is not a string");
  }
  const rawCalls = msg.tool_calls ?? [];
  if (!Array.isArray(rawCalls)) throw invalid("choices[0].message.tool_calls is not a list");
  const toolCalls = rawCalls.map((c, i): ToolCall => {
    const fn = isObj(c) && isObj(c.function) ? c.function : null;
    const name = fn ? str(fn.name) : null;
    if (!fn || !name) throw invalid(`tool call ${i} has no function name`);
    const args = fn.arguments;
    return {
      id: (isObj(c) && str(c.id)) || `call_${i}`,
      type: "function",
      function: { name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) },
    };
  });
  const usage = usageOf(body.usage);
  return {
    content: str(msg.content),
    toolCalls,
    finishReason: str(choice.finish_reason),
    ...(usage ? { usage } : {}),
  };
}

/** Accumulates streamed chunks: content deltas appended, tool-call deltas merged by index. */
class StreamAccumulator {
  private content: string | null = null;
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();
  private finishReason: string | null = null;
  private usage: ChatResponse["usage"];
  done = false;

  add(chunk: unknown): void {
    if (!isObj(chunk)) throw invalid("a stream chunk is not a JSON object");
    rejectError(chunk);
    this.usage = usageOf(chunk.usage) ?? this.usage;
    if (!Array.isArray(chunk.choices)) throw invalid("a stream chunk has no choices");
    const choice = chunk.choices[0];
    if (choice === undefined) return; // e.g. the final usage-only chunk
    if (!isObj(choice)) throw invalid("a stream chunk's choice is not an object");
    const reason = str(choice.finish_reason);
    if (reason) this.finishReason = reason;
    const delta = choice.delta;
    if (!isObj(delta)) return;
    const text = str(delta.content);
    if (text) this.content = (this.content ?? "") + text;
    if (delta.tool_calls === undefined || delta.tool_calls === null) return;
    if (!Array.isArray(delta.tool_calls)) throw invalid("a stream chunk's tool_calls is not a list");
    for (const d of delta.tool_calls) {
      if (!isObj(d)) throw invalid("a tool-call delta is not an object");
      const index = typeof d.index === "number" ? d.index : this.calls.size;
      const call = this.calls.get(index) ?? { id: "", name: "", arguments: "" };
      this.calls.set(index, call);
      if (str(d.id)) call.id = d.id as string;
      const fn = isObj(d.function) ? d.function : {};
      call.name += str(fn.name) ?? "";
      call.arguments += str(fn.arguments) ?? "";
    }
  }

  result(): ChatResponse {
    if (!this.done && this.finishReason === null) throw invalid("the stream ended before it finished");
    const toolCalls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]): ToolCall => {
        if (!c.name) throw invalid(`streamed tool call ${index} has no function name`);
        return {
          id: c.id || `call_${index}`,
          type: "function",
          function: { name: c.name, arguments: c.arguments },
        };
      });
    return {
      content: this.content,
      toolCalls,
      finishReason: this.finishReason,
      ...(this.usage ? { usage: this.usage } : {}),
    };
  }
}

/**
 * Reads a `text/event-stream` body: each event's `data:` lines are joined; `[DONE]` ends it.
 * Comments (`:`) and other fields (`event:`, `id:`) are ignored.
 */
export async function readSseCompletion(body: AsyncIterable<Uint8Array>): Promise<ChatResponse> {
  const acc = new StreamAccumulator();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  const dispatch = (): void => {
    if (data.length === 0) return;
    const payload = data.join("\n");
    data = [];
    if (payload.trim() === "[DONE]") {
      acc.done = true;
      return;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(payload);
    } catch {
      throw invalid("a stream event is not valid JSON");
    }
    acc.add(chunk);
  };
  const line = (l: string): void => {
    if (l === "") dispatch();
    else if (l.startsWith("data:")) data.push(l.slice(l[5] === " " ? 6 : 5));
  };
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let nl = buffer.search(/\r\n|\r|\n/);
    while (nl !== -1 && !acc.done) {
      const sep = buffer.startsWith("\r\n", nl) ? 2 : 1;
      // A lone "\r" at the end of the buffer may be half of "\r\n": wait for more bytes.
      if (sep === 1 && buffer[nl] === "\r" && nl === buffer.length - 1) break;
      line(buffer.slice(0, nl));
      buffer = buffer.slice(nl + sep);
      nl = buffer.search(/\r\n|\r|\n/);
    }
    if (acc.done) break;
  }
  if (!acc.done) {
    buffer += decoder.decode();
    if (buffer) line(buffer);
    dispatch();
  }
  return acc.result();
}
