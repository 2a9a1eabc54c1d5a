// A fake OpenAI-compatible chat-completions server for tests only: real HTTP on 127.0.0.1, so the
// real client code (fetch, SSE parsing, retries, deadlines) runs against it.
import http from "node:http";
import type { AddressInfo } from "node:net";

type Delay = { delayMs?: number };
export type FakeReply =
  | ({ content: string } & Delay)
  | ({
      toolCalls: { name: string; arguments: Record<string, unknown>; id?: string }[];
      content?: string;
    } & Delay)
  /** For json_schema requests: the content is JSON.stringify(json). */
  | ({ json: unknown } & Delay)
  /** An error answer; retryAfter is sent as is (seconds, or an HTTP date string). */
  | ({
      status: 400 | 401 | 403 | 404 | 429 | 500 | 502 | 503;
      retryAfter?: number | string;
      body?: unknown;
    } & Delay)
  /** A 200 with this exact body, to test answers that are not completions. */
  | ({ raw: string; contentType?: string } & Delay);

export interface FakeRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface FakeLlm {
  /** Base URL, ending in /v1. */
  url: string;
  /** Every request received, in order, body parsed. */
  requests: FakeRequest[];
  /** When set, requests whose `Authorization: Bearer` differs get 401. */
  apiKey: string | null;
  reply(fn: (body: any) => FakeReply): void;
  /** Scripted replies: each request takes the next; when they run out, the reply() handler answers. */
  queue(...replies: FakeReply[]): void;
  /** Forgets the requests, the scripted replies and the handler (between tests). */
  reset(): void;
  close(): Promise<void>;
}

/** The settings that point Cobbery's LLM client at `fake` (key "k", model "m", 10 s per request). */
export const fakeLlmEnv = (fake: FakeLlm): Record<string, string> => ({
  COBBERY_LLM_BASE_URL: fake.url,
  COBBERY_LLM_API_KEY: "k",
  COBBERY_LLM_MODEL: "m",
  COBBERY_LLM_TIMEOUT_MS: "10000",
});

const errorBodies: Record<number, unknown> = {
  401: {
    error: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  },
  403: {
    error: {
      message: "You are not allowed to sample from this model.",
      type: "invalid_request_error",
      code: null,
    },
  },
  404: {
    error: { message: "The model does not exist.", type: "invalid_request_error", code: "model_not_found" },
  },
  429: { error: { message: "Rate limit reached.", type: "requests", code: "rate_limit_exceeded" } },
};

/** Splits text into up to n non-empty pieces, so streams carry several deltas. */
function pieces(text: string, n = 3): string[] {
  if (text.length <= 1) return [text];
  const size = Math.ceil(text.length / Math.min(n, text.length));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export async function startFakeLlm(opts: { apiKey?: string } = {}): Promise<FakeLlm> {
  const requests: FakeRequest[] = [];
  const scripted: FakeReply[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const defaultHandler = (): FakeReply => ({ content: "Hello from the fake LLM." });
  let handler: (body: any) => FakeReply = defaultHandler;
  let seq = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: any = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        // recorded as null, answered 400 below
      }
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(value));
      };
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        return json(404, { error: { message: `Unknown request URL: ${req.method} ${req.url}.` } });
      }
      if (fake.apiKey !== null && req.headers.authorization !== `Bearer ${fake.apiKey}`)
        return json(401, errorBodies[401]);
      if (!body || typeof body !== "object") return json(400, { error: { message: "Invalid JSON body." } });
      const r = scripted.shift() ?? handler(body);
      const send = () => {
        if (res.destroyed) return;
        if ("status" in r) {
          const headers: Record<string, string> =
            r.retryAfter !== undefined ? { "retry-after": String(r.retryAfter) } : {};
          return json(
            r.status,
            r.body ?? errorBodies[r.status] ?? { error: { message: "Server error." } },
            headers,
          );
        }
        if ("raw" in r) {
          res.writeHead(200, { "content-type": r.contentType ?? "application/json" });
          return res.end(r.raw);
        }
        const content =
          "content" in r && r.content !== undefined ? r.content : "json" in r ? JSON.stringify(r.json) : null;
        const toolCalls = ("toolCalls" in r ? r.toolCalls : []).map((c, i) => ({
          id: c.id ?? `call_fake_${++seq}_${i}`,
          type: "function" as const,
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        }));
        const finish = toolCalls.length ? "tool_calls" : "stop";
        const id = `chatcmpl-fake-${++seq}`;
        const created = Math.floor(Date.now() / 1000);
        const usage = {
          prompt_tokens: JSON.stringify(body.messages ?? []).length,
          completion_tokens: (content ?? "").length,
          total_tokens: 0,
        };
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
        if (body.stream !== true) {
          const message = {
            role: "assistant",
            content,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          };
          return json(200, {
            id,
            object: "chat.completion",
            created,
            model: body.model,
            choices: [{ index: 0, message, finish_reason: finish }],
            usage,
          });
        }
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const event = (delta: unknown, finishReason: string | null = null, extra: object = {}) => {
          const data = `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`;
          // Two writes per event, split mid-line, so the client must buffer partial lines.
          const half = Math.floor(data.length / 2);
          res.write(data.slice(0, half));
          res.write(data.slice(half));
        };
        event({ role: "assistant", content: "" });
        if (content) for (const p of pieces(content)) event({ content: p });
        toolCalls.forEach((c, index) => {
          event({
            tool_calls: [
              { index, id: c.id, type: "function", function: { name: c.function.name, arguments: "" } },
            ],
          });
          for (const p of pieces(c.function.arguments))
            event({ tool_calls: [{ index, function: { arguments: p } }] });
        });
        event({}, finish);
        if (body.stream_options?.include_usage) {
          res.write(
            `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage })}\n\n`,
          );
        }
        res.end("data: [DONE]\n\n");
      };
      if (!r.delayMs) return send();
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, r.delayMs);
      timers.add(t);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeLlm = {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    apiKey: opts.apiKey ?? null,
    reply(fn) {
      handler = fn;
    },
    queue(...replies) {
      scripted.push(...replies);
    },
    reset() {
      requests.length = 0;
      scripted.length = 0;
      handler = defaultHandler;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
  return fake;
}
