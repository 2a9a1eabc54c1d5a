import assert from "node:assert/strict";
import { type App, createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { freshDatabase, type TestDatabase } from "./db.ts";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestApp {
  app: App;
  url: string;
  database: TestDatabase;
  /** The API key of organization "acme". */
  key: string;
  orgId: string;
  /** A key of another organization, for isolation checks. */
  newOrgKey(name: string): Promise<string>;
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts?: { key?: string | null; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** Cobbery on a fresh database, listening on a loopback port: tests talk to it over real HTTP. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await freshDatabase();
  const config: Config = loadConfig({ LOG_LEVEL: "silent", ...env });
  const app = await createApp(config, { db: database.db, logger: createLogger("silent") });
  await app.api.listen({ port: 0, host: "127.0.0.1" });
  const address = app.api.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const url = `http://127.0.0.1:${address.port}`;
  const newOrgKey = async (name: string) => (await createApiKey(database.db, name)).key;
  const created = await createApiKey(database.db, "acme");
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { key?: string | null; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? created.key : opts.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(url + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  return {
    app,
    url,
    database,
    key: created.key,
    orgId: created.orgId,
    newOrgKey,
    request,
    async close() {
      await app.api.close();
      await database.drop();
    },
  };
}

/** A flow campaign that is valid and open at any hour. */
export function flowCampaign(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Name: "Housing survey",
    Agent: {
      Type: "flow",
      FirstMessage: "Hi {{ Job.ContactName }}",
      Flow: {
        Start: "intro",
        Nodes: {
          intro: { Say: "Do you have two minutes?", Expect: "yes_no", Next: { yes: "size", no: "bye" } },
          size: {
            Say: "How many people live with you?",
            Expect: "number",
            Save: "household_size",
            Next: "bye",
          },
          bye: { Say: "Thank you.", End: true },
        },
      },
    },
    AnalysisSchema: { type: "object", properties: { household_size: { type: ["number", "null"] } } },
    Schedule: {
      TimeZone: "America/New_York",
      Windows: [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: "00:00", End: "24:00" }],
    },
    ...extra,
  };
}

/** Polls until check() returns a value (not undefined/false), or fails after timeoutMs. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * startTestApp() with an in-process dispatcher running, for the tests that place calls; close()
 * stops the dispatcher, then the app.
 */
export async function startDispatchingApp(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await startTestApp({ COBBERY_DISPATCH_POLL_MS: "20", ...env });
  const dispatcher = t.app.newDispatcher();
  await dispatcher.start();
  return {
    ...t,
    async close() {
      await dispatcher.stop();
      await t.close();
    },
  };
}

// Campaigns, sim contacts and jobs through the HTTP API, shared by the analytics, events, usage,
// exports, metrics and dispatch tests (each suite used to carry its own copy).

export type SimCall = { Answer: string; Replies?: string[] };

/** A sim call that completes flowCampaign()'s survey: yes, then the household size. */
export const ANSWERS_SURVEY: SimCall = { Answer: "human", Replies: ["yes", "3"] };

/** Creates a flowCampaign() retried at once (`schedule` merged into its Schedule); returns its id. */
export async function newCampaign(
  t: TestApp,
  schedule: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
  key?: string,
): Promise<string> {
  const base = flowCampaign().Schedule as Record<string, unknown>;
  const r = await t.request(
    "POST",
    "/v1/campaigns",
    flowCampaign({ Schedule: { ...base, RetryDelaySeconds: 0, ...schedule }, ...extra }),
    key === undefined ? {} : { key },
  );
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.Id as string;
}

/** Registers how `phone` behaves in the simulated carrier (the n-th call follows calls[n]). */
export async function simContact(t: TestApp, phone: string, calls: SimCall[]): Promise<void> {
  const r = await t.request("POST", "/v1/sim/contacts", { PhoneNumber: phone, Calls: calls });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/** Creates a job in the campaign; returns the created job. */
export async function newJob(t: TestApp, campaignId: string, body: Record<string, unknown>): Promise<any> {
  const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** Waits until the job has ended (not pending, not in progress) and returns it. */
export function jobEnded(t: TestApp, id: string, timeoutMs = 30_000): Promise<any> {
  return waitFor(
    async () => {
      const j = (await t.request("GET", `/v1/jobs/${id}`)).body;
      return j.State !== "pending" && j.State !== "in_progress" ? j : undefined;
    },
    timeoutMs,
    `job ${id} to end`,
  );
}
