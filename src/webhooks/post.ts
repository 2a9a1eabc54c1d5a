import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { DestinationRefused, hostOf, publicOnlyLookup, resolvePublic } from "./destination.ts";

export interface PostResult {
  /** The HTTP status, or null when no response came (refused, unreachable, timed out). */
  statusCode: number | null;
  retryAfter: string | undefined;
  /** What went wrong, for the delivery log: no URL, no body. */
  error: string | null;
}

const USER_AGENT = "Cobbery-Webhooks/1.0";

/**
 * POSTs one delivery. Without allowPrivate, the host is resolved and checked right before the
 * connection, and the connection goes to the checked addresses only. Redirects are not followed.
 * The response body is not read.
 */
export async function postDelivery(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<PostResult> {
  const target = new URL(url);
  if (!opts.allowPrivate && isIP(hostOf(target)) !== 0) {
    // An address literal is never looked up: check it here.
    try {
      await resolvePublic(hostOf(target));
    } catch (e) {
      return { statusCode: null, retryAfter: undefined, error: refusal(e) };
    }
  }
  const client = target.protocol === "https:" ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const finish = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      target,
      {
        method: "POST",
        agent: false,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": USER_AGENT,
        },
        ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        const retryAfter = res.headers["retry-after"];
        finish({ statusCode: res.statusCode ?? null, retryAfter, error: null });
        // The body does not matter: drop it and the connection.
        res.destroy();
      },
    );
    const timer = setTimeout(() => {
      finish({ statusCode: null, retryAfter: undefined, error: `no response within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on("error", (e) => finish({ statusCode: null, retryAfter: undefined, error: refusal(e) }));
    req.end(body);
  });
}

function refusal(e: unknown): string {
  if (e instanceof DestinationRefused) return `refused: ${e.message}`;
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : null;
  const message = e instanceof Error ? e.message : String(e);
  return code ? `${code}: ${message}` : message;
}
