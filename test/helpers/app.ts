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
