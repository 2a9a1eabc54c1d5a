// A webhook receiver on loopback that verifies every request with the standardwebhooks library, and
// helpers to run Cobbery's webhook task in tests.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { BackgroundTask } from "../../src/background.ts";
import type { Db } from "../../src/store/index.ts";
import { fanOutOnce, WEBHOOK_TASK_NAME } from "../../src/webhooks/index.ts";
import { type TestApp, waitFor } from "../helpers/app.ts";

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** The verified, parsed body; null when the signature did not verify. */
  event: { type: string; timestamp: string; data: any } | null;
  verifyError: string | null;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
}

export class Receiver {
  readonly received: Received[] = [];
  /** Whose secret verifies the signatures (set once the webhook exists). */
  secret: string | null = null;
  /** Decides each answer; 204 by default. */
  respond: (r: Received, n: number) => Reply = () => ({ status: 204 });
  private server: http.Server | null = null;
  url = "";
  /** TCP connections the receiver accepted. */
  connections = 0;
  /** While true, requests are read and recorded but never answered (an endpoint that hangs). */
  hang = false;
  /** How long the n-th request waits for its answer (an endpoint that takes its time); none by default. */
  delayMs: (n: number) => number = () => 0;
  /** Requests being held unanswered now, and the most held at once. */
  held = 0;
  maxHeld = 0;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
        let event: Received["event"] = null;
        let verifyError: string | null = null;
        try {
          if (this.secret === null) throw new Error("no secret yet");
          event = new Webhook(this.secret).verify(body, headers) as Received["event"];
        } catch (e) {
          verifyError = (e as Error).message;
        }
        const r: Received = { headers, body, event, verifyError, at: Date.now() };
        this.received.push(r);
        if (this.hang) {
          this.held++;
          this.maxHeld = Math.max(this.maxHeld, this.held);
          res.on("close", () => this.held--);
          return;
        }
        const n = this.received.length;
        const answer = () => {
          const reply = this.respond(r, n);
          res.writeHead(reply.status, reply.headers ?? {});
          res.end();
        };
        const delay = this.delayMs(n);
        if (delay > 0) setTimeout(answer, delay);
        else answer();
      });
    });
    this.server.on("connection", () => this.connections++);
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** Requests about one job (by the Id, or JobId, of the body's data). */
  about(jobId: string): Received[] {
    return this.received.filter((r) => r.event?.data?.Id === jobId || r.event?.data?.JobId === jobId);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    this.server?.closeAllConnections();
    await closed;
  }
}

/** The webhook task of the app's background tasks, started. */
export async function startWebhookTask(t: TestApp): Promise<BackgroundTask> {
  const task = t.app.newBackgroundTasks().find((x) => x.name === WEBHOOK_TASK_NAME);
  if (!task) throw new Error("the webhook task is not in BACKGROUND_TASKS");
  await task.start();
  return task;
}

/** Creates a webhook to the receiver and gives the receiver its secret. */
export async function hookUp(t: TestApp, receiver: Receiver, events: string[] = ["*"]): Promise<any> {
  const r = await t.request("POST", "/v1/webhooks", { Url: receiver.url, Events: events });
  if (r.status !== 201) throw new Error(`webhook not created: ${JSON.stringify(r.body)}`);
  receiver.secret = r.body.Secret;
  return r.body;
}

/** Deletes every webhook of the app's organization: a test's webhooks must not get the next test's events. */
export async function deleteWebhooks(t: TestApp): Promise<void> {
  for (const w of (await t.request("GET", "/v1/webhooks?Limit=1000")).body.Items)
    await t.request("DELETE", `/v1/webhooks/${w.Id}`);
}

export async function deliveriesOf(t: TestApp, webhookId: string): Promise<any[]> {
  const r = await t.request("GET", `/v1/webhooks/${webhookId}/deliveries?Limit=1000`);
  if (r.status !== 200) throw new Error(`deliveries: ${r.status}`);
  return r.body.Items;
}

/**
 * Fans events out until `n` deliveries were made. A round finds nothing while a transaction older
 * than the events is open anywhere on the server (another test's, on a shared PostgreSQL).
 */
export async function fanOutDeliveries(db: Db, n: number): Promise<void> {
  let made = 0;
  await waitFor(
    async () => {
      made += (await fanOutOnce(db, 1000)).deliveries;
      return made >= n;
    },
    20_000,
    `${n} deliveries fanned out`,
  );
}
