import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logging/index.ts";
import { parseCompletion, readSseCompletion } from "./parse.ts";
import { type ChatMessage, type ChatRequest, type ChatResponse, type LlmClient, LlmError } from "./types.ts";

/*
 * The OpenAI-compatible adapter, on Node's own `fetch` rather than the `openai` SDK: the rules we
 * need (401/403/404 fail at once, 429/5xx tried 3 times in all, Retry-After capped by one overall
 * deadline, every error mapped to an LlmError kind) sit on a plain request loop, while the SDK would
 * bring its own retries, timeouts and error classes to turn off and translate. SSE parsing is small.
 *
 * Logs carry model names, statuses, attempts and durations only: never messages, replies or keys.
 */

export interface LlmClientConfig {
  /** Up to the API root, e.g. "https://api.openai.com/v1"; "/chat/completions" is appended. */
  baseUrl: string;
  apiKey: string | null;
  /** The whole call, retries and waits included (COBBERY_LLM_TIMEOUT_MS). */
  timeoutMs: number;
  logger?: Pick<Logger, "debug" | "warn">;
}

const MAX_TRIES = 3;
const BACKOFF_BASE_MS = 250;

export function createLlmClient(cfg: LlmClientConfig): LlmClient {
  const url = `${cfg.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  return { chat: (req) => chat(cfg, url, headers, req) };
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  const v = value?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

type Attempt = { ok: ChatResponse } | { fail: LlmError; retryAfterMs: number | null };

async function chat(
  cfg: LlmClientConfig,
  url: string,
  headers: Record<string, string>,
  req: ChatRequest,
): Promise<ChatResponse> {
  const deadline = Date.now() + cfg.timeoutMs;
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), cfg.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timer.signal, req.signal]) : timer.signal;
  const body = JSON.stringify(requestBody(req));
  const log = (level: "debug" | "warn", fields: Record<string, unknown>, msg: string) =>
    cfg.logger?.[level]({ model: req.model, stream: req.stream === true, ...fields }, msg);
  let lastStatus: number | null = null;
  try {
    for (let attempt = 1; ; attempt++) {
      const t0 = Date.now();
      let result: Attempt;
      try {
        result = await attemptOnce(url, headers, body, req, signal);
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (timer.signal.aborted) break;
        if (e instanceof LlmError) {
          log(
            "warn",
            { status: e.status, attempt, durationMs: Date.now() - t0, kind: e.kind },
            "LLM request failed",
          );
          throw e;
        }
        result = { fail: networkError(e), retryAfterMs: null };
      }
      const durationMs = Date.now() - t0;
      if ("ok" in result) {
        const u = result.ok.usage;
        log(
          "debug",
          {
            status: 200,
            attempt,
            durationMs,
            promptTokens: u?.promptTokens,
            completionTokens: u?.completionTokens,
          },
          "LLM request done",
        );
        return result.ok;
      }
      if (req.signal?.aborted) throw req.signal.reason;
      if (timer.signal.aborted) break;
      const { fail, retryAfterMs } = result;
      lastStatus = fail.status;
      log(
        "warn",
        { status: fail.status, attempt, durationMs, kind: fail.kind, retryAfterMs },
        "LLM request failed",
      );
      if (fail.kind !== "transient") throw fail;
      if (attempt >= MAX_TRIES) throw note(fail, `Gave up after ${MAX_TRIES} tries.`);
      const waitMs = retryAfterMs ?? BACKOFF_BASE_MS * 2 ** (attempt - 1);
      const leftMs = deadline - Date.now();
      // Waiting past the deadline could only end in a timeout: give up now, with the real cause.
      if (waitMs >= leftMs) {
        throw note(
          fail,
          `It asked to wait ${waitMs} ms; only ${Math.max(0, leftMs)} ms were left of COBBERY_LLM_TIMEOUT_MS (${cfg.timeoutMs} ms).`,
        );
      }
      try {
        await sleep(waitMs, undefined, { signal });
      } catch {
        if (req.signal?.aborted) throw req.signal.reason;
        break;
      }
    }
    throw new LlmError(
      "timeout",
      `The LLM endpoint did not answer within ${cfg.timeoutMs} ms: raise COBBERY_LLM_TIMEOUT_MS or use a faster model.`,
      lastStatus,
    );
  } finally {
    clearTimeout(timeout);
  }
}

async function attemptOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  req: ChatRequest,
  signal: AbortSignal,
): Promise<Attempt> {
  const res = await fetch(url, { method: "POST", headers, body, signal });
  if (res.ok) {
    if ((res.headers.get("content-type") ?? "").includes("text/event-stream") && res.body) {
      return { ok: await readSseCompletion(res.body) };
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LlmError(
        "invalid_response",
        "The LLM endpoint answered 200 but the body is not JSON.",
        res.status,
      );
    }
    return { ok: parseCompletion(json) };
  }
  // Read only to tell an unknown model from a wrong URL, and to pick the provider's error code.
  const text = await res.text().catch(() => "");
  return {
    fail: httpError(res.status, text, req.model),
    retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
  };
}

function httpError(status: number, text: string, model: string): LlmError {
  if (status === 401) {
    return new LlmError(
      "configuration",
      "The LLM endpoint rejected the API key (401): check COBBERY_LLM_API_KEY.",
      status,
    );
  }
  if (status === 403) {
    return new LlmError(
      "configuration",
      `The LLM endpoint refused access (403): check COBBERY_LLM_API_KEY and that it may use the model "${model}".`,
      status,
    );
  }
  if (status === 404) {
    return new LlmError(
      "configuration",
      /model/i.test(text)
        ? `The model "${model}" does not exist at COBBERY_LLM_BASE_URL (404): check COBBERY_LLM_MODEL or Agent.Model.`
        : `The LLM endpoint answered 404 for /chat/completions: check COBBERY_LLM_BASE_URL (usually ending in /v1) and that the model "${model}" exists (COBBERY_LLM_MODEL or Agent.Model).`,
      status,
    );
  }
  if (status === 429)
    return new LlmError("transient", "The LLM endpoint is rate limiting requests (429).", status);
  if (status >= 500) return new LlmError("transient", `The LLM endpoint failed (${status}).`, status);
  const code = providerCode(text);
  return new LlmError(
    "invalid_response",
    `The LLM endpoint refused the request (${status}${code ? `, ${code}` : ""}).`,
    status,
  );
}

/** The provider's machine-readable error code (e.g. "context_length_exceeded"), never its free text. */
function providerCode(text: string): string | null {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === "string" && /^[\w.-]{1,64}$/.test(code) ? code : null;
  } catch {
    return null;
  }
}

function networkError(e: unknown): LlmError {
  const cause = (e as { cause?: { code?: unknown } })?.cause;
  const code = typeof cause?.code === "string" ? cause.code : "network error";
  return new LlmError(
    "transient",
    `Could not reach the LLM endpoint (${code}): check COBBERY_LLM_BASE_URL and that the server is up.`,
    null,
    { cause: e },
  );
}

function note(e: LlmError, extra: string): LlmError {
  return new LlmError(e.kind, `${e.message} ${extra}`, e.status, { cause: e.cause });
}

function requestBody(req: ChatRequest): Record<string, unknown> {
  return {
    model: req.model,
    messages: req.messages.map(wireMessage),
    ...(req.tools?.length
      ? {
          tools: req.tools.map((t) => ({
            type: "function",
            function: { name: t.name, description: t.description, parameters: t.parameters },
          })),
        }
      : {}),
    ...(req.jsonSchema
      ? {
          response_format: {
            type: "json_schema",
            json_schema: {
              name: req.jsonSchema.name,
              schema: req.jsonSchema.schema,
              strict: req.jsonSchema.strict ?? true,
            },
          },
        }
      : {}),
    ...(req.stream ? { stream: true } : {}),
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
  };
}

function wireMessage(m: ChatMessage): Record<string, unknown> {
  return {
    role: m.role,
    content: m.content,
    ...(m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}),
    ...(m.tool_call_id ? { tool_call_id: m.tool_call_id } : {}),
  };
}
