// Helpers for the events, usage, exports and metrics tests: campaigns, sim contacts and jobs through
// the HTTP API, and waiting for jobs to end.
import assert from "node:assert/strict";
import { type ApiResponse, flowCampaign, type TestApp, waitFor } from "../helpers/app.ts";

/** A flow campaign open at any hour (intro yes/no, household size, bye), retried at once. */
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

export type SimCall = { Answer: string; Replies?: string[] };

export async function simContact(t: TestApp, phone: string, calls: SimCall[]): Promise<void> {
  const r = await t.request("POST", "/v1/sim/contacts", { PhoneNumber: phone, Calls: calls });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

export async function newJob(t: TestApp, campaignId: string, body: Record<string, unknown>) {
  const r = await t.request("POST", `/v1/campaigns/${campaignId}/jobs`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** Waits until the job has ended (not pending, not in progress) and returns it. */
export function jobEnded(t: TestApp, id: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const j = (await t.request("GET", `/v1/jobs/${id}`)).body;
      return j.State !== "pending" && j.State !== "in_progress" ? j : undefined;
    },
    timeoutMs,
    `job ${id} to end`,
  );
}

/** A survey call that completes: yes, then the household size. */
export const ANSWERS_SURVEY: SimCall = { Answer: "human", Replies: ["yes", "3"] };

/** Every page of GET /v1/events with these query parameters. */
export async function allEvents(t: TestApp, query = "", key?: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (;;) {
    const sep = query ? "&" : "";
    const q: string = `${query}${cursor ? `${sep}Cursor=${encodeURIComponent(cursor)}` : ""}`;
    const r: ApiResponse = await t.request("GET", `/v1/events?Limit=1000${q ? `&${q}` : ""}`, undefined, {
      ...(key === undefined ? {} : { key }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    items.push(...r.body.Items);
    cursor = r.body.NextCursor;
    if (!cursor) return items;
  }
}
