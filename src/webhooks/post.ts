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

/** A response body longer than this is not read: its connection is dropped instead of reused. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Connections are kept open and reused (a TLS handshake per delivery would cost more than the
 * delivery). Pools are kept apart by allowPrivate: a connection opened without the public-address
 * check is never reused by a delivery that needs it (the check runs when a connection opens).
 */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    // An idle connection is closed after 4 s, before the 5 s after which Node servers close theirs.
    const options = { keepAlive: true, maxSockets: 64, timeout: 4_000 };
    agent = protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/**
 * POSTs one delivery. Without allowPrivate, the host is resolved and checked right before the
 * connection, and the connection goes to the checked addresses only. Redirects are not followed.
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
  const first = await postOnce(target, headers, body, opts, agentFor(target.protocol, opts.allowPrivate));
  // A kept connection the receiver closed just as it was reused: the request never reached it. Sent
  // again, once, on a new connection.
  if (first.staleConnection) return postOnce(target, headers, body, opts, false);
  return first;
}

/** One request's result; staleConnection: a kept connection was reset as it was reused. */
type OnceResult = PostResult & { staleConnection?: boolean };

function postOnce(
  target: URL,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowPrivate: boolean },
  agent: http.Agent | false,
): Promise<OnceResult> {
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: OnceResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      target,
      {
        method: "POST",
        agent,
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
        // The body does not matter. It is read so that the connection can be reused, unless it is
        // large or slow: then it is dropped with its connection.
        let bytes = 0;
        const slow = setTimeout(() => res.destroy(), opts.timeoutMs);
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on("close", () => clearTimeout(slow));
      },
    );
    const timer = setTimeout(() => {
      finish({ statusCode: null, retryAfter: undefined, error: `no response within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) =>
      finish({
        statusCode: null,
        retryAfter: undefined,
        error: refusal(e),
        staleConnection: req.reusedSocket && e.code === "ECONNRESET",
      }),
    );
    req.end(body);
  });
}

function refusal(e: unknown): string {
  if (e instanceof DestinationRefused) return `refused: ${e.message}`;
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : null;
  const message = e instanceof Error ? e.message : String(e);
  return code ? `${code}: ${message}` : message;
}
