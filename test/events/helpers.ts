// Helpers for the events tests: reading the event log through the HTTP API. (Campaigns, sim contacts
// and jobs are set up with the shared helpers of test/helpers/app.ts.)
import assert from "node:assert/strict";
import type { ApiResponse, TestApp } from "../helpers/app.ts";

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
